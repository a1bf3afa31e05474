"""The one interface to an index, whatever holds it: a directory (store.py: SQLite + FAISS, the embedded
default) or a PostgreSQL database with pgvector (pgstore.py).

An index location is a directory path, or a URL `postgresql://user@host/db[?schema=NAME]`. Retrieval,
answering, the chat and the CLI reach the index only through a `StoreReader` (one state of the index, safe
to share between threads) and a `StoreWriter` (one write, committed whole or not at all).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from . import __version__
from .config import Settings
from .types import Article, Chunk, Filters, Span

Location = Path | str  # a directory, or a PostgreSQL URL (kept a string: a Path would fold its "//")
_URL_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(location: str | os.PathLike[str]) -> bool:
    return isinstance(location, str) and location.startswith(_URL_SCHEMES)


def location_of(value: str | os.PathLike[str]) -> Location:
    """An index location as given on a command line or to `NewsQA`: a URL stays a string, a path becomes a Path."""
    return value if is_database_url(value) else Path(value)


class StoreError(Exception):
    """Base of the index errors; each message says what is wrong and what to do."""


class IndexNotFound(StoreError):
    pass


class IndexLocked(StoreError):
    pass


class IndexIncompatible(StoreError):
    pass


class IndexDamaged(IndexIncompatible):
    """A file of the index is missing, cut short or not what the manifest says; the message names it."""


class IndexWriteFailed(StoreError):
    """The disk refused a write (full, read-only); the index is as it was, with no stray files."""


class ArticleRejected(StoreError):
    """One article the database refused (a value SQLite cannot store); the rest of the write goes on."""


class IndexChunk(NamedTuple):
    """A chunk's place in its article: its id and character range."""

    id: int
    start: int
    end: int


@dataclass(frozen=True)
class ChunkRow:
    """A chunk with what a search hit shows of it and its article."""

    id: int
    article_id: str
    text: str
    title: str
    source: str
    published: str
    url: str


@dataclass(frozen=True)
class FetchState:
    url: str
    etag: str
    last_modified: str
    article_id: str  # "" for a feed, or a page whose article was not kept
    fetched_at: str


@dataclass(frozen=True)
class StoredArticle:
    """What the writer needs to know of an article already in the index."""

    id: str
    content_hash: str
    dedupe_key: str
    origin_file: str


class StoreReader(Protocol):
    """One state of an index. Articles are addressed by id; in search, by their row number `n`."""

    location: Location
    manifest: dict[str, Any]  # what the index records of itself: format, model, settings, built_at, description

    def is_stale(self) -> bool:
        """True once another write (by any process) has made a newer state."""

    def close(self) -> None: ...

    # articles and their parts
    def article(self, article_id: str) -> Article | None: ...
    def articles(self) -> Iterator[Article]: ...
    def existing_ids(self, ids: Sequence[str]) -> set[str]: ...
    def sentences(self, article_id: str) -> list[Span]: ...
    def sentences_in(self, article_id: str, start: int, end: int) -> list[tuple[int, Span]]: ...
    def document_frequencies(self, stems: list[str]) -> tuple[dict[str, int], int]: ...
    def fetch_state(self) -> dict[str, FetchState]: ...

    # what the index covers
    def stats(self) -> dict[str, Any]: ...
    def coverage(self) -> dict[str, Any]: ...
    def sources(self) -> list[str]: ...
    def months(self) -> dict[str, int]: ...
    def newest_published(self, before: str = "") -> str: ...
    def coverage_end(self, sources: tuple[str, ...] = ()) -> str: ...

    # search
    def chunk_ids_where(self, filters: Filters) -> np.ndarray: ...
    def vector_search(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]]: ...
    def keyword_search(self, query_words: list[str], limit: int, filters: Filters) -> dict[int, float]: ...
    def chunk_similarities(self, chunk_ids: list[int], vector: np.ndarray) -> list[float]: ...
    def chunk_owners(self, chunk_ids: list[int]) -> set[int]: ...
    def article_chunks(self, ns: set[int]) -> dict[int, list[IndexChunk]]: ...
    def chunk_rows(self, chunk_ids: list[int]) -> dict[int, ChunkRow]: ...


class StoreWriter(Protocol):
    """One write to an index: what it reads sees its own changes; it commits whole when its block ends."""

    description: str
    dirty: bool

    def stored(self) -> dict[str, StoredArticle]: ...
    def chunk_ids(self, article_ids: Iterable[str]) -> list[int]: ...
    def ids_where(self, before: str = "", source: str = "") -> list[str]: ...
    def save_fetch_state(self, states: Iterable[FetchState]) -> None: ...
    def delete(self, article_ids: Sequence[str]) -> int: ...
    def insert(self, article: Article, content_hash: str, dedupe_key: str, origin_file: str,
               chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...


def check_model(manifest: dict[str, Any], model: str, dimension: int | None, index_dir: Location) -> None:
    """Raise unless the index was built with `model` (and, when known, `dimension`)."""
    built = manifest["model"]
    if built["name"] != model or (dimension is not None and built["dimension"] != dimension):
        shown = f"{model}" + (f" ({dimension}-d)" if dimension else "")
        raise IndexIncompatible(
            f"{index_dir} was built with the embedding model {built['name']} ({built['dimension']}-d), "
            f"not {shown}; its vectors cannot be searched with another model. Use --model {built['name']}, "
            f"or build a new index for {model} in another directory (newsqa build PATH --index NEWDIR --model {model})")


# An index's article counts and dates, as its manifest records them (the same SQL in SQLite and PostgreSQL)
COUNTS_SQL = ("SELECT COUNT(*), COUNT(DISTINCT NULLIF(source, '')), MIN(NULLIF(published, '')), "
              "MAX(NULLIF(published, '')) FROM articles")


def manifest_of(version: int, model: dict[str, Any], description: str, settings: dict[str, Any],
                counts: Sequence[Any], chunks: int, vectors: dict[str, Any]) -> dict[str, Any]:
    """What an index records of itself at a commit; `counts` is the row COUNTS_SQL gives."""
    articles, sources, oldest, newest = counts
    return {
        "format": version,
        "newsqa_version": __version__,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model": model,
        "description": description,
        "counts": {"articles": articles, "chunks": chunks, "sources": sources},
        "date_range": [oldest or "", newest or ""],
        "faiss": vectors,  # how the vectors are searched (the key predates other backends)
        "settings": settings,
    }


def ids_where_sql(before: str, source: str, placeholder: str) -> tuple[str, list[str]]:
    """The query for `StoreWriter.ids_where` (the same SQL in SQLite and PostgreSQL, but for the parameter
    `placeholder`): an article's date is its publication date, else the day it was added; a partial date
    (2017-03) is before a day only if all of it is."""
    where, params = [], []
    if before:
        where.append(f"(CASE length(d) WHEN 4 THEN d || '-99-99' WHEN 7 THEN d || '-99' ELSE d END) < {placeholder}")
        params.append(before)
    if source:
        where.append(f"lower(source) = lower({placeholder})")
        params.append(source)
    return ("SELECT id FROM (SELECT id, source, COALESCE(NULLIF(published, ''), substr(added_at, 1, 10)) AS d "
            f"FROM articles) AS dated WHERE {' AND '.join(where)}", params)


def open_reader(location: Location) -> StoreReader:
    """The current state of the index at `location`; IndexNotFound, IndexIncompatible or IndexDamaged if none."""
    if is_database_url(location):
        from .pgstore import PgReader

        return PgReader(str(location))
    from .store import Reader

    return Reader(Path(location))


def begin_write(location: Location, model: dict[str, Any], settings: Settings) -> AbstractContextManager[StoreWriter]:
    """A write to the index at `location` (made when missing); `model` is the embedding model's
    {"name", "dimension", "max_tokens"}, which an existing index must have been built with."""
    if is_database_url(location):
        from .pgstore import PgWriter

        return PgWriter.begin(str(location), model, settings)
    from .store import Writer

    return Writer.begin(Path(location), model, settings)


def read_manifest(location: Location) -> dict[str, Any]:
    """What the index at `location` records of itself (IndexNotFound if there is none)."""
    if is_database_url(location):
        from .pgstore import read_meta

        return read_meta(str(location))
    from .store import read_manifest as read_directory_manifest

    return read_directory_manifest(Path(location))


def index_exists(location: Location) -> bool:
    if is_database_url(location):
        from .pgstore import has_index

        return has_index(str(location))
    from .store import MANIFEST

    return (Path(location) / MANIFEST).exists()
