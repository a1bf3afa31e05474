"""What every answerer is handed and what it streams back.

`NewsQA.ask_stream` retrieves, then hands an answerer one `Request`: the question, the
passages, the filters that were applied and the extractive answerer's choice of sentences
over them. The answerer streams `Event`s: zero or more `Draft` pieces (a generative
answerer's unchecked text, as the model writes it), then exactly one `Answer`, built once
by `Request.answer`, which fills in what the request knows (passages, query, filters,
timings, a notice about the period).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from ..retrieve import Filters
from ..types import Answer, Citation, Hit
from .compose import Candidate


class Draft(str):
    """A piece of a generative answerer's text as the model writes it: unchecked, shown until the
    verified `Answer` replaces it."""


Event = Draft | Answer


@dataclass
class Choice:
    """The sentences the extractive answerer chose (best first; empty: the articles don't say) and
    its model's chance that the question is answered at all."""

    sentences: list[Candidate] = field(default_factory=list)
    confidence: float = 0.0


@dataclass
class Request:
    question: str
    history: list[dict[str, Any]] | None
    query: str  # what retrieval searched with: the question, plus context for a follow-up
    hits: list[Hit]  # the passages, best first
    filters: Filters  # the filters applied, including the period and outlets the question names
    choice: Choice
    period: str = ""  # the named period in words ("March 2017"), for an abstention
    notice: str = ""  # for the reader, e.g. that the answer comes from articles published after the period
    lap: Callable[[str], None] = lambda stage: None  # records how long a stage took
    timings: dict[str, float] = field(default_factory=dict)  # filled by `lap`, milliseconds per stage
    # What every answer gets once built: the time window, timelines, wire copies, disagreements
    # (`reporting.finish`, set by NewsQA); the identity for a request made without an index.
    finish: Callable[[Answer], Answer] = lambda answer: answer

    def answer(self, text: str, citations: list[Citation], *, abstained: bool = False, notice: str = "",
               **given: Any) -> Answer:
        """The Answer to this request: `given` fields (answerer, generated, unsupported, confidence)
        beside what the request holds; the request's notice comes first."""
        notices = " ".join(n for n in (self.notice, notice) if n)
        return self.finish(Answer(self.question, text, citations, abstained=abstained, passages=self.hits,
                                  timings=self.timings, query=self.query, filters=asdict(self.filters), notice=notices,
                                  **given))


class Answerer(Protocol):
    """Anything that answers a Request: `ExtractiveAnswerer`, `GenerativeAnswerer`."""

    def stream(self, request: Request) -> Iterator[Event]: ...
