"""`NewsQA`: the one object the front doors (Python, CLI, chat) talk to."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from . import indexing, reporting
from .answer.chat import check_answerer
from .answer.compose import human_date
from .answer.contract import Answerer, Event, Request
from .answer.extractive import ExtractiveAnswerer
from .answer.generative import GenerativeAnswerer
from .chunking import Chunker
from .config import Settings, preset
from .embedding import Embedder, load_embedder
from .fetch import split_urls
from .ingest import IngestResult, load_paths, make_article, parse_date
from .question import outlets_named, period, retrieval_query, validate
from .redact import mask
from .retrieve import Filters, Retriever
from .storage import (FetchState, Location, StoreReader, begin_write, check_model, index_exists, location_of,
                      open_reader, read_manifest)
from .timeline import asks_development, asks_outlets
from .types import Answer, Article, Hit, Problem
from .web import load_urls

PathLike = str | os.PathLike[str]
# A timeline takes one sentence from each report that comes this close to the best sentence's chance
# (the plain answer's keep_other_within is 0.5), up to this many reports.
_TIMELINE_KEEP = 0.3
_TIMELINE_REPORTS = 6
_OUTLET_PASSAGES = 20  # passages searched for "Which outlets reported ...?" (at most two an article: 10+ articles)


class NewsQA:
    """An index of news articles that can be extended, searched and asked.

    Open one with `NewsQA.open(dir)` or make one with `NewsQA.build(paths, dir)`.
    """

    def __init__(self, index_dir: PathLike, settings: Settings) -> None:
        self.index_dir: Location = location_of(index_dir)  # a directory, or a PostgreSQL URL
        self.settings = settings
        self.last_report: indexing.BuildReport | None = None
        self._embedder: Embedder | None = None
        self._reader: StoreReader | None = None
        self._load_lock = threading.Lock()
        self._write_lock = threading.Lock()

    # ------------------------------------------------------------------ making and opening

    @classmethod
    def open(cls, index_dir: PathLike = "index", model: str | None = None,
             settings: Settings | str | None = None, answerer: str | None = None,
             answer_model: str | None = None) -> NewsQA:
        """Open an existing index (a directory or a PostgreSQL URL). `model`, when given, must be the embedding
        model it was built with; `settings` (or a preset name) sets retrieval and answering, the index its
        build-time parts.
        `answerer` is "extractive", "transformers:<HF id or path>" or "openai:<base_url>", and
        `answer_model` the model an OpenAI-compatible server should run."""
        index_dir = location_of(index_dir)
        manifest = read_manifest(index_dir)
        if model:
            check_model(manifest, model, None, index_dir)
        settings = _settings(settings).built_with(manifest.get("settings", {})).with_answerer(answerer, answer_model)
        check_answerer(settings.generation.answerer)
        qa = cls(index_dir, settings)
        qa._reader = open_reader(index_dir)
        return qa

    @classmethod
    def build(cls, paths: Iterable[PathLike | Article], index_dir: PathLike = "index",
              settings: Settings | str | None = None, field_map: dict[str, str] | None = None,
              progress: bool = False, description: str | None = None) -> NewsQA:
        """Create an index, or bring an existing one up to date, from files, folders, http(s) URLs of
        feeds and article pages, and articles.

        The report of what was done is `qa.last_report`.
        """
        index_dir = location_of(index_dir)
        settings = _settings(settings)
        if index_exists(index_dir):
            manifest = read_manifest(index_dir)
            check_model(manifest, settings.embedding.model, None, index_dir)
            settings = settings.built_with(manifest.get("settings", {}))  # chunks must match the stored ones
        qa = cls(index_dir, settings)
        qa.add(paths, field_map=field_map, progress=progress, description=description)
        return qa

    # ------------------------------------------------------------------ changing

    def add(self, items: Iterable[PathLike | Article], field_map: dict[str, str] | None = None,
            progress: bool = False, on_progress: Callable[[int, int], None] | None = None,
            description: str | None = None, since: str = "") -> indexing.BuildReport:
        """Add files, folders, URLs (feeds and article pages) or `Article`s; changed articles are
        re-embedded, unchanged ones skipped, and a page its server says is unchanged is not even downloaded.
        `description` (what the index holds, in words) goes into the manifest. Articles from URLs
        published before `since` (an ISO date) are left out (`newsqa watch --keep-days`)."""
        embedder = self.embedder  # loaded before the clock starts: the report times the pipeline
        self._record_backend(embedder)
        started = time.perf_counter()
        ingested = self._ingest(items, field_map, since)
        report = indexing.BuildReport(files=ingested.files, urls=ingested.urls, not_modified=ingested.not_modified,
                                      problems=list(ingested.problems), notes=ingested.notes)
        model = {"name": embedder.name, "dimension": embedder.dimension, "max_tokens": embedder.max_tokens}
        with self._write_lock, begin_write(self.index_dir, model, self.settings) as writer:
            if description is not None and description != writer.description:
                writer.description, writer.dirty = description, True
            plan = indexing.plan(ingested.articles, writer, ingested.read_paths, report)
            chunker = Chunker(embedder.tokenizer, embedder.max_tokens, self.settings.chunking)
            indexing.apply(plan, writer, chunker, embedder, report, progress=progress, on_progress=on_progress)
            writer.save_fetch_state(ingested.fetch_state)
        self._reader = open_reader(self.index_dir)
        stats = self._reader.stats()
        report.total_articles, report.total_chunks = stats["articles"], stats["chunks"]
        report.seconds = time.perf_counter() - started
        self.last_report = report
        return report

    def remove(self, ids: Iterable[str] = (), before: str = "", source: str = "") -> int:
        """Delete articles (and their chunks and vectors) by id, and those dated before `before` (an
        ISO date: the publication date, else the day the article was added) and from the outlet `source`
        (both, when both are given); returns how many were removed."""
        ids = list(dict.fromkeys(ids))
        if before and parse_date(before) != before:
            raise ValueError(f"before must be a date written YYYY-MM-DD, not {before!r}")
        model = self.reader.manifest["model"]  # no need to load the model to delete
        with self._write_lock, begin_write(self.index_dir, model, self.settings) as writer:
            if before or source:
                known = set(ids)
                ids += [i for i in writer.ids_where(before, source) if i not in known]
            removed = writer.delete(ids)
        self._reader = open_reader(self.index_dir)
        return removed

    # ------------------------------------------------------------------ reading

    def info(self) -> dict[str, Any]:
        reader = self.reader
        manifest = reader.manifest
        return {
            "index": mask(str(self.index_dir)),  # a database URL's password stays out of what is shown
            "description": manifest.get("description", ""),
            **reader.stats(),
            **reader.coverage(),  # outlets (count, oldest, newest each), weeks (articles per week), oldest, newest
            "model": manifest["model"]["name"],
            "backend": self.settings.built_with(manifest["settings"]).embedding.backend,
            "dimension": manifest["model"]["dimension"],
            "faiss": manifest["faiss"]["type"],
            "built_at": manifest["built_at"],
            "format": manifest["format"],
            "settings": manifest["settings"],
        }

    def search(self, query: str, k: int = 10, filters: Filters | dict[str, Any] | None = None) -> list[Hit]:
        """The passages that best match `query`, dense and keyword results fused (see retrieve.py)."""
        query = validate(query)
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive whole number, not {k!r}")
        reader = self.reader
        return Retriever(reader, self.embedder, self.settings.retrieval).search(query, k, Filters.of(filters))

    def ask(self, question: str, history: list[dict[str, Any]] | None = None,
            filters: Filters | dict[str, Any] | None = None) -> Answer:
        """Answer from the articles, every sentence cited, or abstain when they do not say.

        `history` is the conversation so far as chat messages ({"role", "content"}); it is
        used to understand a follow-up. A period named in the question narrows `filters`.
        """
        *_, answer = self.ask_stream(question, history, filters)
        assert isinstance(answer, Answer)
        return answer

    def ask_stream(self, question: str, history: list[dict[str, Any]] | None = None,
                   filters: Filters | dict[str, Any] | None = None) -> Iterator[Event]:
        """`ask`, as it happens: a generative answerer yields `Draft` pieces (text) as the model
        writes them; the last item is always the `Answer` (the only item for the extractive
        answerer). A draft is unchecked: show the final Answer in its place."""
        clock = _Clock()
        question = validate(question)
        filters = Filters.of(filters)
        reader = self.reader  # one generation for the whole answer, even if a write lands meanwhile
        query = retrieval_query(question, history)
        if not reader.stats()["articles"]:
            yield Answer(question, "The index is empty: add articles first (newsqa build PATH).",
                         abstained=True, query=query)
            return
        extractive = ExtractiveAnswerer(reader, self.embedder, self.settings.answer)
        request = self._request(question, history, query, filters, reader, extractive, clock)
        answerer: Answerer = extractive
        if self.settings.generation.answerer != "extractive":
            answerer = GenerativeAnswerer(self.settings, reader, extractive)
        yield from answerer.stream(request)

    def _request(self, question: str, history: list[dict[str, Any]] | None, query: str, filters: Filters,
                 reader: StoreReader, extractive: ExtractiveAnswerer, clock: _Clock) -> Request:
        """Retrieval, narrowed to the period and outlets the question names, and the extractive
        choice over it: what every answerer is handed."""
        named = self.named_filters(question, reader)
        query_vector = self.embedder.encode_remembered([query])[0]
        clock.lap("embed")
        retriever = Retriever(reader, self.embedder, self.settings.retrieval)
        searched = filters.merged(named) if named else filters
        # "Which outlets reported ...?" lists every outlet among more passages than an answer quotes from
        k = _OUTLET_PASSAGES if asks_outlets(question) else None
        hits = self.evidence(query, query_vector, searched, retriever=retriever, k=k)
        clock.lap("retrieve")
        if asks_development(question):  # one sentence per report: more reports than a plain answer cites
            extractive = ExtractiveAnswerer(reader, self.embedder, replace(
                self.settings.answer, keep_other_within=_TIMELINE_KEEP, max_sentences=_TIMELINE_REPORTS))
        choice = extractive.choose(question, query, query_vector, hits)
        notice = ""
        if not choice.sentences and named and named.date_to:
            # News of a period can come out long after it (inquiries, trials, reviews): if nothing
            # published in or just after the period answers, articles published later may.
            later = filters.merged(replace(named, date_to=""))
            later_hits = self.evidence(query, query_vector, later, retriever=retriever)
            later_choice = extractive.choose(question, query, query_vector, later_hits)
            if later_choice.sentences:
                searched, hits, choice = later, later_hits, later_choice
                notice = (f"Nothing published in the period the question names ({_period_label(named)}) "
                          "answers it; this answer comes from articles published later.")
        return Request(question, history, query, hits, searched, choice, period=_period_label(named), notice=notice,
                       lap=clock.lap, timings=clock.laps, finish=lambda answer: reporting.finish(answer, reader))

    def named_filters(self, question: str, reader: StoreReader | None = None) -> Filters | None:
        """The period ("in March 2017") and the outlets ("according to TASS") a question names."""
        reader = reader or self.reader
        outlets = outlets_named(question, reader.sources())
        # "in December" is the December before the outlets' coverage ends, not before the newest article
        named = period(question, reader.coverage_end(outlets), reader.months()) or Filters()
        if outlets:
            named = replace(named, sources=outlets)
        return named or None

    def evidence(self, query: str, query_vector: np.ndarray, filters: Filters,
                 retriever: Retriever | None = None, k: int | None = None) -> list[Hit]:
        """The passages an answer is drawn from (`k`, by default the answer settings' `passages`)."""
        retriever = retriever or Retriever(self.reader, self.embedder, self.settings.retrieval)
        return retriever.search(query, k or self.settings.answer.passages, filters, query_vector)

    def sources(self) -> list[str]:
        """The outlets in the index, most articles first (for filter menus)."""
        return self.reader.sources()

    def article(self, article_id: str) -> Article | None:
        return self.reader.article(article_id)

    @property
    def reader(self) -> StoreReader:
        """The current generation; reopened when another process has written a new one."""
        reader = self._reader
        if reader is None or reader.is_stale():
            reader = self._reader = open_reader(self.index_dir)
        return reader

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (a few seconds)."""
        with self._load_lock:
            if self._embedder is None:
                emb = self.settings.embedding
                self._embedder = load_embedder(emb.model, emb.device, emb.batch_size, emb.backend)
            return self._embedder

    def _record_backend(self, embedder: Embedder) -> None:
        """Settings name the backend that runs (torch when the asked-for one could not), so the
        manifest says how the vectors were made and questions are embedded the same way."""
        if embedder.backend != self.settings.embedding.backend:
            self.settings = self.settings.with_backend(embedder.backend)

    # ------------------------------------------------------------------ helpers

    def _ingest(self, items: Iterable[PathLike | Article], field_map: dict[str, str] | None,
                since: str = "") -> IngestResult:
        urls, items = split_urls(items)
        paths = [item for item in items if not isinstance(item, Article)]
        result = load_paths(paths, field_map, self.settings.ingest.max_file_bytes)
        if urls:
            web = load_urls(urls, self.settings.fetch, self._fetch_state(), since)
            result.articles += web.articles
            result.problems += web.problems
            result.notes += web.notes
            result.urls, result.not_modified, result.fetch_state = len(urls), web.not_modified, web.state
        for number, article in enumerate((i for i in items if isinstance(i, Article)), start=1):
            try:
                result.articles.append(make_article(asdict(article), origin=article.origin))
            except ValueError as exc:
                result.problems.append(Problem(f"article {number} ({article.id or 'no id'})", str(exc)))
        return result

    def _fetch_state(self) -> dict[str, FetchState]:
        """What the index remembers of earlier fetches; nothing for an index not made yet."""
        if not index_exists(self.index_dir):
            return {}
        return self.reader.fetch_state()


def _settings(value: Settings | str | None) -> Settings:
    return preset(value) if isinstance(value, str) else value or Settings()


class _Clock:
    """Milliseconds spent in each stage, for `Answer.timings`."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = self._start = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps.pop("total", None)  # kept last, so the stages read in order
        self.laps[name] = (now - self._last) * 1000
        self.laps["total"] = (now - self._start) * 1000
        self._last = now


def _period_label(named: Filters | None) -> str:
    if not named or not (named.date_from or named.date_to):
        return ""
    if named.date_from and named.date_to:
        first, last = human_date(named.date_from), human_date(named.date_to)
        return first if first == last else f"{first} to {last}"
    return f"since {human_date(named.date_from)}" if named.date_from else f"before {human_date(named.date_to)}"
