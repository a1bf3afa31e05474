"""Page furniture out of article text: share buttons, "READ MORE" links, embedded-tweet signatures, credits.

Real news pages carry text that is not the article: share-button strips, links to other stories,
the signature lines of embedded tweets, newsletter promotions, photo credits, live-blog timestamps.
Left in, they are indexed and quoted as answer sentences. `clean_text` removes them at ingestion;
`is_boilerplate` tells the answerer never to quote a sentence that still holds one (indexes built
before cleaning, or a user's own messy files).

Every pattern is anchored on a fixed marker measured in the demo corpus (bench/cleaning.py counts
each one and lists what it removed); none removes text because it merely looks unusual. Where the
furniture sat between two sentences it is replaced by a line break, so the sentence splitter (which
splits at line breaks) keeps the sentences on either side apart instead of gluing them together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from .normalize import normalize_text

_BREAK = "\n"
_CONTEXT = 60  # characters of context on each side of a removal, for reading what was cut
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MONTHS_SHORT = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
# Apostrophes and quotes in the demo corpus are often mangled ("We'r", 'best friend"'): any one mark or none.
_Q = "[\"'\u2018\u2019\u201c\u201d]?"

# A link to another story ("READ MORE: Egypt's wave of painkiller addiction In 2014, ...") has no mark where its
# headline ends. Headlines (Al Jazeera's, in sentence case) ran to 16 words in the corpus's READ MORE links; the
# first word that can only open a sentence ends the headline. The starters are the capitalised words that open a
# sentence in the demo corpus at least 8 times and at least 9 times as often as they occur capitalised after a
# lowercase word (bench/cleaning.py --starters recounts them), less question words, which open headline parts
# ("Syria - What next?"), and words such as "Read" or "Share" that are themselves page furniture.
_HEADLINE_MAX_WORDS = 16
_SENTENCE_STARTERS = frozenset("""
A About According Across Activists Additional Additionally Addressing After Afterward Almost Also Although Amid
Among An Analysts And Another Any Anyone Apart Apparently Appearing As Aside Asked Assisted At Attempts
Authorities Based Because Before Besides Between Both But By Citing Commenting Conceded Considering Consumers
Critics Currently Despite During Each Earlier Especially Even Eventually Every Everybody Everyone Examples
Experts Few Fifty Finally Following For Fourteen From Further Furthermore Getting Given Globally Having He Her
Here His However Hundreds If In Indeed Initially Instead Investigators It Its Joining Last Later Lawmakers
Lawyers Less Many Meanwhile Millions More Moreover Most Multiple My Nearly Neither Nevertheless None Not Nothing
Now Nowadays Obviously Officials Often On Once One Only Opponents Or Organisers Originally Other Others
Otherwise Outside Over Overall Passengers Perhaps Police Politicians Polls Previously Prior Prosecutors
Protesters Rather Recent Recently Referring Researchers Residents Responding Sadly Separately Seven Several She
Shortly Similar Similarly Since So Some Sometimes Sources Speaking Starting Still Such Suddenly Supporters
Taking Tens That The Their Then There Therefore These They Thirty This Those Though Thousands Three Throughout
Thus Traditionally Ultimately Under Unfortunately Unlike Until Upon Using Voters We When Whereas While With
Within Writing Yesterday Yet""".split())
# A headline does not end on a comma or on one of these words ("... Turkish analysts told Al Jazeera that while
# the "positive" phone call ..."), so a sentence-opening word right after one is still inside a sentence.
_NOT_HEADLINE_ENDS = frozenset("a an and as at but by for from in of on or said that the to told while with".split())


@dataclass(frozen=True)
class Pattern:
    """One kind of page furniture: `regex` finds it; `span` (default: the whole match) is the part removed."""

    name: str
    regex: re.Pattern[str]
    replacement: str = _BREAK
    span: Callable[[re.Match[str]], tuple[int, int]] | None = None

    def cut(self, match: re.Match[str]) -> tuple[int, int]:
        return self.span(match) if self.span else match.span()


def _story_link_span(match: re.Match[str]) -> tuple[int, int]:
    """"READ MORE: <headline>": the label plus the headline, which ends before the first word that opens a
    sentence (an opening double quote, a word such as "The" or "According", or any capitalised word after a
    headline-ending ? or !). When no such word comes within the headline's length, only the label goes: a
    headline left in place is better than a sentence of the article removed."""
    start, label_end = match.span()
    words = list(re.finditer(r"\S+", match.string[label_end:label_end + 400]))
    for i in range(1, min(len(words), _HEADLINE_MAX_WORDS + 1)):
        word, before = words[i].group(), words[i - 1].group()
        if word.startswith("Jazeera:") and before == "Al":
            return start, label_end + words[i - 1].start()  # "Al Jazeera: How did ...": an interview's question
        if before.endswith("."):
            break  # a full stop: the text is already past the headline, whose end was missed
        if before.endswith((":", ",")) or before in {"-", "\u2013"} or before.lower() in _NOT_HEADLINE_ENDS:
            continue  # "Dying of hunger: What is a famine?", "Yemen - Who controls what": still the headline
        bare = word.lstrip("\"'\u2018\u201c(")
        opens = word[0] in "\"\u201c" and bare[:1].isupper() or bare.rstrip(",") in _SENTENCE_STARTERS
        if opens or (before[-1] in "?!" and bare[:1].isupper()):
            return start, label_end + words[i].start()
    return match.span()


def _p(name: str, pattern: str, flags: int = 0, replacement: str = _BREAK,
       span: Callable[[re.Match[str]], tuple[int, int]] | None = None) -> Pattern:
    return Pattern(name, re.compile(pattern, flags), replacement, span)


# HuffPost's newsletter promotions, each ending in "Learn more": the 22 distinct blurbs in the demo corpus.
_HUFFPOST_BLURBS = (
    r"Do you have information you want to share with the Huffington Post\? Here" + _Q + r"s how\.",
    r"How will (?:Donald )?Trump" + _Q + r"s (?:first 100 days|administration) impact (?:you|YOU)\?"
    r"(?: Subscribe, choose the community[^.\n]{0,200}? in office\.)?",
    r"The Morning Email helps you start your workday[^.\n]{0,120}\.",
    r"HuffPost Lifestyle is a daily newsletter[^.\n]{0,80}one email at a time\.",
    r"We" + _Q + r"r basically your best friend[^.\n]{0,20}with better (?:taste|advice)\.",
    r"THE spot for your favorite fan theories and the best Netflix recs\.",
    r"Start here, with the latest stories and news in progressive parenting\.",
    r"Don" + _Q + r"t miss out " + _Q + r" ?be the first to know all the latest and breaking news\.",
    r"Start your workday the right way with the news that matters most\.",
    r"The Huffington Post" + _Q + r"s Weird News email delivers[^.\n]{0,100}\.",
    r"The truth is stranger than fiction\. Step into the world of weird news\.",
    r"Don" + _Q + r"t be the last to watch the viral video everyone is talking about\.",
    r"Never miss a thing\. Sign up for up-to-the-minute breaking news alerts[^.\n]{0,60}\.",
    r"HuffPost Entertainment is your one-stop shop[^\n]{0,160}?six days a week\.",
    r"HuffPost Parents offers a daily dose of personal stories[^.\n]{0,120}\.",
    r"Level up\. Read THIS and be the most interesting person at your dinner party\.",
    r"Stay plugged in with the stories on black life and culture that matter\.",
    r"Get exclusive interviews where your favorite celebs spill the tea\.",
    r"We" + _Q + r"r spilling the tea on all the queer news that matters to you\.",
    r"Spilling the tea 24/7\. Never miss a beat\.",
    r"The reality of being a woman " + _Q + r" ?by the numbers\.",
    r"We go under the hood\.[^\n]{0,160}?We" + _Q + r"re here to tell that story\.",
)

PATTERNS: tuple[Pattern, ...] = (
    # Al Jazeera: links to other stories and videos inside the text.
    _p("READ MORE: <headline>", r"\bREAD MORE\s*(?::-?|-)\s*", span=_story_link_span),
    _p("WATCH: <headline>", r"(?:^|(?<=[.!?\"'] ))WATCH:-?\s*", re.M, span=_story_link_span),
    # Embedded tweets and Instagram posts: the image link, the t.co link and the signature line.
    _p("pic.twitter.com link", r"\s*\bpic\.twitter\.com/\w+"),
    _p("t.co link", r"\s*\bhttps?://t\.co/\w+", replacement=" "),
    _p("tweet signature \"— Name (@handle) Month D, YYYY\"",
       r"\s*[\u2014\u2013\"-]\s*(?:[^\s(@\"]+ ){1,6}\(@\w{1,15}\)\s*[-\u2014]?\s*(?:" + _MONTHS
       + r") \d{1,2}, \d{4}"),
    _p("Instagram signature \"A post shared by Name (@handle) on ...\"",
       r"\s*A (?:post|photo|video) (?:shared|posted) by [^()\n]{1,60}\(@[\w.]{1,30}\) on (?:" + _MONTHS_SHORT
       + r") \d{1,2}, \d{4} at \d{1,2}:\d{2}\s?[ap]m [A-Z]{2,4}"),
    # DW (and any site's copy of the strip, in a user's own files): the share-button strip with its permalink,
    # teaser dates of related stories, author initials.
    _p("share-button strip \"Send Facebook Twitter ... Permalink\"",
       r"\s*(?:- )?Send Facebook Twitter [A-Za-z+ ]{0,120}?Permalink https?://[\w.-]+/p/\w+(?:\s+-(?=\s|$))?"),
    _p("related-story date \"(dd.mm.yyyy)\"", r"\s*\((?:0[1-9]|[12]\d|3[01])\.(?:0[1-9]|1[0-2])\.(?:19|20)\d\d\)"),
    _p("author initials \"jm/kl (Reuters, AP)\"",
       r"\s+[a-z]{2,4}(?:/[a-z]{2,4})+ ?\((?:[A-Za-z]+|, ?)+\)\s*$", replacement=""),
    # Live blogs: "21.10 Exit polls show ..." keeps its sentence and loses the time.
    _p("live-blog timestamp \"21.10 ...\"",
       r"(?:(?<=^)|(?<=\n)|(?<=[.!?\"] ))(?:- ?)?(?:[01]?\d|2[0-3])[.:][0-5]\d(?:-| )(?=[A-Z\"])", re.M),
    # BBC.
    _p("\"Share this with\"", r"\s*\bShare this with\b"),
    _p("\"Media playback is not supported on this device\"", r"\s*Media playback is not supported on this device"),
    _p("BBC newsletter and follow-us lines",
       r"\s*(?:Get news from the BBC in your inbox, each weekday morning|Follow us on (?:Facebook|Twitter|Instagram)"
       r"[^.\n]{0,160}\.|If you have a story suggestion email \S+@bbc\.co\.uk\.?)"),
    # HuffPost.
    _p("HuffPost newsletter blurb", r"\s*(?:Share this slide:\s*)?(?:" + "|".join(_HUFFPOST_BLURBS) + ")"),
    _p("\"Share this slide:\"", r"\s*\bShare this slide:"),
    _p("\"Learn more\" at the end", r"\s*\bLearn more\s*$", replacement=""),
    # Credits and sign-offs.
    _p("\"Source:-\" credit", r"\s*\bSource:-[^\n]{1,80}$", re.M, replacement=""),
    _p("China Daily page line \"(China Daily European Weekly ... page27)\"",
       r"\s*(?:\S+@chinadaily\.com\.cn\s*)?\(China Daily European Weekly [\d/]{8,10} ?page ?\d+\)"),
    _p("photo credit",
       r"\s*(?:\(Credit: [^()\n]{1,80}\)|Photo credits? - [^.\n]{1,120}?Getty Images"
       r"|Images courtesy of [A-Z][\w ,/&-]{0,80}(?:Getty|Reuters)(?: Images)?|[A-Z][a-z]+ [A-Z][a-z]+ / Getty Images)"),
    _p("China Daily photo credit \"Name / For China Daily\"",
       r"(?:(?<=^)|(?<=[.!?\"] ))(?:Photos? )?(?:(?:by [^/\n]{1,60}|(?:[A-Z][a-z]+ ){1,2})/ (?:For )?|Provided to )"
       r"China [Dd]aily(?:; [^;/\n]{1,80}/ (?:For )?China [Dd]aily)*(?![ ,]*[a-z])", re.M),
    _p("Al Jazeera opinion disclaimer",
       r"\s*The views expressed in this article are the author" + _Q
       + r"s own and do not necessarily reflect Al Jazeera" + _Q + r"s editorial policy\."),
)

_BLANK_AROUND_BREAK = re.compile(r"[ \t]*\n[ \t]*")
_SPACES = re.compile(r"[ \t]{2,}")
_MANY_BREAKS = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """`text` without the page furniture of PATTERNS; idempotent, and a fixed point of `normalize_text`."""
    cleaned = text
    for pattern in PATTERNS:
        cleaned = _apply(pattern, cleaned)[0]
    return text if cleaned == text else normalize_text(_tidy(cleaned))  # "word pic.twitter.com/x ." -> "word."


class Removal(NamedTuple):
    pattern: str
    text: str
    before: str  # the text just before and after the removal, as it stood when the pattern ran
    after: str


def removed_spans(text: str) -> list[Removal]:
    """What `clean_text` removes from `text`, in pattern order, with context."""
    removed: list[Removal] = []
    for pattern in PATTERNS:
        text, spans = _apply(pattern, text)
        removed.extend(spans)
    return removed


def is_boilerplate(sentence: str) -> bool:
    """True when `sentence` holds page furniture (a share strip, a READ MORE link, a tweet signature, ...)."""
    return any(pattern.regex.search(sentence) for pattern in PATTERNS)


def _apply(pattern: Pattern, text: str) -> tuple[str, list[Removal]]:
    parts: list[str] = []
    removed: list[Removal] = []
    position = 0
    for match in pattern.regex.finditer(text):
        start, end = pattern.cut(match)
        if start < position:
            continue  # inside what the previous match already removed
        parts.append(text[position:start])
        parts.append(pattern.replacement if 0 < start and end < len(text) else "")
        removed.append(Removal(pattern.name, text[start:end].strip(), text[max(0, start - _CONTEXT):start],
                               text[end:end + _CONTEXT]))
        position = end
    parts.append(text[position:])
    return "".join(parts), removed


def _tidy(text: str) -> str:
    text = _BLANK_AROUND_BREAK.sub("\n", text)
    text = _SPACES.sub(" ", text)
    text = _MANY_BREAKS.sub("\n\n", text)
    return text.strip()
