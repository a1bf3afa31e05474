"""How a story developed, and who reported it: answers laid out by report rather than by relevance.

A question about how something developed ("what happened first, and what came next?"), or about two
moments ("in February ... and by the end of March"), gets one sentence per report in publication
order, each introduced by its date and outlet; `Answer.timeline` holds those citations. "Which
outlets reported ...?" gets one line per outlet.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import replace

from .answer.compose import also_reported, cite, human_date, text_of
from .clean import is_boilerplate
from .lexical import term_set, words
from .question import named_terms
from .storage import StoreReader
from .types import Answer, Citation, Hit

# Development language: the question asks for a sequence, not for one fact.
_DEVELOPMENT = re.compile(
    r"\b(how (did|has|have|had|was|were)\b.{0,80}\b(develop\w*|evolv\w*|unfold\w*|progress\w*|chang\w*|escalat\w*|"
    r"grow|grew|grown|shift\w*|turn out)|what happened (first|next|then|after(wards)?|later)|what came (next|after|"
    r"later)|timeline|chronolog\w*|sequence of events|step by step|over time|day by day|week by week)\b", re.I)
_MIN_WORDS = 4  # a shorter "sentence" is a caption or a byline, not a report's account
_MONTH_NAMES = frozenset(m.lower() for m in calendar.month_name if m)
_MOMENTS = 2  # distinct months a question names to ask about two moments ("in February ... by the end of March")
# "Which outlets reported ...", "What news sites covered ...". ("Who reported it?" and "Who carried it out?" ask
# for people.)
_WHICH_OUTLETS = re.compile(r"^\s*(which|what) (news )?(outlets?|media|news sites?|sites|sources|papers|newspapers|"
                            r"broadcasters|agencies)\b", re.I)
# An outlet's article counts as reporting the subject when it mentions this share of the question's names;
# a timeline's report when it mentions any of them (a one-name subject: "the Kessel flood").
_OUTLET_COVERAGE = 1.0
_ON_SUBJECT = 0.0


def asks_development(question: str) -> bool:
    """Whether a question asks how something developed, or about two moments of it."""
    if _DEVELOPMENT.search(question):
        return True
    return len(_MONTH_NAMES & set(words(question))) >= _MOMENTS


def asks_outlets(question: str) -> bool:
    """Whether a question asks which outlets reported something."""
    return bool(_WHICH_OUTLETS.search(question))


def as_timeline(answer: Answer, reader: StoreReader) -> Answer:
    """The answer as one sentence per report on the subject, oldest first, each opened by its date and
    outlet and renumbered in that order. A report on the subject is a retrieved or cited article that
    mentions what the question names; its sentence is its best-scored cited one, else the sentence of
    its passage sharing most of the question's words. Needs two reports to be a timeline; with fewer,
    citations off the subject (which a wider choice may bring) are dropped."""
    names = named_terms(answer.question)
    best: dict[str, Citation] = {}
    for c in answer.citations:
        if _mentions(reader, c.article_id, names) and (c.article_id not in best or c.score > best[c.article_id].score):
            best[c.article_id] = c
    for hit in answer.passages:
        if hit.article_id not in best and _mentions(reader, hit.article_id, names):
            found = _closest_sentence(reader, hit, term_set(answer.question))
            if found is not None:
                best[hit.article_id] = found
    if len(best) < 2:
        kept = [c for c in answer.citations if c.article_id in best]
        return replace(answer, citations=kept, text=text_of(kept)) if kept and len(kept) < len(answer.citations) \
            else answer
    ordered = sorted(best.values(), key=lambda c: (not c.published, c.published))
    timeline = [replace(c, number=n) for n, c in enumerate(ordered, start=1)]
    text = " ".join(f"{_opening(c)} {c.quote} [{c.number}]{also_reported(c)}" for c in timeline)
    return replace(answer, text=text, citations=timeline, timeline=timeline)


def _closest_sentence(reader: StoreReader, hit: Hit, asked: frozenset[str]) -> Citation | None:
    """The sentence of a passage sharing most of the question's words (not page furniture, not a fragment)."""
    article = reader.article(hit.article_id)
    if article is None:
        return None
    scored = [(len(asked & term_set(article.text[span.start:span.end])), -position, span)
              for position, span in reader.sentences_in(hit.article_id, hit.start, hit.end)
              if len(article.text[span.start:span.end].split()) >= _MIN_WORDS
              and not is_boilerplate(article.text[span.start:span.end])]
    if not scored:
        return None
    shared, _, span = max(scored, key=lambda s: s[:2])
    return cite(0, article, reader.sentences(hit.article_id), span, 0.0) if shared else None


def outlets_answer(answer: Answer, reader: StoreReader) -> Answer:
    """"Which outlets reported ...?": one line per outlet among the retrieved articles that mention
    what the question names, oldest report first, each citing its first matching sentence."""
    names = named_terms(answer.question)
    first: dict[str, Hit] = {}
    for hit in sorted(answer.passages, key=lambda h: h.published):
        if hit.source and hit.source not in first and _mentions(reader, hit.article_id, names, _OUTLET_COVERAGE):
            first[hit.source] = hit
    if not first:
        return answer
    lines: list[str] = []
    citations: list[Citation] = []
    for number, hit in enumerate(first.values(), start=1):
        citation = _cite_passage(reader, hit, number)
        lines.append(f"{hit.source}, {human_date(hit.published)}: \"{hit.title}\" [{number}]")
        citations.append(citation)
    return replace(answer, text="\n".join(lines), citations=citations, abstained=False)


def _opening(c: Citation) -> str:
    when = f"On {human_date(c.published)}" if c.published else "Undated"
    return f"{when}, {c.source or 'an article'} reported:"


def _mentions(reader: StoreReader, article_id: str, names: set[str], share: float = _ON_SUBJECT) -> bool:
    """Whether an article mentions `share` of the names (any, by default); True when there are none."""
    if not names:
        return True
    article = reader.article(article_id)
    present = term_set(article.text if article else "")
    return len(names & present) >= max(1.0, share * len(names))


def _cite_passage(reader: StoreReader, hit: Hit, number: int) -> Citation:
    article = reader.article(hit.article_id)
    assert article is not None
    spans = reader.sentences(hit.article_id)
    inside = reader.sentences_in(hit.article_id, hit.start, hit.end)
    span = inside[0][1] if inside else spans[0]
    return cite(number, article, spans, span, hit.score)
