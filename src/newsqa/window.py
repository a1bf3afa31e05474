"""The articles' time window: when a question asks for an outcome the articles end before.

"Who won the French presidential election?" asked of articles that end in March 2017 has no
answer in them, however well they cover the campaign: they announce the vote ("the first round
will be held on April 23") and forecast it ("favourite to win"). Such a question gets what the
articles said, marked as said before the outcome, with `Answer.notice` saying where they end.

The end that matters is the newest article on the subject (the retrieved evidence), not the
newest in the index: one stray later article (the demo's 2020 sample) must not hide that all the
coverage of an election stops weeks before it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .answer.compose import human_date
from .answer.extractive import question_kind
from .lexical import term_set, terms
from .question import named_terms
from .storage import StoreReader
from .types import Hit

# The question asks what was expected, announced or planned, or what will be: the articles answer
# that themselves ("When will Britain leave the EU?", "in which year is Beyonce now set to headline?").
_ASKS_AHEAD = re.compile(r"\b(will|would|shall|going to|(is|are|was|were)( now)? (set|due|expected|scheduled|"
                         r"planned|likely|poised) to|(was|were) to|expect\w*|schedul\w*|plan(s|ned)? to|favou?r\w*|"
                         r"forecast\w*|predict\w*|could|should|might|upcoming|announce\w*)\b", re.I)
# The question asks for an outcome: who won, the result, the sentence, the vote, what was found.
_ASKS_OUTCOME = re.compile(r"\b(won|wins?|winners?|elected|results?|scores?|sentenced|sentences?|convicted|verdict|"
                           r"acquitted|voted?|votes|share of the vote|succeeded|successor|replaced?|ended|end|"
                           r"arrest(ed)?|find|found|findings|final|outcome|beat|defeated|confirm(ed)?)\b", re.I)
# A sentence that announces, expects or forecasts rather than reports what happened.
_FORECAST = re.compile(r"\b(will|would|shall|(is|are|was|were) (expected|due|set|scheduled|poised|likely|"
                       r"tipped) to|expected to|due to be|set to (be|become|win)|scheduled (for|to)|to be held|"
                       r"could (face|be|win|get)|may (win|face|be)|likely to|favou?rites? to|if (convicted|found "
                       r"guilty|elected)|plans? to|upcoming|next (week|month|year))\b", re.I)

# A forecast sets the date of the asked-about event only if it holds this share of the question's terms.
# On the tune split: "The first round of the French presidential election will be held on April 23" holds
# 3 of the 4 terms of "Who won the French presidential election?"; the one answerable question whose
# cited sentence forecast another event ("Presidential elections are coming up in 2018", asked about
# Navalny's sentences) held 4 of 13.
SCHEDULE_OVERLAP = 0.5
# A subject still reported this close to where the outlets' coverage ends was still unfolding; if the quotes
# never use the outcome asked about ("arrest"), it came later. On the tune split, the one such after-corpus
# question (the Bode Museum coin: arrests asked, coverage of it ending 2 days before the articles) is caught;
# the answerable outcome questions this recent (3 days) state their outcome.
STILL_DEVELOPING_DAYS = 3

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTH = "(?P<month>" + "|".join(_MONTHS) + ")"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
# Dates a question names: "9 May", "May 9", "May 2017", "September 2017", "2018" (day and year both optional).
_DATES = [re.compile(p, re.I) for p in (
    rf"\b{_DAY}\s+{_MONTH}(?:,?\s+{_YEAR})?\b",
    rf"\b{_MONTH}\s+{_DAY}\b(?:,?\s+{_YEAR}\b)?",
    rf"\b{_MONTH}(?:'s)?\s+{_YEAR}\b",
    rf"(?<![\w-]){_YEAR}(?![\w-])",
)]


@dataclass(frozen=True)
class Window:
    """Where the articles on a question's subject end, and what the question asks about after that."""

    end: str  # ISO date of the newest article on the subject
    after: str  # the date the question names after the end ("May 2017"), or "" when the articles only forecast it
    developing: bool = False  # the story was still unfolding when the articles end, and they do not say what came of it

    @property
    def notice(self) -> str:
        end = human_date(self.end)
        if self.developing:
            return (f"The articles on this end on {end}, while the story was still unfolding: they do not say "
                    "what came of it.")
        if self.after:
            return f"The articles end on {end}, before {self.after}: they cannot say what happened then."
        return (f"The articles on this end on {end}, before the outcome: they only say what was expected or "
                "announced then, not what happened.")


def window(question: str, hits: Sequence[Hit], quotes: Sequence[tuple[str, str]], reader: StoreReader) -> Window | None:
    """The window notice a question needs, or None. The question asks for an outcome (not what was
    expected), and either it names a date after the newest article on its subject, or the sentences
    that would answer it (`quotes`: (sentence, its publication date), best first) only announce or
    forecast it: the best one does, or one sets it on a date after that newest article."""
    if not asks_outcome(question):
        return None
    end = evidence_end(hits, reader, question)
    if not end:
        return None
    later = named_after(question, end)
    if later:
        return Window(end, later)
    forecasts = [(sentence, published) for sentence, published in quotes if is_forecast(sentence)]
    asked = term_set(question)
    for sentence, published in forecasts:
        scheduled = _scheduled_after(sentence, published, end)
        if scheduled and len(asked & term_set(sentence)) >= SCHEDULE_OVERLAP * len(asked):
            return Window(end, scheduled)
    if quotes and forecasts and forecasts[0] == quotes[0]:
        return Window(end, "")
    if _still_developing(question, end, reader) and not _states_outcome(question, [q for q, _ in quotes]):
        return Window(end, "", developing=True)
    return None


def _still_developing(question: str, end: str, reader: StoreReader) -> bool:
    """Whether the subject was still being reported in the last days the outlets cover: what came of it
    may have come after them."""
    try:
        gap = dt.date.fromisoformat(reader.coverage_end()) - dt.date.fromisoformat(end)
    except ValueError:
        return False
    return gap.days <= STILL_DEVELOPING_DAYS


def _states_outcome(question: str, sentences: list[str]) -> bool:
    """Whether the quotes use the outcome the question asks about ("arrest" for "When did police arrest ...")."""
    asked = set(terms(" ".join(m.group(0) for m in _ASKS_OUTCOME.finditer(question))))
    return bool(asked & term_set(" ".join(sentences)))


def _scheduled_after(sentence: str, published: str, end: str) -> str:
    """A date after `end` that a forecast sentence sets ("will be held on April 23"), read from its
    publication date; "" when it sets none."""
    try:
        reference = dt.date.fromisoformat(published[:10])
    except ValueError:
        return ""
    return named_after(sentence, end, reference)


def asks_outcome(question: str) -> bool:
    """Whether a question asks what came of something (who won, the sentence, the vote), not why or how it
    happened (the articles give reasons as they happen) nor what was expected."""
    if question_kind(question) in ("why", "how"):
        return False
    return bool(_ASKS_OUTCOME.search(question)) and not _ASKS_AHEAD.search(question)


def is_forecast(sentence: str) -> bool:
    """Whether a sentence announces, expects or forecasts ("will be held", "could face", "favourite to win")."""
    return bool(_FORECAST.search(sentence))


def evidence_end(hits: Sequence[Hit], reader: StoreReader, question: str) -> str:
    """The newest publication date among the retrieved articles on the subject (those that mention a name
    the question names, when any does); with none retrieved (a period filter
    beyond the articles), the newest article published before the first date the question names."""
    names = named_terms(question)
    on_subject = [h for h in hits if names & term_set(h.text)] or hits  # a stray later article is not the subject
    dated = [h.published[:10] for h in on_subject if h.published]
    if dated:
        return max(dated)
    named = question_dates(question, None)
    before = min((start for _, start in named), default=None)
    return reader.newest_published(before.isoformat() if before else "")[:10]


def named_after(text: str, end: str, reference: dt.date | None = None) -> str:
    """The first date a text names that begins after `end`, in words ("May 2017"), or "". A date without
    a year is read nearest to `reference` (default: `end`)."""
    try:
        last = dt.date.fromisoformat(end[:10])
    except ValueError:
        return ""
    return next((phrase for phrase, start in question_dates(text, reference or last) if start > last), "")


def question_dates(question: str, reference: dt.date | None) -> list[tuple[str, dt.date]]:
    """The dates a question names, as (its words, the first day it covers). A date without a year
    ("May 9") is read in the year of `reference` (the end of the articles); without one, skipped."""
    found: list[tuple[int, str, dt.date]] = []
    taken: list[range] = []
    for pattern in _DATES:
        for match in pattern.finditer(question):
            if any(match.start() in r for r in taken):
                continue  # "May 9, 2017" is read once, by the most specific pattern
            start = _first_day(match.groupdict(), reference)
            if start:
                found.append((match.start(), match.group(0), start))
                taken.append(range(match.start(), match.end()))
    return [(phrase, start) for _, phrase, start in sorted(found)]


def _first_day(parts: dict[str, str | None], reference: dt.date | None) -> dt.date | None:
    """The first day a date covers. Without a year, news means the nearest such date: "May 9" in
    articles ending in March 2017 is the coming May, "December 20" the December before."""
    month = _MONTHS.get((parts.get("month") or "").lower(), 1)
    day = int(parts["day"]) if parts.get("day") else 1
    try:
        if parts.get("year"):
            return dt.date(int(parts["year"]), month, day)
        if reference is None:
            return None
        options = [dt.date(reference.year + shift, month, day) for shift in (-1, 0, 1)]
    except ValueError:
        return None
    return min(options, key=lambda d: abs((d - reference).days))
