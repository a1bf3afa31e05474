"""Checking a generated answer, sentence by sentence, against the passages it cites.

A model can write a sentence that no article supports, cite the wrong article, or
change a number while keeping the gist. So each sentence of its answer is split
off with its [n] markers and kept only when

- it cites at least one passage the model was given (a marker pointing anywhere
  else is dropped),
- it is close in meaning to the best sentence of a cited passage: embedding cosine
  at least `GenerationSettings.support_threshold` (calibrated by bench/generative.py),
- every number, date and proper name in it occurs in the text of the passages that
  support it (with their outlet, date and title).

A kept sentence is cited with its best supporting sentence, an exact substring of
the article, like an extractive answer. Everything else is removed and listed with
the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..chunking import split_sentences
from ..embedding import Embedder
from ..lexical import STOPWORDS, fold, words
from ..store import Reader
from ..types import Citation, Unsupported
from .compose import Candidate, cite, human_date, passage_sentences
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
    "still", "subsequently", "therefore", "thus", "today", "whose", "yet", "yesterday"))
CALENDAR = frozenset((
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
_NUMBER_WORDS = {w: str(i) for i, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"))}
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
    closeness: dict[str, float] = field(default_factory=dict)  # sentence -> cosine to its best cited sentence


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


def verify(text: str, sources: list[Source], reader: Reader, embedder: Embedder, threshold: float) -> Verdict:
    """Keep the sentences of `text` that the cited passages support (see the module docstring)."""
    given = {s.number: s for s in sources}
    found = claims(text)
    cited_numbers = sorted({n for c in found for n in c.cited if n in given})
    candidates: dict[int, list[Candidate]] = {}
    for number in cited_numbers:
        candidates[number] = passage_sentences(reader, given[number].hits)[0]
    pool = [c for number in cited_numbers for c in candidates[number]]
    vectors = embedder.encode([c.text for c in found] + [c.text for c in pool]) if found else np.zeros((0, 1))
    claim_vectors, pool_vectors = vectors[: len(found)], vectors[len(found):]
    for candidate, vector in zip(pool, pool_vectors):
        candidate.vector = vector
    common = _common_words(s.text for s in sources)

    kept: list[tuple[Claim, list[tuple[Candidate, float]]]] = []
    removed: list[Unsupported] = []
    declined = False
    closeness: dict[str, float] = {}
    for claim, vector in zip(found, claim_vectors):
        valid = [n for n in dict.fromkeys(claim.cited) if n in given]
        if not valid:
            if not claim.cited and _DECLINES.search(claim.text):
                declined = True
                removed.append(Unsupported(claim.text, "says the articles do not cover it"))
            elif claim.cited:
                missing = ", ".join(f"[{n}]" for n in dict.fromkeys(claim.cited))
                removed.append(Unsupported(claim.text, f"cites {missing}, which the model was not given"))
            else:
                removed.append(Unsupported(claim.text, "cites no passage"))
            continue
        best = {n: max(((c, float(vector @ c.vector)) for c in candidates[n]), key=lambda pair: pair[1])
                for n in valid if candidates[n]}
        supporting = {n: pair for n, pair in best.items() if pair[1] >= threshold}
        closest = closeness[claim.text] = max((score for _, score in best.values()), default=0.0)
        if not supporting:
            removed.append(Unsupported(claim.text, f"not close in meaning to any sentence of the cited passages "
                                                   f"(best {closest:.2f} < {threshold:.2f})"))
            continue
        absent = missing_facts(claim.text, [given[n] for n in supporting], common)
        if absent:
            removed.append(Unsupported(claim.text, f"{', '.join(absent)} not in the cited text"))
            continue
        kept.append((claim, list(supporting.values())))
    answer, citations = _render(kept, reader)
    return Verdict(answer, citations, len(kept), removed, declined, closeness)


def facts(sentence: str, common: set[str]) -> tuple[list[str], list[str]]:
    """The numbers and the names (proper names, months, weekdays) a sentence states. A capitalized
    word the passages also use in lower case ("Officials", "President") is not taken for a name."""
    numbers = [n.replace(",", "") for n in _NUMBER.findall(sentence)]
    names = []
    for i, word in enumerate(_WORD.findall(sentence)):
        folded = fold(word)
        if not word[0].isupper() or folded in STOPWORDS or (i == 0 and folded in _OPENERS):
            continue
        if folded in CALENDAR or folded not in common:
            names.append(word)
    return numbers, names


def missing_facts(sentence: str, sources: list[Source], common: set[str]) -> list[str]:
    """The numbers and names of `sentence` that the sources' text (with outlet, date, title) lacks."""
    text = "\n".join(s.text for s in sources)
    text += "\n" + "\n".join(f"{s.hits[0].source} {s.hits[0].published} {human_date(s.hits[0].published)} "
                             f"{s.hits[0].title}" for s in sources)
    have_numbers = {n.replace(",", "") for n in _NUMBER.findall(text)}
    have_words = set(words(text)) | set(words(text.replace(".", "")))  # "U.S." also reads "US"
    have_words |= _initials(text)
    for word in words(text):
        if word in _NUMBER_WORDS:
            have_numbers.add(_NUMBER_WORDS[word])
    numbers, names = facts(sentence, common)
    absent = [n for n in numbers if n not in have_numbers]
    for name in names:
        parts = [w for w in words(name) if len(w) > 1 and w not in ("s",)]
        if any(p not in have_words for p in parts):
            absent.append(name)
    return list(dict.fromkeys(absent))


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


def _render(kept: list[tuple[Claim, list[tuple[Candidate, float]]]], reader: Reader) -> tuple[str, list[Citation]]:
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
