"""Figures on which the cited reports differ: a disagreement, or a later report's update.

Each cited sentence's figures are read with what they count ("at least 15 people were killed" is 15
dead; "killing 71" is 71 dead; "some 200,000 people were ordered to evacuate" is 200,000
evacuated). Two sentences from different articles that count the same thing about the same event
with figures that cannot both hold are a disagreement when published the same day, and an update
when the second came out later: news of a disaster revises its toll day by day.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from .lexical import term_set
from .types import Citation, Conflict, Figure

# What a figure counts, by the words around it. Generic English news wording.
_THINGS = {
    "dead": r"killed|dead|died|deaths?|lives|fatalities|bodies|death toll|killing",
    "injured": r"injured|wounded|hurt|injuries|injuring|wounding",
    "detained": r"arrested|detained|arrests|detentions|detaining|arresting|taken into custody",
    "evacuated": r"evacuat\w*",
    "missing": r"missing",
    "displaced": r"displaced|homeless|fled",
    "protesters": r"protesters|demonstrators|marchers|rallied|protested|turned out|took to the streets",
}
_THING = {name: re.compile(rf"\b(?:{words})\b", re.I) for name, words in _THINGS.items()}
_WORD_NUMBERS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve "
                                             "thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
                                             "twenty".split())}
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_QUALIFIER = r"(?P<qual>at least|more than|over|nearly|almost|about|around|some|roughly|up to|as many as|fewer than|" \
             r"less than|approximately|an estimated)?\s*"
_FIGURE = re.compile(_QUALIFIER + r"(?P<n>(?<![\w.,$€£])\d{1,3}(?:,\d{3})+(?!\d)|"
                     r"(?<![\w.,$€£])(?!(?:19|20)\d\d\b)\d+(?:\.\d+)?(?![\d%])|"
                     + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True)) + r")\b(?:\s+(?P<scale>thousand|million|"
                     r"billion))?(?![-\s]*(?:%|percent|per cent|years?|months?|weeks?|days?|hours?|minutes?|km|miles|"
                     r"metres|meters|kg|am|pm|a\.m|p\.m)\b)", re.I)
_AFTER_WORDS = 5  # a figure counts the thing named within this many words after it ("15 people were killed"),
_CLAUSE_END = re.compile(r"[,;:()]|\band\b|\bwhile\b|\bincluding\b")  # ... in the same clause
_AGE = re.compile(r"[A-Z][\w'-]+,\s*$")  # "Kurt Cochran, 54, died": an age in apposition, not a count
_BEFORE = re.compile(r"\b(killing|injuring|wounding|death toll (?:rose |climbed |stood |stands )?(?:to|of|at)|"
                     r"arresting|detaining)\s*$", re.I)  # "..., killing 71" names the thing before the figure
# "The death toll in Thursday's attack has climbed to 74": a toll named earlier in the sentence.
_TOLL = re.compile(r"\bdeath toll\b.*\b(?:rose|risen|climbed|jumped|increased|reached|stands at|stood at)(?: to)?\s*$",
                   re.I)
_THING_BEFORE = {"killing": "dead", "death": "dead", "injuring": "injured", "wounding": "injured",
                 "arresting": "detained", "detaining": "detained"}
# Two sentences count the same thing about the same event only if they share this share of their
# content terms (numbers left out). Measured on bench/data/conflicts.jsonl: the disagreeing pairs share
# 0.12-0.5 of their terms; sentences of one answer about different events of the same kind (a shrine
# bombing this week, a school attack in 2014) share under 0.1.
SAME_EVENT_OVERLAP = 0.12
APPROXIMATE = 0.1  # "about 200" and "some 210" agree: approximate figures within 10% of each other


@dataclass(frozen=True)
class Count:
    thing: str  # a key of _THINGS
    value: float
    written: str  # the figure as written, qualifier included ("at least 15")
    qualifier: str


def counts(sentence: str) -> list[Count]:
    """The figures a sentence gives, each with what it counts; figures that count nothing known are left out."""
    found: list[Count] = []
    for match in _FIGURE.finditer(sentence):
        thing = _thing_after(sentence[match.end():]) or _thing_before(sentence[:match.start()])
        if not thing or _AGE.search(sentence[:match.start()]):
            continue
        raw = match.group("n").lower()
        value = float(_WORD_NUMBERS[raw]) if raw in _WORD_NUMBERS else float(raw.replace(",", ""))
        value *= _SCALE.get((match.group("scale") or "").lower(), 1)
        found.append(Count(thing, value, match.group(0).strip(), (match.group("qual") or "").lower()))
    return found


def find_conflicts(citations: list[Citation]) -> tuple[list[Conflict], list[Conflict]]:
    """(disagreements, updates) among the citations of different articles: one per pair of articles and
    thing counted, when no figure one gives for it fits a figure the other gives (a sentence may count
    a part too: "40 injured, two of them seriously")."""
    disagreements: list[Conflict] = []
    updates: list[Conflict] = []
    seen: set[tuple[str, str, str]] = set()
    read = [(c, counts(c.quote)) for c in citations]
    for (a, fa), (b, fb) in itertools.combinations([r for r in read if r[1]], 2):
        if a.article_id == b.article_id or not same_event(a.quote, b.quote):
            continue
        for thing in sorted({x.thing for x in fa} & {y.thing for y in fb}):
            key = (*sorted((a.article_id, b.article_id)), thing)
            xs, ys = [x for x in fa if x.thing == thing], [y for y in fb if y.thing == thing]
            if key in seen or any(compatible(x, y) for x in xs for y in ys):
                continue
            seen.add(key)
            x, y = max(xs, key=lambda f: f.value), max(ys, key=lambda f: f.value)  # the headline figures
            older, newer = ((a, x), (b, y)) if (a.published or "") <= (b.published or "") else ((b, y), (a, x))
            conflict = Conflict(thing, _side(*older), _side(*newer))
            same_day = older[0].published[:10] == newer[0].published[:10]
            (disagreements if same_day else updates).append(conflict)
    return disagreements, updates


def same_event(first: str, second: str) -> bool:
    """Whether two sentences are about the same event: enough of their words (numbers aside) are shared.
    (Requiring a shared name as well lost 2 of the 13 disagreeing pairs: one outlet names the town,
    the other the province.)"""
    a, b = _topic_terms(first), _topic_terms(second)
    return bool(a and b) and len(a & b) / len(a | b) >= SAME_EVENT_OVERLAP


def compatible(x: Count, y: Count) -> bool:
    """Whether two figures can both hold: equal, approximately equal, or one inside the other's bound
    ("more than 150" and 154)."""
    if x.value == y.value:
        return True
    for a, b in ((x, y), (y, x)):
        if a.qualifier in ("more than", "over") and not b.qualifier and b.value > a.value:
            return True
        if a.qualifier in ("up to", "as many as", "fewer than", "less than") and not b.qualifier and b.value < a.value:
            return True
    approximate = {"nearly", "almost", "about", "around", "some", "roughly", "approximately", "an estimated"}
    if x.qualifier in approximate or y.qualifier in approximate:
        return abs(x.value - y.value) <= APPROXIMATE * max(x.value, y.value)
    return False


def _thing_after(text: str) -> str:
    window = _CLAUSE_END.split(" ".join(text.split()[:_AFTER_WORDS]))[0]
    hits = [(m.start(), name) for name, pattern in _THING.items() for m in [pattern.search(window)] if m]
    return min(hits)[1] if hits else ""


def _thing_before(text: str) -> str:
    match = _BEFORE.search(text)
    if match:
        return _THING_BEFORE[match.group(1).split()[0].lower()]
    return "dead" if _TOLL.search(text) else ""


def _topic_terms(sentence: str) -> frozenset[str]:
    return frozenset(t for t in term_set(sentence) if not t[:1].isdigit())


def _side(citation: Citation, count: Count) -> Figure:
    return Figure(count.written, citation.quote, citation.source, citation.published, citation.article_id,
                  citation.number)
