"""Checking a generated answer, sentence by sentence, against the articles it cites.

A model can write a sentence that no article supports, cite the wrong article, change a number
while keeping the gist, or keep the article's words while flipping its meaning (a negation, swapped
roles, a reversed stance or outcome, a wrong cause). So each sentence of its answer is split off
with its [n] markers and kept only when

- it cites at least one passage the model was given (a marker pointing anywhere else is dropped),
- a sentence of a cited article *entails* it (newsqa.entail: word alignment with polarity, modality,
  antonyms, quantifiers, order and cause; probability at least `GenerationSettings.support_threshold`,
  tuned by bench/generative.py --adversarial). Any sentence of the cited article may support it, not
  only the retrieved passages; a sentence joining two clauses (", and") may have one per clause,
- every number and date in it occurs in its supporting sentences, and every proper name in the cited
  article (with its outlet, date and title).

A kept sentence is cited with its supporting sentences, exact substrings of the article, like an
extractive answer. Everything else is removed and listed with the reason.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from ..chunking import split_sentences
from ..entail import CAUSE, answers, explain, judge, parse, permuted
from ..lexical import _TOKEN, STOPWORDS, fold, words
from ..storage import StoreReader
from ..types import Citation, Hit, Unsupported
from .compose import Candidate, cite, human_date
from .prompt import Source

_MARKER = re.compile(r"\[\s*(?:(?:passage|source|article)\s*)?(\d+(?:\s*[,;]\s*\d+)*)\s*\]", re.IGNORECASE)
_LEADING_MARKERS = re.compile(r"^(?:\s*" + _MARKER.pattern + r")+", re.IGNORECASE)
_MARKERS_BEFORE_STOP = re.compile(r"\s*((?:" + _MARKER.pattern + r"\s*)+)([.!?])", re.IGNORECASE)
_THINKING = re.compile(r"<think>.*?(?:</think>|\Z)", re.IGNORECASE | re.DOTALL)  # reasoning models think aloud
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_DECORATION = re.compile(r"\*\*|__|^#+\s*", re.MULTILINE)  # Markdown emphasis and headings
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")  # letters and digits: "CO2", "CsPbI3", "S-400"
# Words that open a sentence with a capital without being names (with STOPWORDS).
_OPENERS = frozenset((
    "according", "additionally", "afterwards", "already", "besides", "consequently", "currently", "earlier",
    "eventually", "finally", "first", "following", "furthermore", "however", "initially", "instead", "later",
    "likewise", "meanwhile", "moreover", "nevertheless", "overall", "previously", "recently", "second", "since",
    "still", "subsequently", "therefore", "thus", "today", "whose", "yet", "yesterday", "nobody", "none", "nothing",
    "although", "though", "despite", "even", "whether", "never", "neither", "every", "each", "most", "many"))
CALENDAR = frozenset((
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
_NUMBER_WORDS = {w: str(i) for i, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"))}
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")  # combining marks
_CONJUNCT = re.compile(r", and |; |, while |, but ")  # where a merged sentence's clauses meet ("A and B" is one)
MIN_CLAUSE_WORDS = 3  # a shorter piece between them is no statement of its own ("..., and so on")
TOP_SENTENCES = 3  # article sentences judged per claim, the most overlapping first: the source sentence of
# an adversarial-set claim ranks first for 481 of 510, in the top 3 for 509
PAIR_BELOW = 0.85  # a claim edited from one sentence has nearly all its words in it: on the tune split,
# 0.016 of flips (cause flips aside) and 0.019 of faithful rewordings had less in their best sentence, 6 of 7
# sentences merged from two
# A sentence that restates the question and answers it ("Why did the US sanction Turkey: the S-400.") is
# checked as an answer: the answer's words in one sentence (or two adjacent) that holds at least
# QUESTION_COVERAGE of the question's words.
_QUESTION_CLAIM = re.compile(r"^(?:\S+\s+){0,3}?(?:who|whom|whose|what|when|where|why|how|which)\b"
                             r"(?P<question>[^:]*):\s*(?P<answer>[^:]+)$", re.IGNORECASE)
QUESTION_COVERAGE = 0.25  # restated answers of the replay's calibration questions (bench/generative.py
# --calibrate, odd questions) held 0.27 to 0.93 of their question's words in their best sentence (median 0.60)
_DECLINES = re.compile(
    r"\b(?:(?:do|does|did|could|can)(?: not|n't)|cannot|no)\b[^.]{0,60}?\b(?:cover|say|says|mention|contain|"
    r"provide|include|address|answer|information|details?|specify|discuss|report)", re.IGNORECASE)


@dataclass
class Claim:
    """One sentence of a generated answer: its text without markers, and the passages it cites."""

    text: str
    cited: list[int] = field(default_factory=list)


@dataclass
class Verdict:
    """What survived: answer text with renumbered markers and citations, and what was removed."""

    text: str
    citations: list[Citation]
    kept: int
    unsupported: list[Unsupported]
    declined: bool  # the model said the articles do not cover the question
    closeness: dict[str, float] = field(default_factory=dict)  # sentence -> entailment by its best support


def claims(text: str) -> list[Claim]:
    """The sentences of a generated answer, each with the passage numbers it cites. Markers
    opening a sentence ("... sanctions. [1] The ...") belong to the sentence before."""
    text = _DECORATION.sub("", _LIST_ITEM.sub("", _THINKING.sub("", text)))
    text = _MARKERS_BEFORE_STOP.sub(lambda m: f"{m.group(m.lastindex)} {m.group(1).strip()}", text)  # "x [1]." -> "x. [1]"
    out: list[Claim] = []
    for span in split_sentences(text):
        sentence = text[span.start:span.end]
        leading = _LEADING_MARKERS.match(sentence)
        if leading and out:
            out[-1].cited += _numbers(leading.group(0))
            sentence = sentence[leading.end():]
        cited = _numbers(sentence)
        bare = " ".join(_MARKER.sub(" ", sentence).split())
        bare = re.sub(r"\s+([.,;:!?])", r"\1", bare)
        if bare.strip(" .,;:!?\"'"):
            out.append(Claim(bare, cited))
        elif out:
            out[-1].cited += cited
    return out


def verify(text: str, sources: list[Source], reader: StoreReader, threshold: float) -> Verdict:
    """Keep the sentences of `text` that the cited articles entail (see the module docstring)."""
    given = {s.number: s for s in sources}
    found = claims(text)
    cited = sorted({n for c in found for n in c.cited if n in given})
    articles = {n: _article_sentences(reader, given[n].hits[0]) for n in cited}
    common = _common_words(s.text for s in sources)
    kept: list[tuple[Claim, list[tuple[Candidate, float]]]] = []
    removed: list[Unsupported] = []
    declined = False
    closeness: dict[str, float] = {}
    for claim in found:
        valid = [n for n in dict.fromkeys(claim.cited) if n in given]
        if not valid:
            declined = declined or (not claim.cited and bool(_DECLINES.search(claim.text)))
            removed.append(Unsupported(claim.text, _uncited_reason(claim)))
            continue
        score, support, why = _judged(claim.text, [articles[n] for n in valid], threshold)
        closeness[claim.text] = score
        if why:
            removed.append(Unsupported(claim.text, why))
            continue
        supporting = {c.hit.article_id for c in support}
        cited_sources = [given[n] for n in valid if given[n].hits[0].article_id in supporting]
        absent = _absent(claim.text, support, cited_sources, reader, common)
        if absent:
            removed.append(Unsupported(claim.text, f"{', '.join(absent)} not in the cited text"))
            continue
        kept.append((claim, [(c, score) for c in support]))
    answer, citations = _render(kept, reader)
    return Verdict(answer, citations, len(kept), removed, declined, closeness)


def _judged(claim: str, articles: list[list[Candidate]], threshold: float) -> tuple[float, list[Candidate], str]:
    """The claim's score, its best support in the cited articles, and why it is unsupported ("" if it is not)."""
    question = _QUESTION_CLAIM.match(claim)
    if question:
        score, support = max((_best(claim, sentences, _answer_judge(question)) for sentences in articles),
                             key=lambda pair: pair[0])
        if score < QUESTION_COVERAGE:
            return score, support, (f"no sentence of the cited articles states this answer to the question "
                                    f"(best {score:.2f} < {QUESTION_COVERAGE:.2f})")
        return score, support, ""
    score, support = max((_support(claim, sentences) for sentences in articles), key=lambda pair: pair[0])
    if score < threshold:
        best = " ".join(c.text for c in support)
        return score, support, (f"not entailed by any sentence of the cited articles (best {score:.2f} < "
                                f"{threshold:.2f}: {explain(best, claim)})")
    return score, support, ""


def forget() -> None:
    """Empty the caches of parsed sentences and article words, so that a benchmark times answers cold."""
    for cached in (parse, _plain_words, _words_in, _numbers_in):
        cached.cache_clear()


def _uncited_reason(claim: Claim) -> str:
    if not claim.cited and _DECLINES.search(claim.text):
        return "says the articles do not cover it"
    if claim.cited:
        return f"cites {', '.join(f'[{n}]' for n in dict.fromkeys(claim.cited))}, which the model was not given"
    return "cites no passage"


def _article_sentences(reader: StoreReader, hit: Hit) -> list[Candidate]:
    """Every sentence of the hit's article, as candidates citing it."""
    article = reader.article(hit.article_id)
    if article is None:
        return []
    return [Candidate(hit, 0, i, span, article.text[span.start:span.end])
            for i, span in enumerate(reader.sentences(hit.article_id))]


def _support(claim: str, sentences: list[Candidate]) -> tuple[float, list[Candidate]]:
    """How strongly the best sentence (or, for a claim joining clauses, the best sentence of each clause)
    entails the claim, and those sentences. Never clause by clause when the whole claim is its best sentence with
    the names in another order: "B is the chairman of A, and is the dean of C" from "A is the chairman of B, and
    is the dean of C" has each clause right on its own (on the tune split, 2 of 84 role swaps)."""
    whole, best = _best(claim, sentences)
    parts = [p for p in _CONJUNCT.split(claim) if len(p.split()) >= MIN_CLAUSE_WORDS]
    if len(parts) < 2:
        return whole, best
    judged = [_best(part, sentences) for part in parts]
    joined = min(score for score, _ in judged)
    if joined <= whole or permuted(" ".join(c.text for c in best), claim):  # its clauses may each hold, swapped
        return whole, best
    return joined, list({id(c): c for _, found in judged for c in found}.values())


Judge = Callable[[str, str], tuple[float, float]]  # (support, claim) -> (score, coverage)


def _answer_judge(question: re.Match[str]) -> Judge:
    """Judges a sentence restating a question by whether the support answers it (entail.answers)."""
    def judged(support: str, claim: str) -> tuple[float, float]:
        score = answers(support, question.group("question"), question.group("answer"))
        return score, score
    return judged


def _best(claim: str, sentences: list[Candidate], judged_by: Judge = judge) -> tuple[float, list[Candidate]]:
    """The best support of `claim` among the TOP_SENTENCES sentences sharing most words with it, each alone or,
    when none alone holds PAIR_BELOW of its words, joined to a neighbour (a model merges adjacent sentences).
    Never joined when the claim states a cause, which must be bound to its effect in one sentence ("X because
    Y" is not supported by "X." next to "Y."). The judge is the candidate holding most of the claim's words (then
    the higher score): a flip keeps its source's words, so its source judges it, not a sentence that happens
    to pass (on the tune split: one more role swap caught, no faithful rewording lost)."""
    wanted = _plain_words(claim) - STOPWORDS
    order = sorted(range(len(sentences)), key=lambda i: -len(wanted & _plain_words(sentences[i].text)))
    top = order[:TOP_SENTENCES]
    scored = [(*judged_by(sentences[i].text, claim), [sentences[i]]) for i in top]
    if not CAUSE.search(claim) and max((coverage for _, coverage, _ in scored), default=0.0) < PAIR_BELOW:
        pairs = [sentences[j:j + 2] for i in top for j in (i - 1, i) if 0 <= j < len(sentences) - 1]
        scored += [(*judged_by(" ".join(c.text for c in pair), claim), pair) for pair in pairs]
    score, _, best = max(scored, key=lambda row: (row[1], row[0]), default=(0.0, 0.0, []))
    return score, best


@functools.lru_cache(maxsize=8192)
def _plain_words(text: str) -> frozenset[str]:
    """Lower-case words, unstemmed: enough to rank an article's sentences, and ten times cheaper than parsing."""
    return frozenset(_TOKEN.findall(text.lower()))


def _absent(claim: str, support: list[Candidate], sources: list[Source], reader: StoreReader,
            common: set[str]) -> list[str]:
    """Numbers and dates missing from the supporting sentences, names missing from the cited articles."""
    meta = "\n".join(_metadata(s.hits[0]) for s in sources)
    names_text = "\n".join(a.text for s in sources if (a := reader.article(s.hits[0].article_id)) is not None)
    return absent_facts(claim, names_text + "\n" + meta, "\n".join(c.text for c in support) + "\n" + meta, common)


def facts(sentence: str, common: set[str]) -> tuple[list[str], list[str]]:
    """The numbers and the names (proper names, months, weekdays) a sentence states. A capitalized
    word the passages also use in lower case ("Officials", "President") is not taken for a name."""
    numbers = [n.replace(",", "") for n in _NUMBER.findall(sentence)]
    names = []
    for i, word in enumerate(_WORD.findall(sentence)):
        folded = fold(word)
        opener = i == 0 and (folded in _OPENERS or folded.endswith("ing"))  # "Moving to ...": not a name
        if not word[0].isupper() or folded in STOPWORDS or opener:
            continue
        if folded in CALENDAR or folded not in common:
            names.append(word)
    return numbers, names


def missing_facts(sentence: str, sources: list[Source], common: set[str]) -> list[str]:
    """The numbers and names of `sentence` that the sources' text (with outlet, date, title) lacks."""
    text = "\n".join(s.text for s in sources) + "\n" + "\n".join(_metadata(s.hits[0]) for s in sources)
    return absent_facts(sentence, text, text, common)


def absent_facts(sentence: str, names_text: str, numbers_text: str, common: set[str]) -> list[str]:
    """The numbers (and dates) of `sentence` missing from `numbers_text` and its names missing from `names_text`."""
    have_numbers, dates = _numbers_in(numbers_text)
    have_words = _words_in(names_text)
    numbers, names = facts(sentence, common)
    absent = [n for n in numbers if n not in have_numbers]
    for name in names:
        parts = [w for w in words(name) if len(w) > 1 and w not in ("s",)]
        if any(p not in have_words for p in parts) or (fold(name) in CALENDAR and fold(name) not in dates):
            absent.append(name)
    return list(dict.fromkeys(absent))


@functools.lru_cache(maxsize=64)  # the cited articles' text, read for every sentence of an answer
def _words_in(text: str) -> frozenset[str]:
    """Words of `text` a name may be spelled with: "U.S." also reads "US", "United States" also "us"."""
    folded = _fold_fast(text)
    return frozenset(_TOKEN.findall(folded)) | frozenset(_TOKEN.findall(folded.replace(".", ""))) | _initials(text)


def _fold_fast(text: str) -> str:
    """lexical.fold for a whole article: the same letters, without its character-by-character loop (10x slower)."""
    if text.isascii():
        return text.casefold()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


@functools.lru_cache(maxsize=64)
def _numbers_in(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The numbers (digits or words up to twenty) and the month and day names of `text`."""
    found = set(_TOKEN.findall(_fold_fast(text)))
    numbers = {n.replace(",", "") for n in _NUMBER.findall(text)}
    numbers |= {_NUMBER_WORDS[w] for w in found & _NUMBER_WORDS.keys()}
    return frozenset(numbers), frozenset(found & CALENDAR)


def _metadata(hit: Hit) -> str:
    return f"{hit.source} {hit.published} {human_date(hit.published)} {hit.title}"


def _initials(text: str) -> set[str]:
    """Acronyms of capitalized runs: "United States" -> "us", "European Union" -> "eu"."""
    out = set()
    for run in re.findall(r"(?:\b[A-Z][a-z]+(?:\s+|$)){2,}", text):
        out.add("".join(w[0] for w in run.split()).lower())
    return out


def _common_words(texts: object) -> set[str]:
    """Words the passages use in lower case: ordinary words, not names."""
    return {fold(w) for text in texts for w in _WORD.findall(str(text)) if w[0].islower()}


def _numbers(text: str) -> list[int]:
    return [int(n) for m in _MARKER.finditer(text) for n in re.split(r"\s*[,;]\s*", m.group(1))]


def _render(kept: list[tuple[Claim, list[tuple[Candidate, float]]]], reader: StoreReader) -> tuple[str, list[Citation]]:
    """Answer text with markers renumbered 1, 2, ... in order of first use (one number per article)
    and one citation per supporting sentence."""
    numbers: dict[str, int] = {}
    parts: list[str] = []
    citations: list[Citation] = []
    seen: set[tuple[str, int]] = set()
    for claim, supporting in kept:
        marks = []
        for candidate, score in supporting:
            article_id = candidate.hit.article_id
            number = numbers.setdefault(article_id, len(numbers) + 1)
            if f"[{number}]" not in marks:
                marks.append(f"[{number}]")
            if (article_id, candidate.span.start) in seen:
                continue
            seen.add((article_id, candidate.span.start))
            article = reader.article(article_id)
            assert article is not None
            citations.append(cite(number, article, reader.sentences(article_id), candidate.span, score))
        parts.append(f"{claim.text} {''.join(marks)}")
    return " ".join(parts), citations
