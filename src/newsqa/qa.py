"""`NewsQA`: the one object the front doors (Python, CLI, chat) talk to."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import indexing
from .chunking import Chunker
from .config import Settings, preset
from .embedding import Embedder, load_embedder
from .ingest import IngestResult, load_paths, make_article
from .store import Reader, Writer, check_model, read_manifest
from .types import Article, Problem

PathLike = str | os.PathLike[str]


class NewsQA:
    """An index of news articles that can be extended, searched and asked.

    Open one with `NewsQA.open(dir)` or make one with `NewsQA.build(paths, dir)`.
    """

    def __init__(self, index_dir: PathLike, settings: Settings) -> None:
        self.index_dir = Path(index_dir)
        self.settings = settings
        self.last_report: indexing.BuildReport | None = None
        self._embedder: Embedder | None = None
        self._reader: Reader | None = None
        self._load_lock = threading.Lock()
        self._write_lock = threading.Lock()

    # ------------------------------------------------------------------ making and opening

    @classmethod
    def open(cls, index_dir: PathLike = "index", model: str | None = None) -> NewsQA:
        """Open an existing index. `model`, when given, must be the one it was built with."""
        index_dir = Path(index_dir)
        manifest = read_manifest(index_dir)
        if model:
            check_model(manifest, model, None, index_dir)
        qa = cls(index_dir, Settings.from_dict(manifest.get("settings", {})))
        qa._reader = Reader(index_dir)
        return qa

    @classmethod
    def build(cls, paths: Iterable[PathLike | Article], index_dir: PathLike = "index",
              settings: Settings | str | None = None, field_map: dict[str, str] | None = None,
              progress: bool = False) -> NewsQA:
        """Create an index, or bring an existing one up to date, from files, folders and articles.

        The report of what was done is `qa.last_report`.
        """
        index_dir = Path(index_dir)
        settings = preset(settings) if isinstance(settings, str) else settings or Settings()
        if (index_dir / "manifest.json").exists():
            manifest = read_manifest(index_dir)
            check_model(manifest, settings.embedding.model, None, index_dir)
            settings = Settings.from_dict(manifest.get("settings", {}))  # chunks must match the stored ones
        qa = cls(index_dir, settings)
        qa.add(paths, field_map=field_map, progress=progress)
        return qa

    # ------------------------------------------------------------------ changing

    def add(self, items: Iterable[PathLike | Article], field_map: dict[str, str] | None = None,
            progress: bool = False, on_progress: Callable[[int, int], None] | None = None) -> indexing.BuildReport:
        """Add files, folders or `Article`s; changed articles are re-embedded, unchanged ones skipped."""
        embedder = self.embedder  # loaded before the clock starts: the report times the pipeline
        started = time.perf_counter()
        ingested = self._ingest(items, field_map)
        report = indexing.BuildReport(files=ingested.files, problems=list(ingested.problems))
        with self._write_lock, Writer.begin(self.index_dir, embedder.name, embedder.dimension,
                                            embedder.max_tokens, self.settings.to_dict()) as writer:
            plan = indexing.plan(ingested.articles, writer, ingested.read_paths, report)
            chunker = Chunker(embedder.tokenizer, embedder.max_tokens, self.settings.chunking)
            indexing.apply(plan, writer, chunker, embedder, report, progress=progress, on_progress=on_progress)
        self._reader = Reader(self.index_dir)
        stats = self._reader.stats()
        report.total_articles, report.total_chunks = stats["articles"], stats["chunks"]
        report.seconds = time.perf_counter() - started
        self.last_report = report
        return report

    def remove(self, ids: Iterable[str]) -> int:
        """Delete articles (and their chunks and vectors) by id; returns how many were removed."""
        ids = list(dict.fromkeys(ids))
        embedder = self.embedder
        with self._write_lock, Writer.begin(self.index_dir, embedder.name, embedder.dimension,
                                            embedder.max_tokens, self.settings.to_dict()) as writer:
            removed = writer.delete(ids)
        self._reader = Reader(self.index_dir)
        return removed

    # ------------------------------------------------------------------ reading

    def info(self) -> dict[str, Any]:
        reader = self.reader
        manifest = reader.manifest
        return {
            "index": str(self.index_dir),
            **reader.stats(),
            "model": manifest["model"]["name"],
            "dimension": manifest["model"]["dimension"],
            "faiss": manifest["faiss"]["type"],
            "built_at": manifest["built_at"],
            "format": manifest["format"],
            "settings": manifest["settings"],
        }

    def article(self, article_id: str) -> Article | None:
        return self.reader.article(article_id)

    @property
    def reader(self) -> Reader:
        if self._reader is None:
            self._reader = Reader(self.index_dir)
        return self._reader

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (a few seconds)."""
        with self._load_lock:
            if self._embedder is None:
                emb = self.settings.embedding
                self._embedder = load_embedder(emb.model, emb.device, emb.batch_size)
            return self._embedder

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _ingest(items: Iterable[PathLike | Article], field_map: dict[str, str] | None) -> IngestResult:
        items = list(items)
        paths = [item for item in items if not isinstance(item, Article)]
        result = load_paths(paths, field_map)
        for number, article in enumerate((i for i in items if isinstance(i, Article)), start=1):
            try:
                result.articles.append(make_article(asdict(article), origin=article.origin))
            except ValueError as exc:
                result.problems.append(Problem(f"article {number} ({article.id or 'no id'})", str(exc)))
        return result
