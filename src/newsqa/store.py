"""The index on disk: a SQLite database and a FAISS index, named by `manifest.json`.

Every write makes a new generation: the current database is copied, changed,
and written beside a new FAISS file; only then is `manifest.json` atomically
replaced to name the new pair. A write that dies at any point (Ctrl-C,
kill -9, a full disk) leaves the manifest naming the previous generation,
which is untouched and still opens. One writer at a time holds `DIR/.lock`.
Readers open a generation's files read-only and never see a half-written one.
"""

from __future__ import annotations

import copy
import datetime as dt
import errno
import json
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock, Timeout

from . import __version__
from .config import IndexSettings, Settings
from .lexical import fts_query
# The errors and records are the store interface's (storage.py), named here too for the code that imports them here
from .storage import (ArticleRejected, ChunkRow, FetchState, IndexChunk, IndexDamaged,  # noqa: F401
                      IndexIncompatible, IndexLocked, IndexNotFound, IndexWriteFailed, StoredArticle, StoreError,
                      COUNTS_SQL, check_model, ids_where_sql, manifest_of)
from .types import Article, Chunk, Filters, Span

FORMAT = 2  # 2: keyword search over whole articles (articles_fts) instead of chunks
MANIFEST = "manifest.json"
LOCK = ".lock"
_FAISS_TYPES = {"float32": "IDMap2,Flat", "float16": "IDMap2,SQfp16"}
# Past `IndexSettings.approximate_above` vectors the index becomes IVF{nlist},SQfp16 searched with
# NPROBE lists: the smallest setting that kept recall@10 >= 0.95 against exact search at 50k, 100k and
# 1M vectors in bench/scale.py (bench/results/scale.md). SQfp16 whatever `vectors` says: the same recall
# as float32 codes there, half the memory and a faster scan; not SQ8, whose per-dimension ranges,
# trained once, clip the vectors of later articles unlike the training ones.
APPROXIMATE_CODES = "SQfp16"
NPROBE = 32
TRAIN_PER_LIST = 64  # k-means training sample per inverted list (FAISS warns below 39)
_ID_BATCH = 500  # ids per SQL query (under SQLite's limit on parameters)

SCHEMA = """
CREATE TABLE articles (
    n INTEGER PRIMARY KEY,  -- a rowid that VACUUM keeps, for articles_fts
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    published TEXT NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    origin TEXT NOT NULL,
    origin_file TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX articles_published ON articles(published);
CREATE INDEX articles_source ON articles(source);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX chunks_article ON chunks(article_id);
-- A chunk's text is a slice of its article's: stored once, in articles.
CREATE VIEW chunk_texts AS
    SELECT c.id AS id, c.article_id AS article_id, substr(a.text, c.start + 1, c.end - c.start) AS text
    FROM chunks c JOIN articles a ON a.id = c.article_id;
CREATE TABLE sentences (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    PRIMARY KEY (article_id, position)
) WITHOUT ROWID;
-- Keyword index over whole articles (BM25 ranks articles better than chunks); Writer adds and deletes rows.
CREATE VIRTUAL TABLE articles_fts USING fts5(
    text, content='articles', content_rowid='n', tokenize='porter unicode61 remove_diacritics 2'
);
"""


# What the index remembers of each URL it fetched whole (web.py): the validators its server sent, for a
# conditional GET next time, and the article it gave ("" for a feed). Made when missing, so indexes from
# before URLs open and take URLs without a rebuild.
FETCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS fetch_state (
    url TEXT PRIMARY KEY,
    etag TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    article_id TEXT NOT NULL,
    fetched_at TEXT NOT NULL
) WITHOUT ROWID;
"""


# What a single article's values can make SQLite or FAISS raise; a full disk (OperationalError, OSError) is not one.
_REJECTED = (sqlite3.IntegrityError, sqlite3.InterfaceError, UnicodeEncodeError, OverflowError, ValueError)


def read_manifest(index_dir: Path) -> dict[str, Any]:
    path = index_dir / MANIFEST
    if not path.exists():
        raise IndexNotFound(
            f"no newsqa index in {index_dir} (no {MANIFEST}); build one with: newsqa build PATH --index {index_dir}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexDamaged(f"{path} cannot be read ({exc}); {_rebuild(index_dir)}") from exc
    if not isinstance(manifest, dict):
        raise IndexDamaged(f"{path} is not a newsqa manifest (a JSON {_json_type(manifest)}, not an object); "
                           f"{_rebuild(index_dir)}")
    version = manifest.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise IndexDamaged(f"{path} has no valid index format (format is {version!r}, not a whole number); "
                           f"{_rebuild(index_dir)}")
    if version > FORMAT:
        raise IndexIncompatible(
            f"{index_dir} has index format {version!r}, newer than this newsqa {__version__} reads "
            f"(format {FORMAT}); upgrade newsqa (pip install -U newsqa) or rebuild the index")
    if version < FORMAT:
        raise IndexIncompatible(
            f"{index_dir} has index format {version}, older than this newsqa {__version__} reads (format "
            f"{FORMAT}); rebuild it from your articles into a new directory: newsqa build PATH --index NEWDIR")
    _check_manifest(manifest, path)
    return manifest


# What readers take from a manifest, and its type; a manifest without them cannot be read.
_MANIFEST_SHAPE = {"files": dict, "model": dict, "counts": dict, "faiss": dict, "settings": dict, "built_at": str}
_FILE_KEYS = ("database", "vectors")


def _check_manifest(manifest: dict[str, Any], path: Path) -> None:
    """Raise IndexDamaged unless the manifest has what readers use, and names files inside its directory."""
    index_dir = path.parent
    for key, kind in _MANIFEST_SHAPE.items():
        if not isinstance(manifest.get(key), kind):
            raise IndexDamaged(f"{path} lacks {key!r} (or it is not a JSON {_json_type(kind())}); "
                               f"{_rebuild(index_dir)}")
    model = manifest["model"]
    if not isinstance(model.get("name"), str) or not isinstance(model.get("dimension"), int):
        raise IndexDamaged(f"{path} does not name its embedding model and dimension; {_rebuild(index_dir)}")
    for key in _FILE_KEYS:
        name = manifest["files"].get(key)
        if not isinstance(name, str) or not _plain_name(name):
            raise IndexDamaged(f"{path} names its {key} file {name!r}, which is not a file name inside "
                               f"{index_dir}; {_rebuild(index_dir)}")


def _plain_name(name: str) -> bool:
    """A file name with no directory part: a manifest may only name files beside it."""
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def _json_type(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def _rebuild(index_dir: Path) -> str:
    return (f"rebuild the index from your articles into a new directory (newsqa build PATH --index NEWDIR), "
            f"or remove {index_dir} and rebuild it with newsqa build")


_SQLITE_HEADER = b"SQLite format 3\x00"


def open_database(path: Path) -> sqlite3.Connection:
    """A generation's database, read-only, checked: IndexDamaged, naming the file, if it is missing,
    cut short, or not a newsqa database."""
    index_dir = path.parent
    try:
        with open(path, "rb") as file:
            header, size = file.read(100), os.fstat(file.fileno()).st_size
    except FileNotFoundError:
        raise IndexDamaged(f"{path} is missing (the index's manifest names it); {_rebuild(index_dir)}") from None
    except OSError as exc:
        raise IndexDamaged(f"{path} cannot be read ({exc.strerror}); {_rebuild(index_dir)}") from exc
    expected = _sqlite_size(header)
    if not header.startswith(_SQLITE_HEADER) or expected is None or size < expected:
        what = "empty" if not size else "cut short" if header.startswith(_SQLITE_HEADER) else "not an SQLite database"
        raise IndexDamaged(f"{path} is {what}, not a newsqa database; {_rebuild(index_dir)}")
    try:
        conn = connect_readonly(path)
        for table in ("articles", "chunks", "sentences", "articles_fts"):
            conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()  # noqa: S608 - fixed names
    except sqlite3.DatabaseError as exc:
        raise IndexDamaged(f"{path} is not a usable newsqa database ({exc}); {_rebuild(index_dir)}") from exc
    return conn


def _sqlite_size(header: bytes) -> int | None:
    """The database's size in bytes as its header records it (page size x page count); None if unreadable.
    A file shorter than this was cut short: SQLite itself only notices when a query reaches a missing page."""
    if len(header) < 100:
        return None
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]  # the page count is only kept up to date when these agree
    return page_size * pages if valid else 0


def read_vectors(path: Path, manifest: dict[str, Any]) -> faiss.Index:
    """A generation's FAISS index, checked against the manifest: IndexDamaged, naming the file, if it is
    missing, cut short, or holds other vectors than the manifest says."""
    restore = f"restore the FAISS file from a backup, or {_rebuild(path.parent)}"
    if not path.is_file():
        raise IndexDamaged(f"{path} is missing (the index's manifest names it); {restore}")
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        reason = next((line for line in str(exc).splitlines() if line.strip()), "unreadable")[:160]
        raise IndexDamaged(f"{path} is damaged (FAISS cannot read it: {reason}); {restore}") from exc
    chunks = manifest["counts"].get("chunks")
    if isinstance(chunks, int) and index.ntotal != chunks:  # another generation's file, or a stale copy
        raise IndexDamaged(f"{path} holds {index.ntotal} vectors, but the manifest counts {chunks} chunks; {restore}")
    return index


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Generation files never change once named by the manifest: open them immutable."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


class Reader:
    """Read access to one generation of an index; safe to share between threads."""

    def __init__(self, index_dir: Path) -> None:
        self.dir = self.location = index_dir
        self._manifest_stamp = _stamp(index_dir / MANIFEST)
        self.manifest = read_manifest(index_dir)
        files = self.manifest["files"]
        self.db_path = index_dir / files["database"]
        # One connection, opened now and shared by all threads (SQLite serializes them): the next
        # write deletes these files, and only a handle opened before that still reads them.
        self.db = open_database(self.db_path)
        self.vectors = read_vectors(index_dir / files["vectors"], self.manifest)
        self._bytes = sum((index_dir / name).stat().st_size for name in [*files.values(), MANIFEST])
        self._stats: dict[str, Any] | None = None
        self._sources: list[str] | None = None
        self._months: dict[str, int] | None = None
        self._coverage: dict[str, Any] | None = None
        self._chunk_ids: dict[Filters, np.ndarray] = {}
        self._coverage_end: dict[tuple[str, ...], str] = {}

    def is_stale(self) -> bool:
        """True once the manifest names another generation (a write by any process)."""
        return _stamp(self.dir / MANIFEST) != self._manifest_stamp

    def close(self) -> None:
        self.db.close()

    def article(self, article_id: str) -> Article | None:
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _article(row) if row else None

    def articles(self) -> Iterator[Article]:
        for row in self.db.execute("SELECT * FROM articles ORDER BY published, id"):
            yield _article(row)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for batch in _batches(list(ids), _ID_BATCH):
            marks = ",".join("?" * len(batch))
            found.update(row[0] for row in self.db.execute(f"SELECT id FROM articles WHERE id IN ({marks})", batch))
        return found

    def chunk_ids_where(self, filters: Filters) -> np.ndarray:
        """Ids of the chunks of the articles `filters` keep. Kept per filter: a chat's date or source
        filter, or a period many questions name, is asked again and again."""
        ids = self._chunk_ids.get(filters)
        if ids is None:
            where, params = filter_sql(filters)
            rows = self.db.execute(f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}",
                                   params)
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64)
            if len(self._chunk_ids) >= 64:  # bounded: filters are few, but a script may try many
                self._chunk_ids.clear()
            self._chunk_ids[filters] = ids
        return ids

    # -- search

    def vector_search(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]]:
        """The `k` nearest chunks (id, cosine) among those `filters` keep, nearest first."""
        index = self.vectors
        allowed = self.chunk_ids_where(filters) if filters else None
        if index.ntotal == 0 or (allowed is not None and allowed.size == 0):
            return []
        params = search_parameters(index, self.manifest["faiss"].get("nprobe"), allowed)
        scores, ids = index.search(vector.reshape(1, -1).astype(np.float32), min(k, index.ntotal), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def keyword_search(self, query_words: list[str], limit: int, filters: Filters) -> dict[int, float]:
        """The best `limit` articles by BM25 (higher is better), by row number n, best first."""
        match = fts_query(query_words)
        if not match:
            return {}
        if filters:  # joining the articles table costs a few ms, so only a filtered search does it
            where, params = filter_sql(filters)
            rows = self.db.execute(
                "SELECT a.n, bm25(articles_fts) AS rank FROM articles_fts JOIN articles a ON a.n = articles_fts.rowid "
                f"WHERE articles_fts MATCH ? AND {where} ORDER BY rank LIMIT ?", [match, *params, limit])
        else:
            rows = self.db.execute("SELECT rowid, bm25(articles_fts) AS rank FROM articles_fts "
                                   "WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?", [match, limit])
        return {r[0]: -float(r[1]) for r in rows}

    def chunk_similarities(self, chunk_ids: list[int], vector: np.ndarray) -> list[float]:
        """The cosine of each chunk with `vector` (stored vectors are normalized: a dot product)."""
        if not chunk_ids:
            return []
        return (self.vectors.reconstruct_batch(np.asarray(chunk_ids, dtype=np.int64)) @ vector).tolist()

    def chunk_owners(self, chunk_ids: list[int]) -> set[int]:
        """The articles (row numbers n) these chunks belong to."""
        if not chunk_ids:
            return set()
        rows = self.db.execute("SELECT DISTINCT a.n FROM chunks c JOIN articles a ON a.id = c.article_id "
                               f"WHERE c.id IN ({','.join('?' * len(chunk_ids))})", chunk_ids)
        return {r[0] for r in rows}

    def article_chunks(self, ns: set[int]) -> dict[int, list[IndexChunk]]:
        """The chunks of each article (by its row number n), in text order: the first is its lead."""
        if not ns:
            return {}
        rows = self.db.execute(
            "SELECT c.id, a.n, c.start, c.end FROM articles a JOIN chunks c ON c.article_id = a.id "
            f"WHERE a.n IN ({','.join('?' * len(ns))}) ORDER BY a.n, c.position", sorted(ns))
        chunks: dict[int, list[IndexChunk]] = {}
        for r in rows:
            chunks.setdefault(r[1], []).append(IndexChunk(r[0], r[2], r[3]))
        return chunks

    def chunk_rows(self, chunk_ids: list[int]) -> dict[int, ChunkRow]:
        if not chunk_ids:
            return {}
        rows = self.db.execute(
            "SELECT c.id, a.id AS article_id, substr(a.text, c.start + 1, c.end - c.start) AS text, a.title, a.source, "
            "a.published, a.url FROM chunks c JOIN articles a ON a.id = c.article_id "
            f"WHERE c.id IN ({','.join('?' * len(chunk_ids))})", chunk_ids)
        return {r["id"]: ChunkRow(*r) for r in rows}

    # -- articles and what they cover

    def sentences(self, article_id: str) -> list[Span]:
        rows = self.db.execute(
            "SELECT start, end FROM sentences WHERE article_id = ? ORDER BY position", (article_id,))
        return [Span(r["start"], r["end"]) for r in rows]

    def sentences_in(self, article_id: str, start: int, end: int) -> list[tuple[int, Span]]:
        """(position, span) of the article's sentences inside [start, end)."""
        rows = self.db.execute(
            "SELECT position, start, end FROM sentences WHERE article_id = ? AND start >= ? AND end <= ? "
            "ORDER BY position", (article_id, start, end))
        return [(r["position"], Span(r["start"], r["end"])) for r in rows]

    def document_frequencies(self, stems: list[str]) -> tuple[dict[str, int], int]:
        """How many articles hold each stemmed term, and how many articles there are (for IDF)."""
        db = self.db
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.articles_vocab USING fts5vocab(main, articles_fts, row)")
        unique = list(dict.fromkeys(stems))
        df = {t: 0 for t in unique}
        if unique:
            marks = ",".join("?" * len(unique))
            for term, count in db.execute(f"SELECT term, doc FROM temp.articles_vocab WHERE term IN ({marks})", unique):
                df[term] = count
        return df, self.manifest["counts"]["articles"]

    def fetch_state(self) -> dict[str, FetchState]:
        """What earlier builds remember of the URLs they fetched, for the articles still here (a page
        whose article was removed is fetched whole again)."""
        try:
            rows = self.db.execute("SELECT * FROM fetch_state f WHERE article_id = '' OR EXISTS "
                                   "(SELECT 1 FROM articles a WHERE a.id = f.article_id)").fetchall()
        except sqlite3.OperationalError:  # an index from before URLs: nothing fetched yet
            return {}
        return {r["url"]: FetchState(*r) for r in rows}

    def sources(self) -> list[str]:
        """The outlets, most articles first; computed once, as a generation never changes."""
        if self._sources is None:
            rows = self.db.execute("SELECT source FROM articles WHERE source != '' GROUP BY source "
                                   "ORDER BY COUNT(*) DESC, source")
            self._sources = [r[0] for r in rows]
        return list(self._sources)

    def months(self) -> dict[str, int]:
        """Articles per month ("YYYY-MM"); computed once, as a generation never changes."""
        if self._months is None:
            rows = self.db.execute("SELECT substr(published, 1, 7), COUNT(*) FROM articles "
                                   "WHERE length(published) >= 7 GROUP BY 1")
            self._months = {r[0]: r[1] for r in rows}
        return dict(self._months)

    def stats(self) -> dict[str, Any]:
        """Counts, sources, date range and size; computed once, as a generation never changes."""
        if self._stats is None:
            self._stats = self._compute_stats()
        return dict(self._stats)

    def coverage(self) -> dict[str, Any]:
        """What the index covers: each outlet's article count with its oldest and newest date (most
        articles first; "" is articles without an outlet), the articles per week (weeks start on Monday,
        weeks without articles left out; undated articles are in no week), and the oldest and newest
        dates. Computed once, as a generation never changes."""
        if self._coverage is None:
            outlets = [{"outlet": r[0], "articles": r[1], "oldest": r[2] or "", "newest": r[3] or ""}
                       for r in self.db.execute(
                           "SELECT source, COUNT(*), MIN(NULLIF(published, '')), MAX(NULLIF(published, '')) "
                           "FROM articles GROUP BY source ORDER BY COUNT(*) DESC, source")]
            # A date moved back 6 days, then on to the next Monday (or the same day), is its week's Monday.
            weeks = [{"week": r[0], "articles": r[1]} for r in self.db.execute(
                "SELECT date(published, '-6 days', 'weekday 1') AS week, COUNT(*) FROM articles "
                "WHERE week IS NOT NULL GROUP BY week ORDER BY week")]
            first, last = self.stats()["date_range"]
            self._coverage = {"outlets": outlets, "weeks": weeks, "oldest": first, "newest": last}
        return copy.deepcopy(self._coverage)

    def newest_published(self, before: str = "") -> str:
        """The newest publication date (before `before`, an ISO date, when given), or ""."""
        sql = "SELECT MAX(published) FROM articles WHERE published != ''" + (" AND published < ?" if before else "")
        row = self.db.execute(sql, [before] if before else []).fetchone()
        return row[0] or ""

    def coverage_end(self, sources: tuple[str, ...] = ()) -> str:
        """The newest publication date of the named outlets' articles; without names, of the articles that
        name an outlet (a stray article without one, like the demo's 2020 sample, does not move where the
        outlets' coverage ends); of all articles when none names an outlet. Kept per outlets."""
        end = self._coverage_end.get(sources)
        if end is None:
            where = "source IN (" + ",".join("?" * len(sources)) + ")" if sources else "source != ''"
            row = self.db.execute(f"SELECT published FROM articles WHERE {where} AND published != '' "
                                  "ORDER BY published DESC LIMIT 1", list(sources)).fetchone()
            end = self._coverage_end[sources] = (row[0] if row else self.stats()["date_range"][1])[:10]
        return end

    def _compute_stats(self) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT NULLIF(source, '')) AS sources, "
            "MIN(NULLIF(published, '')) AS first, MAX(NULLIF(published, '')) AS last FROM articles").fetchone()
        chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return {"articles": row["n"], "chunks": chunks, "sources": row["sources"],
                "date_range": [row["first"] or "", row["last"] or ""], "bytes": self._bytes}


def filter_sql(filters: Filters) -> tuple[str, list[Any]]:
    """A WHERE clause over `articles a` that keeps what `filters` keep, and its parameters."""
    clauses, params = ["1"], []
    if filters.date_from:
        clauses.append("a.published != '' AND a.published >= substr(?, 1, length(a.published))")
        params.append(filters.date_from)
    if filters.date_to:
        clauses.append("a.published != '' AND a.published <= substr(?, 1, length(a.published))")
        params.append(filters.date_to)
    if filters.sources:
        clauses.append(f"lower(a.source) IN ({','.join('?' * len(filters.sources))})")
        params += [s.lower() for s in filters.sources]
    return " AND ".join(clauses), params


def _article(row: sqlite3.Row) -> Article:
    return Article(text=row["text"], id=row["id"], title=row["title"], source=row["source"],
                   url=row["url"], published=row["published"], origin=row["origin"])


class Writer:
    """A new generation of the index, made from the current one and committed atomically.

    Use as `with Writer.begin(dir, model, dimension, settings) as w: ...`; leaving the
    block normally commits, an exception discards the new generation.
    """

    def __init__(self, index_dir: Path, lock: FileLock, manifest: dict[str, Any] | None,
                 model: dict[str, Any], settings: Settings) -> None:
        self.dir = index_dir
        self._lock = lock
        self.previous = manifest
        self.model = model
        self.settings = settings.manifest_dict()  # what the manifest records
        self.index_settings: IndexSettings = settings.index
        self.description = (manifest or {}).get("description", "")  # what the index holds, in words
        self.generation = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.db_path = index_dir / f"newsqa-{self.generation}.sqlite"
        self.vectors_path = index_dir / f"vectors-{self.generation}.faiss"
        self.manifest_tmp = index_dir / f"{MANIFEST}.{self.generation}.tmp"
        self.committed = False
        self.dirty = False
        self.db: sqlite3.Connection | None = None
        try:
            self.db = self._open_db()
            self.vectors = self._open_vectors()
        except BaseException:
            self._discard()  # a full disk while copying the database must not leave the copy behind
            raise

    @classmethod
    @contextmanager
    def begin(cls, index_dir: str | os.PathLike[str], model: dict[str, Any],
              settings: Settings) -> Iterator[Writer]:
        """`model` is the embedding model's {"name", "dimension", "max_tokens"}; an existing
        index must have been built with the same name and dimension."""
        index_dir = Path(index_dir)
        created = not index_dir.exists()
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
            lock = _acquire(index_dir)
        except OSError as exc:
            _remove_new_dir(index_dir, created)
            raise _write_failed(exc, index_dir, committed=False) from exc
        first = not (index_dir / MANIFEST).exists()
        writer: Writer | None = None
        try:
            manifest = None if first else read_manifest(index_dir)
            if manifest:
                check_model(manifest, model["name"], model["dimension"], index_dir)
            _remove_orphans(index_dir, manifest)
            writer = cls(index_dir, lock, manifest, model, settings)
            yield writer
            if writer.dirty or manifest is None:  # a first write that adds nothing still makes an index
                writer._commit()
            else:
                writer._discard()  # nothing changed: keep the current generation and its file names
        except BaseException as exc:
            committed = writer is not None and writer.committed
            if writer is not None:
                writer._discard()
            if first and not committed:  # a first build that failed leaves nothing behind, lock included
                (index_dir / LOCK).unlink(missing_ok=True)  # while still held: no other writer can be let in
                _remove_new_dir(index_dir, created)
            if _is_write_error(exc):
                raise _write_failed(exc, index_dir, committed) from exc
            raise
        finally:
            lock.release()

    # -- reading the current state

    def stored(self) -> dict[str, StoredArticle]:
        rows = self.db.execute("SELECT id, content_hash, dedupe_key, origin_file FROM articles")
        return {r[0]: StoredArticle(*r) for r in rows}

    def chunk_ids(self, article_ids: Iterable[str]) -> list[int]:
        ids: list[int] = []
        for batch in _batches(list(article_ids), _ID_BATCH):
            marks = ",".join("?" * len(batch))
            ids += [r[0] for r in self.db.execute(f"SELECT id FROM chunks WHERE article_id IN ({marks})", batch)]
        return ids

    def ids_where(self, before: str = "", source: str = "") -> list[str]:
        """Ids of the articles dated before `before` (an ISO date) and from `source` (either may be "").
        An article's date is its publication date, else the day it was added; a partial date (2017-03)
        is before a day only if all of it is. Neither given: none (never every article)."""
        if not (before or source):
            return []
        rows = self.db.execute(*ids_where_sql(before, source, "?"))
        return [r[0] for r in rows]

    def save_fetch_state(self, states: Iterable[FetchState]) -> None:
        """Remember validators for the next conditional GET; rows of articles since removed are dropped."""
        before = self.db.total_changes
        self.db.executemany("INSERT INTO fetch_state VALUES (?,?,?,?,?) ON CONFLICT(url) DO UPDATE SET "
                            "etag = excluded.etag, last_modified = excluded.last_modified, "
                            "article_id = excluded.article_id, fetched_at = excluded.fetched_at "
                            "WHERE (etag, last_modified, article_id) IS NOT "
                            "(excluded.etag, excluded.last_modified, excluded.article_id)",
                            [(s.url, s.etag, s.last_modified, s.article_id, s.fetched_at) for s in states])
        self.db.execute("DELETE FROM fetch_state WHERE article_id != '' AND article_id NOT IN "
                        "(SELECT id FROM articles)")
        self.dirty = self.dirty or self.db.total_changes > before

    # -- changes

    def delete(self, article_ids: Sequence[str]) -> int:
        chunk_ids = self.chunk_ids(article_ids)
        if chunk_ids:
            self.vectors.remove_ids(np.asarray(chunk_ids, dtype=np.int64))
        removed = 0
        for batch in _batches(list(article_ids), _ID_BATCH):
            marks = ",".join("?" * len(batch))
            self.db.execute("INSERT INTO articles_fts(articles_fts, rowid, text) SELECT 'delete', n, text "
                            f"FROM articles WHERE id IN ({marks})", batch)
            removed += self.db.execute(f"DELETE FROM articles WHERE id IN ({marks})", batch).rowcount
        self.dirty = self.dirty or removed > 0
        return removed

    def insert(self, article: Article, content_hash: str, dedupe_key: str, origin_file: str,
               chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Add one article; ArticleRejected (with nothing of it left behind) if its values cannot be stored."""
        steps: list[int] = []  # the article's row, once inserted; then again once its keyword row is
        try:
            self._insert(article, content_hash, dedupe_key, origin_file, chunks, vectors, steps)
        except _REJECTED as exc:
            self._undo_insert(article, steps)
            raise ArticleRejected(f"the index cannot store this article ({type(exc).__name__}: "
                                  f"{str(exc)[:200]})") from exc

    def _undo_insert(self, article: Article, steps: list[int]) -> None:
        """Remove what a failed insert wrote (the generation has no journal to roll back)."""
        if len(steps) > 1:
            self.db.execute("INSERT INTO articles_fts(articles_fts, rowid, text) VALUES ('delete', ?, ?)",
                            (steps[0], article.text))
        if steps:
            self.db.execute("DELETE FROM articles WHERE n = ?", (steps[0],))  # chunks and sentences cascade

    def _insert(self, article: Article, content_hash: str, dedupe_key: str, origin_file: str,
                chunks: Sequence[Chunk], vectors: np.ndarray, steps: list[int]) -> None:
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.dirty = True
        cur = self.db.execute(
            "INSERT INTO articles (id, title, source, url, published, text, content_hash, dedupe_key, origin, "
            "origin_file, added_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (article.id, article.title, article.source, article.url, article.published, article.text,
             content_hash, dedupe_key, article.origin, origin_file, now))
        steps.append(cur.lastrowid)
        self.db.execute("INSERT INTO articles_fts(rowid, text) VALUES (?, ?)", (cur.lastrowid, article.text))
        steps.append(cur.lastrowid)
        units = sorted({s for chunk in chunks for s in chunk.sentences}, key=lambda s: (s.start, s.end))
        self.db.executemany("INSERT INTO sentences VALUES (?,?,?,?)",
                            [(article.id, i, s.start, s.end) for i, s in enumerate(units)])
        ids = []
        for chunk in chunks:
            cur = self.db.execute("INSERT INTO chunks (article_id, position, start, end) VALUES (?,?,?,?)",
                                  (article.id, chunk.position, chunk.start, chunk.end))
            ids.append(cur.lastrowid)
        if ids:
            self.vectors.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                      np.asarray(ids, dtype=np.int64))

    # -- generation lifecycle

    def _open_db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path)
        try:
            # The new generation is thrown away on any failure, so it needs no journal of its own.
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            if self.previous:
                source = open_database(self.dir / self.previous["files"]["database"])
                try:
                    source.backup(conn)
                finally:
                    source.close()
            else:
                conn.executescript(SCHEMA)
            conn.executescript(FETCH_SCHEMA)
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def _fit_vectors(self) -> None:
        """Flat while small; IVF past the threshold (flat search time grows with every vector).

        An IVF index is rebuilt once it has grown to need 4x its lists (each probe would scan 4x the
        vectors), and goes back to flat below half the threshold (the half keeps an index near the
        threshold from switching back and forth on every write)."""
        above = self.index_settings.approximate_above
        n, approximate = self.vectors.ntotal, _is_ivf(self.vectors)
        outgrown = approximate and ivf_lists(n) >= 4 * faiss.extract_index_ivf(self.vectors).nlist
        if above and n > above and (not approximate or outgrown):
            self.vectors = approximate_index(*all_vectors(self.vectors), self.model["dimension"])
        elif approximate and (not above or n < above // 2):
            flat = self._new_flat()
            flat.add_with_ids(*all_vectors(self.vectors))
            self.vectors = flat

    def _new_flat(self) -> faiss.Index:
        kind = _FAISS_TYPES[self.index_settings.vectors]
        return faiss.index_factory(self.model["dimension"], kind, faiss.METRIC_INNER_PRODUCT)

    def _open_vectors(self) -> faiss.Index:
        if self.previous:
            return read_vectors(self.dir / self.previous["files"]["vectors"], self.previous)
        return self._new_flat()

    def _commit(self) -> None:
        self.db.commit()
        counts = self.db.execute(COUNTS_SQL).fetchone()
        chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        # Merge the keyword index's segments and drop free pages: the generation is final from here on.
        self.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
        self.db.execute("PRAGMA optimize")
        self.db.commit()
        self.db.execute("VACUUM")
        self.db.close()
        if chunks != self.vectors.ntotal:
            raise RuntimeError(f"internal error: {chunks} chunks but {self.vectors.ntotal} vectors; index unchanged")
        self._fit_vectors()
        _write_vectors(self.vectors, self.vectors_path)
        for path in (self.db_path, self.vectors_path):
            _fsync(path)
        vectors = {"type": _faiss_type(self.vectors), "vectors": self.vectors.ntotal, **_search_defaults(self.vectors)}
        manifest = {**manifest_of(FORMAT, self.model, self.description, self.settings, counts, chunks, vectors),
                    "files": {"database": self.db_path.name, "vectors": self.vectors_path.name}}
        tmp = self.manifest_tmp
        tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _fsync(tmp)
        os.replace(tmp, self.dir / MANIFEST)
        self.committed = True
        _fsync(self.dir)
        if self.previous:
            for name in self.previous["files"].values():
                (self.dir / name).unlink(missing_ok=True)

    def _discard(self) -> None:
        if self.committed:
            return  # the manifest already names this generation: it is the index now
        try:
            if self.db is not None:
                self.db.close()  # closing twice (after a failed commit) is harmless
        finally:
            for path in (self.db_path, self.vectors_path, self.manifest_tmp):
                path.unlink(missing_ok=True)


def _faiss_type(index: faiss.Index) -> str:
    """The FAISS factory string of the index, e.g. "IDMap2,SQfp16" or "IVF1024,SQ8"."""
    if _is_ivf(index):
        ivf = faiss.downcast_index(index)
        if isinstance(ivf, faiss.IndexIVFFlat):
            return f"IVF{ivf.nlist},Flat"
        codes = {faiss.ScalarQuantizer.QT_fp16: "SQfp16", faiss.ScalarQuantizer.QT_8bit: "SQ8"}.get(ivf.sq.qtype, "SQ")
        return f"IVF{ivf.nlist},{codes}"
    inner = faiss.downcast_index(index.index)
    if isinstance(inner, faiss.IndexScalarQuantizer) and inner.sq.qtype == faiss.ScalarQuantizer.QT_fp16:
        return _FAISS_TYPES["float16"]
    return _FAISS_TYPES["float32"] if isinstance(inner, faiss.IndexFlat) else f"IDMap2,{type(inner).__name__}"


def _is_ivf(index: faiss.Index) -> bool:
    return isinstance(faiss.downcast_index(index), faiss.IndexIVF)


def _search_defaults(index: faiss.Index) -> dict[str, int]:
    """What a reader needs to search the index as measured: the lists an IVF index probes."""
    return {"nlist": faiss.extract_index_ivf(index).nlist, "nprobe": NPROBE} if _is_ivf(index) else {}


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: the power of two nearest sqrt(n), so a list holds about as many
    vectors as there are lists (training and probing stay cheap); at least TRAIN_PER_LIST vectors a list."""
    lists = 2 ** round(np.log2(max(n, 1)) / 2)
    return int(max(1, min(lists, n // TRAIN_PER_LIST)))


def approximate_index(vectors: np.ndarray, ids: np.ndarray, dimension: int,
                      codes: str = APPROXIMATE_CODES) -> faiss.Index:
    """IVF{ivf_lists(n)},{codes} trained on (a sample of) `vectors`, holding them under `ids`.

    IVF takes ids and removals natively (HNSW cannot remove). A hashtable direct map lets
    `reconstruct(chunk_id)` work for sparse chunk ids, as the retriever needs."""
    nlist = ivf_lists(len(vectors))
    index = faiss.index_factory(dimension, f"IVF{nlist},{codes}", faiss.METRIC_INNER_PRODUCT)
    sample = vectors
    if len(vectors) > nlist * TRAIN_PER_LIST:
        rows = np.random.default_rng(0).choice(len(vectors), nlist * TRAIN_PER_LIST, replace=False)
        sample = vectors[np.sort(rows)]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    for first in range(0, len(vectors), 100_000):  # in slices: the float32 copy stays small
        index.add_with_ids(np.ascontiguousarray(vectors[first:first + 100_000], dtype=np.float32),
                           np.ascontiguousarray(ids[first:first + 100_000], dtype=np.int64))
    return index


def all_vectors(index: faiss.Index) -> tuple[np.ndarray, np.ndarray]:
    """Every (decoded) vector of an IDMap2 or IVF index, and its id."""
    if _is_ivf(index):
        ivf = faiss.extract_index_ivf(index)
        lists = ivf.invlists
        ids = np.concatenate([np.zeros(0, dtype=np.int64)] + [
            faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
            for i in range(ivf.nlist) if lists.list_size(i)])
        ids.sort()
        vectors = ivf.reconstruct_batch(ids) if len(ids) else np.zeros((0, ivf.d), dtype=np.float32)
        return vectors, ids
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    return index.index.reconstruct_n(0, index.ntotal), ids


def search_parameters(index: faiss.Index, nprobe: int | None,
                      allowed: np.ndarray | None) -> faiss.SearchParameters | None:
    """Search parameters: the recorded nprobe for IVF, and a filter to `allowed` ids if given.

    A filter that keeps a share f of the vectors leaves about f of each probed list, so an IVF
    search probes 1/f times more lists (at most all) to still fill its result list."""
    sel = faiss.IDSelectorBatch(allowed) if allowed is not None else None
    if not _is_ivf(index):
        return faiss.SearchParameters(sel=sel) if sel is not None else None
    nlist = faiss.extract_index_ivf(index).nlist
    probes = nprobe or NPROBE
    if allowed is not None and allowed.size:
        probes = int(np.ceil(probes * index.ntotal / allowed.size))
    params = faiss.SearchParametersIVF(nprobe=max(1, min(probes, nlist)))
    if sel is not None:
        params.sel = sel
    return params


def _write_vectors(index: faiss.Index, path: Path) -> None:
    """faiss.write_index to a path only prints a failed close and returns: on a full disk the end of the
    file was lost without an error (seen on a 64 KB tmpfs). Written through a Python file, it raises."""
    with open(path, "wb") as file:
        faiss.write_index(index, faiss.PyCallbackIOWriter(file.write))


def _acquire(index_dir: Path) -> FileLock:
    lock = FileLock(str(index_dir / LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IndexLocked(
            f"index is locked: another newsqa process is writing to {index_dir}; "
            f"wait for it to finish (the lock is {index_dir / LOCK})") from None
    return lock


def _remove_new_dir(index_dir: Path, created: bool) -> None:
    """The index folder this write made, if nothing else is in it."""
    if created:
        try:
            index_dir.rmdir()
        except OSError:
            pass  # not empty, or already gone: leave it


# SQLite's result codes for a disk that refuses writes: SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN
_SQLITE_WRITE_ERRORS = {8, 10, 13, 14}
_DISK_FULL = "no space left on device"


def _is_write_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _SQLITE_WRITE_ERRORS
    # FAISS reports a failed write as a RuntimeError quoting the C library's reason
    return isinstance(exc, RuntimeError) and _DISK_FULL in str(exc).lower()


def _write_failed(exc: BaseException, index_dir: Path, committed: bool) -> IndexWriteFailed:
    """One line for a failed write: what failed, where, and what to do."""
    full = (isinstance(exc, OSError) and exc.errno == errno.ENOSPC or _DISK_FULL in str(exc).lower()
            or (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == 13)
    if full:
        reason = "the disk is full"
    elif isinstance(exc, OSError):
        reason = (exc.strerror or str(exc)).lower() + (f" ({exc.filename})" if exc.filename else "")
    else:
        reason = next(iter(str(exc).splitlines()), type(exc).__name__)
    state = ("the new index was saved, but finishing it failed" if committed
             else "the index is as it was before this command, with no files left behind")
    fix = "free some space" if full else f"make {index_dir} writable"
    return IndexWriteFailed(f"cannot write the index in {index_dir}: {reason}; {state}; {fix} and run the "
                            "command again")


def _remove_orphans(index_dir: Path, manifest: dict[str, Any] | None) -> None:
    """Files of generations that died before their commit (kill -9, power loss)."""
    keep = set(manifest["files"].values()) if manifest else set()
    for path in index_dir.iterdir():
        generated = path.name.startswith(("newsqa-", "vectors-")) and path.suffix in (".sqlite", ".faiss")
        if (generated and path.name not in keep) or path.name.startswith(f"{MANIFEST}.") and path.suffix == ".tmp":
            path.unlink(missing_ok=True)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, 0)
    return (st.st_mtime_ns, st.st_ino)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for first in range(0, len(items), size):
        yield items[first:first + size]
