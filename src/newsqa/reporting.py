"""What every answer says about when and by whom it was reported, applied once the Answer is built.

`Request.answer` hands each Answer here (through `Request.finish`, set by `NewsQA`): the time
window (`window.py`), a timeline or a list of outlets when the question asks for one
(`timeline.py`), wire copies folded into one citation (`copies.py`), and figures on which the
cited reports disagree (`conflicts.py`). An answer whose text is not made of its quotes (a
generative answer) keeps its text; only its fields are filled in.
"""

from __future__ import annotations

from dataclasses import replace

from .answer.compose import human_date, text_of
from .conflicts import find_conflicts
from .copies import mark_copies
from .storage import StoreReader
from .timeline import as_timeline, asks_development, asks_outlets, outlets_answer
from .types import Answer, Conflict
from .window import window

BEFORE_OUTCOME = "Before then, the articles reported:"


def finish(answer: Answer, reader: StoreReader) -> Answer:
    """The answer with its reports laid out (outlets listed, copies folded, a timeline), its figures
    compared, and the time window checked."""
    extractive = answer.answerer.startswith("extractive")
    if extractive and asks_outlets(answer.question) and answer.passages:
        return outlets_answer(answer, reader)
    copied = mark_copies(answer, reader, fold=extractive)
    if extractive and copied.citations:
        copied = replace(copied, text=text_of(copied.citations))
    answer = copied
    if extractive and asks_development(answer.question):
        answer = as_timeline(answer, reader)
    answer.conflicts, answer.updates = find_conflicts(answer.citations)
    if answer.conflicts or answer.updates:
        answer = replace(answer, text=" ".join([answer.text, *map(said_differently, answer.conflicts),
                                                *map(said_later, answer.updates)]))
    return _windowed(answer, reader)


def said_differently(c: Conflict) -> str:
    """Says so: "Reports differ on the number injured: bbc.co.uk gave at least two [1], rte.ie Eight [2], both on
    16 March 2017."
    """
    return (f"Reports differ on the number {c.about}: {c.first.source or 'one article'} gave {c.first.figure} "
            f"[{c.first.number}], {c.second.source or 'another'} {c.second.figure} [{c.second.number}], both on "
            f"{human_date(c.second.published)}.")


def said_later(c: Conflict) -> str:
    """Dates it: "Updated on 17 February 2017: aljazeera.com gave at least 80 dead [2], after at least 75
    (abcnews.go.com, 16 February 2017) [1]."
    """
    earlier = f"{c.first.source or 'an article'}, {human_date(c.first.published)}"
    return (f"Updated on {human_date(c.second.published)}: {c.second.source or 'a later article'} gave "
            f"{c.second.figure} {c.about} [{c.second.number}], after {c.first.figure} ({earlier}) [{c.first.number}].")


def _windowed(answer: Answer, reader: StoreReader) -> Answer:
    """An answer to an outcome after the articles end: what they said, marked as said before it, and
    not an answer to the question (abstained), with the notice saying where they end."""
    found = window(answer.question, answer.passages, [(c.quote, c.published) for c in answer.citations], reader)
    if found is None:
        return answer
    notice = " ".join(n for n in (found.notice, answer.notice) if n)
    text = f"{BEFORE_OUTCOME} {answer.text}" if answer.citations else answer.text
    return replace(answer, text=text, notice=notice, abstained=True)
