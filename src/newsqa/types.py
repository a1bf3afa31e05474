"""The typed records that flow from stage to stage.

Ingest makes `Article`s, chunking makes `Chunk`s, the store and retrieval
hand back `Hit`s, and the answerer returns an `Answer` whose `Citation`s
point at exact sentences of stored articles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Article:
    """One news article. `id` is stable: the record's own id, else a hash of its text."""

    text: str
    id: str = ""
    title: str = ""
    source: str = ""
    url: str = ""
    published: str = ""  # ISO date (YYYY-MM-DD, or YYYY-MM / YYYY when that is all that is known); "" when unknown
    origin: str = ""  # where it was read from (path or path:line); empty for articles made in code


@dataclass(frozen=True)
class Span:
    """Half-open character range [start, end) in an article's text."""

    start: int
    end: int


@dataclass
class Chunk:
    """A sentence-aligned window of an article, the unit that is embedded and searched."""

    article_id: str
    position: int  # 0-based order within the article
    start: int
    end: int
    text: str
    sentences: list[Span] = field(default_factory=list)  # each sentence of the chunk, in article offsets


@dataclass(frozen=True)
class Problem:
    """An input that was skipped, with where and why, printed as `path[:line]: reason`."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}"


@dataclass
class Hit:
    """A retrieved chunk with the evidence of why it was retrieved."""

    chunk_id: int
    article_id: str
    title: str
    source: str
    published: str
    url: str
    text: str
    start: int
    end: int
    score: float  # fused score, higher is better
    dense_rank: int | None = None  # the chunk's rank in the dense search (None: outside its depth)
    dense_score: float | None = None  # the chunk's cosine similarity to the query
    keyword_rank: int | None = None  # the article's rank in the BM25 search (None: outside its depth)
    keyword_score: float | None = None  # the article's BM25 score (0: no query word in it)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Citation:
    """One answer sentence's source: the article and the exact sentence that supports it."""

    number: int  # the [n] marker; one number per article within an answer
    article_id: str
    title: str
    source: str
    published: str
    url: str
    quote: str  # the supporting sentence, an exact substring of the stored article text
    start: int  # quote == article.text[start:end]
    end: int
    context: str  # the quote with the sentences around it
    context_start: int  # where `context` begins in the article, so the quote can be highlighted in it
    score: float = 0.0  # how well the sentence answers the question
    # Other outlets whose retrieved articles carry the same sentence (a wire copy), cited once here:
    # [{"article_id", "source", "published", "url"}], oldest first.
    also_reported_by: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Figure:
    """One side of a disagreement or an update: a figure, the sentence that gives it, and who said it when."""

    figure: str  # as written ("15", "12,000")
    quote: str
    source: str
    published: str
    article_id: str
    number: int  # the citation's [n]


@dataclass
class Conflict:
    """Cited articles giving different figures for the same thing: `first` is the older report. Reports
    of the same day disagree; a later report with a new figure is an update."""

    about: str  # what the figures count, e.g. "dead", "people", "protesters"
    first: Figure
    second: Figure

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Unsupported:
    """A generated sentence that verification removed, and why."""

    text: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """What `NewsQA.ask` returns: the text, its citations, or an honest abstention."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    passages: list[Hit] = field(default_factory=list)  # what retrieval handed the answerer
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage
    query: str = ""  # the text retrieval searched with (the question, plus context for a follow-up)
    filters: dict[str, Any] = field(default_factory=dict)  # filters applied, including dates read from the question
    answerer: str = "extractive"  # who wrote it; a fallback says why, e.g. "extractive (fallback: ...)"
    generated: str = ""  # what a generative model wrote, before verification
    unsupported: list[Unsupported] = field(default_factory=list)  # generated sentences removed, with why
    notice: str = ""  # for the reader: why a fallback happened, or how many sentences were removed
    confidence: float | None = None  # the extractive model's chance that the articles answer (None: not judged)
    timeline: list[Citation] = field(default_factory=list)  # one citation per report, oldest first (how it developed)
    conflicts: list[Conflict] = field(default_factory=list)  # same-day reports that disagree on a figure
    updates: list[Conflict] = field(default_factory=list)  # a later report giving a new figure for the same thing

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question, "text": self.text, "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "query": self.query, "filters": self.filters, "answerer": self.answerer,
            "generated": self.generated, "unsupported": [u.to_dict() for u in self.unsupported],
            "removed": len(self.unsupported), "notice": self.notice,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "timeline": [c.to_dict() for c in self.timeline], "conflicts": [c.to_dict() for c in self.conflicts],
            "updates": [u.to_dict() for u in self.updates],
        }


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to articles published in [date_from, date_to] and/or from some sources.

    Dates are ISO strings and compare at the precision the article has: an article
    dated only "2017-03" is inside a filter from 2017-03-10 to 2017-03-20.
    """

    date_from: str = ""
    date_to: str = ""
    sources: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise ValueError(f"{name} must be an ISO date such as 2017-03-15, not {value!r}") from None
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from {self.date_from} is after date_to {self.date_to}")

    @classmethod
    def of(cls, value: Filters | dict[str, Any] | None) -> Filters:
        if value is None or isinstance(value, Filters):
            return value or cls()
        unknown = set(value) - {"date_from", "date_to", "sources"}
        if unknown:
            raise ValueError(f"unknown filter {sorted(unknown)[0]!r}; use date_from, date_to, sources")
        sources = value.get("sources") or ()
        return cls(value.get("date_from") or "", value.get("date_to") or "",
                   (sources,) if isinstance(sources, str) else tuple(sources))

    def __bool__(self) -> bool:
        return bool(self.date_from or self.date_to or self.sources)

    def merged(self, other: Filters) -> Filters:
        """This filter narrowed by `other` (used when a question names a period)."""
        ends = [d for d in (self.date_to, other.date_to) if d]
        return Filters(max(self.date_from, other.date_from), min(ends) if ends else "",
                       self.sources or other.sources)
