"""The index in PostgreSQL with pgvector: the backend for an index location `postgresql://user@host/db[?schema=NAME]`.

One schema (default `newsqa`) holds an index: `meta` (schema version, generation, what the index records of
itself), `articles` (with a `tsvector` of the whole text, english configuration), `chunks` (offsets, the
article's date and outlet for filtering, and a `halfvec` embedding under an HNSW cosine index), `sentences`,
`terms` (how many articles hold each stemmed content word, for the answerer's IDF: the words and stems are
lexical.py's, as the directory index's FTS5 vocabulary has them) and `fetch_state`.

A write is one transaction under a transaction-scoped advisory lock: a second writer is refused ("index is
locked"), readers see the old state until the commit and the new one after it, and a writer killed mid-build
leaves nothing behind. Each commit bumps `meta.generation`; a reader whose generation is no longer the
current one is stale, and `NewsQA` opens the current one, so a change by another process is seen without a
restart. Connections come from one pool per database and schema, shared by all readers and writers.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import math
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from . import __version__
from .config import Settings
from .lexical import stem, terms
from .redact import mask
from .storage import (ArticleRejected, ChunkRow, FetchState, IndexChunk, IndexIncompatible, IndexLocked,
                      IndexNotFound, StoredArticle, StoreError, check_model, ids_where_sql,
                      COUNTS_SQL, manifest_of)
from .types import Article, Chunk, Filters, Span

try:
    import psycopg
    from psycopg import sql
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError:  # the `postgres` extra is not installed
    psycopg = None  # type: ignore[assignment]

SCHEMA_VERSION = 1
DEFAULT_SCHEMA = "newsqa"
# HNSW candidates kept while searching. pgvector's default (40) is below the retriever's depth (50 chunks).
# Recall@10 against exact search on the demo corpus, 293 questions (bench/results/pgvector.md): 40: 0.965,
# 100: 0.990 (0.966 with an outlet-and-quarter filter), at 1.5 ms p50; 200: 0.998 at twice the time.
EF_SEARCH = 100
# ts_rank's normalization 1 divides by 1 + the log of the article's length in words (BM25 also discounts long
# articles); with it, recall@5 on the demo corpus equals the directory index's (README, Scale). Others not tried.
KEYWORD_NORMALIZATION = 1
POOL_SIZE = 8  # connections per database and schema: a chat server answers a few questions at a time
CONNECT_TIMEOUT = 10  # seconds to wait for a connection before saying the database cannot be reached
_ID_BATCH = 1000  # ids per `= ANY(%s)` array in a write


def _schema_sql(dimension: int) -> str:
    return f"""
CREATE TABLE meta (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    schema_version integer NOT NULL,
    generation bigint NOT NULL,
    manifest jsonb NOT NULL
);
CREATE TABLE articles (
    n bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    title text NOT NULL,
    source text NOT NULL,
    url text NOT NULL,
    published text NOT NULL,
    text text NOT NULL,
    content_hash text NOT NULL,
    dedupe_key text NOT NULL,
    origin text NOT NULL,
    origin_file text NOT NULL,
    added_at text NOT NULL,
    keywords tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
);
CREATE INDEX articles_keywords ON articles USING gin (keywords);
CREATE INDEX articles_published ON articles (published);
CREATE INDEX articles_source ON articles (lower(source));
CREATE TABLE chunks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- never reused, like the directory's AUTOINCREMENT
    article_n bigint NOT NULL REFERENCES articles (n) ON DELETE CASCADE,
    position integer NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    published text NOT NULL,  -- the article's, so that a filter applies inside the vector index scan
    source text NOT NULL,  -- the article's, lower case
    embedding halfvec({dimension}) NOT NULL
);
CREATE INDEX chunks_article ON chunks (article_n);
CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding halfvec_cosine_ops);
CREATE TABLE sentences (
    article_id text NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    position integer NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    PRIMARY KEY (article_id, position)
);
CREATE TABLE terms (term text PRIMARY KEY, articles integer NOT NULL);
CREATE TABLE fetch_state (
    url text PRIMARY KEY,
    etag text NOT NULL,
    last_modified text NOT NULL,
    article_id text NOT NULL,
    fetched_at text NOT NULL
);
"""


# -- locations and connections

def split_url(url: str) -> tuple[str, str]:
    """(libpq connection URL, schema) of an index URL: `?schema=NAME` is newsqa's, the rest libpq's."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in query if key == "schema"]
    schema = schemas[-1] if schemas else DEFAULT_SCHEMA
    if not schema or not schema.replace("_", "a").isalnum() or schema[0].isdigit():
        raise StoreError(f"schema={schema!r} in the index URL is not a plain schema name; use letters, digits "
                         "and _ (not first a digit), e.g. ?schema=newsqa")
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema.lower()


def shown(url: str) -> str:
    """The URL as messages show it: without a password."""
    return mask(url)


_pools: dict[tuple[str, str], ConnectionPool] = {}
_pools_lock = threading.Lock()


def _pool(url: str) -> tuple[ConnectionPool, str]:
    """The shared pool for the database and schema of `url`, opened on first use."""
    if psycopg is None:
        raise StoreError(f"{shown(url)} is a PostgreSQL index, but psycopg is not installed; "
                         "install it with: pip install 'newsqa[postgres]'")
    conninfo, schema = split_url(url)
    with _pools_lock:
        pool = _pools.get((conninfo, schema))
        if pool is None:
            pool = ConnectionPool(conninfo, min_size=1, max_size=POOL_SIZE, timeout=CONNECT_TIMEOUT, open=False,
                                  configure=lambda conn: _configure(conn, schema), name=f"newsqa-{schema}")
            pool.open()
            _pools[(conninfo, schema)] = pool
    return pool, schema


def _configure(conn: psycopg.Connection, schema: str) -> None:
    """Each connection searches the index's schema first (pgvector's types stay reachable in public) and
    filters inside the HNSW scan: pgvector 0.8's iterative scan goes on past `ef_search` until the filter
    has let through enough rows; relaxed order, as the retriever orders its candidates itself."""
    conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
    conn.execute(f"SET hnsw.ef_search = {int(EF_SEARCH)}")
    conn.execute("SET hnsw.iterative_scan = relaxed_order")
    conn.commit()


@atexit.register
def close_pools() -> None:
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


@contextmanager
def _connection(url: str) -> Iterator[psycopg.Connection]:
    """A pooled connection in a transaction, committed when the block ends normally."""
    pool, _ = _pool(url)
    try:
        with pool.connection() as conn:
            yield conn
    except PoolTimeout as exc:
        raise StoreError(f"cannot connect to PostgreSQL at {shown(url)} within {CONNECT_TIMEOUT} s; check that "
                         "the server runs and the URL (user, host, database) is right") from exc


def _exists(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", [f"{schema}.meta"]).fetchone()
    return row[0] is not None


def _meta(conn: psycopg.Connection, url: str, schema: str) -> tuple[int, dict[str, Any]]:
    """(generation, manifest) of the index, checked: IndexNotFound, or IndexIncompatible for a newer schema."""
    if not _exists(conn, schema):
        raise IndexNotFound(f"no newsqa index in {shown(url)} (schema {schema} has none); build one with: "
                            f"newsqa build PATH --index {shown(url)}")
    version, generation, manifest = conn.execute(
        "SELECT schema_version, generation, manifest FROM meta").fetchone()
    if version > SCHEMA_VERSION:
        raise IndexIncompatible(
            f"{shown(url)} has index schema version {version}, newer than this newsqa {__version__} reads "
            f"(version {SCHEMA_VERSION}); upgrade newsqa (pip install -U newsqa) or build the index into "
            "another schema (?schema=NAME)")
    return generation, manifest


def read_meta(url: str) -> dict[str, Any]:
    with _connection(url) as conn:
        return _meta(conn, url, _pool(url)[1])[1]


def has_index(url: str) -> bool:
    with _connection(url) as conn:
        return _exists(conn, _pool(url)[1])


def _filter_sql(filters: Filters, published: str, source: str) -> tuple[str, list[Any]]:
    """A condition on the columns `published` and `source` (lower case) that keeps what `filters` keep.
    A date compares at the precision the article has, as in the directory index."""
    clauses, params = ["true"], []
    if filters.date_from:
        clauses.append(f"{published} != '' AND {published} >= left(%s, length({published}))")
        params.append(filters.date_from)
    if filters.date_to:
        clauses.append(f"{published} != '' AND {published} <= left(%s, length({published}))")
        params.append(filters.date_to)
    if filters.sources:
        clauses.append(f"{source} = ANY(%s)")
        params.append([s.lower() for s in filters.sources])
    return " AND ".join(clauses), params


def _vector(values: np.ndarray) -> str:
    """A vector in pgvector's text form."""
    return "[" + ",".join(f"{v:.7g}" for v in np.asarray(values, dtype=np.float32).tolist()) + "]"


def _article(row: Sequence[Any]) -> Article:
    article_id, title, source, url, published, text, origin = row
    return Article(text=text, id=article_id, title=title, source=source, url=url, published=published, origin=origin)


_ARTICLE_COLUMNS = "id, title, source, url, published, text, origin"


class PgReader:
    """One generation of an index in PostgreSQL; safe to share between threads (each query takes a pooled
    connection). What it computes once (stats, outlets, months) belongs to its generation."""

    def __init__(self, url: str) -> None:
        self.location = url
        self._pool, self.schema = _pool(url)
        with self._connection() as conn:
            self.generation, self.manifest = _meta(conn, url, self.schema)
        self._cache: dict[Any, Any] = {}
        self._cache_lock = threading.Lock()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        with _connection(self.location) as conn:
            yield conn

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            return conn.execute(query, params).fetchall()

    def _once(self, key: Any, compute: Any) -> Any:
        with self._cache_lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            if len(self._cache) >= 256:  # bounded: filters are few, but a script may try many
                self._cache.clear()
            self._cache[key] = value
        return value

    def is_stale(self) -> bool:
        with self._connection() as conn:
            if not _exists(conn, self.schema):
                return True
            return conn.execute("SELECT generation FROM meta").fetchone()[0] != self.generation

    def close(self) -> None:
        """Nothing to close: connections belong to the shared pool."""

    # -- articles and their parts

    def article(self, article_id: str) -> Article | None:
        rows = self._rows(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = %s", [article_id])
        return _article(rows[0]) if rows else None

    def articles(self) -> Iterator[Article]:
        for row in self._rows(f"SELECT {_ARTICLE_COLUMNS} FROM articles ORDER BY published, id"):
            yield _article(row)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return {r[0] for r in self._rows("SELECT id FROM articles WHERE id = ANY(%s)", [list(ids)])}

    def sentences(self, article_id: str) -> list[Span]:
        rows = self._rows('SELECT start, "end" FROM sentences WHERE article_id = %s ORDER BY position', [article_id])
        return [Span(start, end) for start, end in rows]

    def sentences_in(self, article_id: str, start: int, end: int) -> list[tuple[int, Span]]:
        rows = self._rows('SELECT position, start, "end" FROM sentences WHERE article_id = %s AND start >= %s '
                          'AND "end" <= %s ORDER BY position', [article_id, start, end])
        return [(position, Span(s, e)) for position, s, e in rows]

    def document_frequencies(self, stems: list[str]) -> tuple[dict[str, int], int]:
        unique = list(dict.fromkeys(stems))
        df = {t: 0 for t in unique}
        if unique:
            df.update(dict(self._rows("SELECT term, articles FROM terms WHERE term = ANY(%s)", [unique])))
        return df, self.stats()["articles"]

    def fetch_state(self) -> dict[str, FetchState]:
        rows = self._rows("SELECT url, etag, last_modified, article_id, fetched_at FROM fetch_state f "
                          "WHERE article_id = '' OR EXISTS (SELECT 1 FROM articles a WHERE a.id = f.article_id)")
        return {r[0]: FetchState(*r) for r in rows}

    # -- what the index covers

    def stats(self) -> dict[str, Any]:
        return dict(self._once("stats", self._compute_stats))

    def _compute_stats(self) -> dict[str, Any]:
        (n, sources, first, last), = self._rows(
            "SELECT COUNT(*), COUNT(DISTINCT NULLIF(source, '')), MIN(NULLIF(published, '')), "
            "MAX(NULLIF(published, '')) FROM articles")
        (chunks, size), = self._rows(
            "SELECT (SELECT COUNT(*) FROM chunks), (SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) "
            "FROM pg_class c WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'm'))", [self.schema])
        return {"articles": n, "chunks": chunks, "sources": sources, "date_range": [first or "", last or ""],
                "bytes": int(size)}

    def coverage(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._once("coverage", self._compute_coverage)))  # a deep copy

    def _compute_coverage(self) -> dict[str, Any]:
        outlets = [{"outlet": r[0], "articles": r[1], "oldest": r[2] or "", "newest": r[3] or ""}
                   for r in self._rows("SELECT source, COUNT(*), MIN(NULLIF(published, '')), "
                                       "MAX(NULLIF(published, '')) FROM articles GROUP BY source "
                                       "ORDER BY COUNT(*) DESC, source")]
        # Only whole dates have a week, as in the directory index (SQLite's date() of "2017-03" is NULL)
        weeks = [{"week": r[0], "articles": r[1]} for r in self._rows(
            "SELECT to_char(date_trunc('week', published::date), 'YYYY-MM-DD') AS week, COUNT(*) FROM articles "
            "WHERE published ~ '^\\d{4}-\\d{2}-\\d{2}$' GROUP BY week ORDER BY week")]
        first, last = self.stats()["date_range"]
        return {"outlets": outlets, "weeks": weeks, "oldest": first, "newest": last}

    def sources(self) -> list[str]:
        return list(self._once("sources", lambda: [r[0] for r in self._rows(
            "SELECT source FROM articles WHERE source != '' GROUP BY source ORDER BY COUNT(*) DESC, source")]))

    def months(self) -> dict[str, int]:
        return dict(self._once("months", lambda: dict(self._rows(
            "SELECT left(published, 7), COUNT(*) FROM articles WHERE length(published) >= 7 GROUP BY 1"))))

    def newest_published(self, before: str = "") -> str:
        query = "SELECT MAX(published) FROM articles WHERE published != ''" + (" AND published < %s" if before else "")
        return self._rows(query, [before] if before else [])[0][0] or ""

    def coverage_end(self, sources: tuple[str, ...] = ()) -> str:
        """See store.Reader.coverage_end."""
        def compute() -> str:
            where, params = ("source = ANY(%s)", [list(sources)]) if sources else ("source != ''", [])
            rows = self._rows(f"SELECT MAX(published) FROM articles WHERE {where} AND published != ''", params)
            return (rows[0][0] or self.stats()["date_range"][1])[:10]
        return self._once(("coverage_end", sources), compute)

    # -- search

    def chunk_ids_where(self, filters: Filters) -> np.ndarray:
        def compute() -> np.ndarray:
            where, params = _filter_sql(filters, "published", "source")
            return np.fromiter((r[0] for r in self._rows(f"SELECT id FROM chunks WHERE {where}", params)),
                               dtype=np.int64)
        return self._once(("chunk_ids", filters), compute)

    def vector_search(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]]:
        """The `k` nearest chunks by the HNSW index, the filter applied inside its scan, nearest first."""
        where, params = _filter_sql(filters, "published", "source")
        query = _vector(vector)
        rows = self._rows(f"SELECT id, 1 - (embedding <=> %s::halfvec) FROM chunks WHERE {where} "
                          "ORDER BY embedding <=> %s::halfvec LIMIT %s", [query, *params, query, k])
        return sorted(((int(i), float(s)) for i, s in rows), key=lambda hit: -hit[1])  # relaxed order: re-sort

    def keyword_search(self, query_words: list[str], limit: int, filters: Filters) -> dict[int, float]:
        """The best `limit` articles holding any query word, by row number n, best first. Each word's
        `ts_rank` (its frequency, saturating; over the log of the article's length) weighted by its BM25
        IDF, summed: PostgreSQL's ranks know no IDF, and without it common words outvote rare ones."""
        words = [w for w in dict.fromkeys(query_words) if w.isalnum()]  # lexical.words: letters and digits only
        if not words:
            return {}
        idf = self._idf(words)
        where, params = _filter_sql(filters, "a.published", "lower(a.source)")
        score = " + ".join(f"%s * ts_rank(a.keywords, to_tsquery('english', %s), {KEYWORD_NORMALIZATION})"
                           for _ in words)
        rows = self._rows(
            f"SELECT a.n, {score} AS rank FROM articles a, to_tsquery('english', %s) q "
            f"WHERE a.keywords @@ q AND {where} ORDER BY rank DESC, a.n LIMIT %s",
            [*(x for w in words for x in (idf[w], w)), " | ".join(words), *params, limit])
        return {n: float(rank) for n, rank in rows}

    def _idf(self, words: list[str]) -> dict[str, float]:
        """BM25's IDF of each word, from the articles holding its stem (the terms table)."""
        df, total = self.document_frequencies([stem(w) for w in words])
        return {w: math.log(1 + (total - df[stem(w)] + 0.5) / (df[stem(w)] + 0.5)) for w in words}

    def chunk_similarities(self, chunk_ids: list[int], vector: np.ndarray) -> list[float]:
        if not chunk_ids:
            return []
        rows = dict(self._rows("SELECT id, 1 - (embedding <=> %s::halfvec) FROM chunks WHERE id = ANY(%s)",
                               [_vector(vector), chunk_ids]))
        return [float(rows.get(i, 0.0)) for i in chunk_ids]  # 0: removed by a write since the search began

    def chunk_owners(self, chunk_ids: list[int]) -> set[int]:
        if not chunk_ids:
            return set()
        return {r[0] for r in self._rows("SELECT DISTINCT article_n FROM chunks WHERE id = ANY(%s)", [chunk_ids])}

    def article_chunks(self, ns: set[int]) -> dict[int, list[IndexChunk]]:
        chunks: dict[int, list[IndexChunk]] = {}
        if ns:
            for chunk_id, n, start, end in self._rows(
                    'SELECT id, article_n, start, "end" FROM chunks WHERE article_n = ANY(%s) '
                    "ORDER BY article_n, position", [sorted(ns)]):
                chunks.setdefault(n, []).append(IndexChunk(chunk_id, start, end))
        return chunks

    def chunk_rows(self, chunk_ids: list[int]) -> dict[int, ChunkRow]:
        if not chunk_ids:
            return {}
        rows = self._rows(
            'SELECT c.id, a.id, substr(a.text, c.start + 1, c."end" - c.start), a.title, a.source, a.published, '
            "a.url FROM chunks c JOIN articles a ON a.n = c.article_n WHERE c.id = ANY(%s)", [chunk_ids])
        return {r[0]: ChunkRow(*r) for r in rows}



class PgWriter:
    """One write: a transaction on one pooled connection, holding the index's advisory lock."""

    def __init__(self, conn: psycopg.Connection, manifest: dict[str, Any] | None, model: dict[str, Any],
                 settings: Settings) -> None:
        self.conn = conn
        self.previous = manifest
        self.model = model
        self.settings = settings.manifest_dict()
        self.description = (manifest or {}).get("description", "")
        self.dirty = False
        self._term_changes: Counter[str] = Counter()  # articles gained (lost) per term, written at the commit

    @classmethod
    @contextmanager
    def begin(cls, url: str, model: dict[str, Any], settings: Settings) -> Iterator[PgWriter]:
        """Like store.Writer.begin: leaving the block normally commits; an exception rolls everything back."""
        with _connection(url) as conn:
            schema = _pool(url)[1]
            locked = conn.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [f"newsqa:{schema}"]).fetchone()
            if not locked[0]:
                raise IndexLocked(f"index is locked: another newsqa process is writing to {shown(url)}; "
                                  "wait for it to finish")
            first = not _exists(conn, schema)
            if first:
                _create(conn, schema, model["dimension"])
                manifest = None
            else:
                manifest = _meta(conn, url, schema)[1]
                check_model(manifest, model["name"], model["dimension"], shown(url))
            writer = cls(conn, manifest, model, settings)
            yield writer
            if writer.dirty or first:
                writer._commit(first)
            else:
                conn.rollback()

    # -- reading the current state (with this write's changes)

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(query, params).fetchall()

    def stored(self) -> dict[str, StoredArticle]:
        return {r[0]: StoredArticle(*r) for r in self._rows(
            "SELECT id, content_hash, dedupe_key, origin_file FROM articles")}

    def chunk_ids(self, article_ids: Iterable[str]) -> list[int]:
        return [r[0] for r in self._rows("SELECT c.id FROM chunks c JOIN articles a ON a.n = c.article_n "
                                         "WHERE a.id = ANY(%s)", [list(article_ids)])]

    def ids_where(self, before: str = "", source: str = "") -> list[str]:
        """See store.Writer.ids_where."""
        if not (before or source):
            return []
        return [r[0] for r in self._rows(*ids_where_sql(before, source, "%s"))]

    def save_fetch_state(self, states: Iterable[FetchState]) -> None:
        changed = 0
        with self.conn.cursor() as cur:
            for s in states:
                cur.execute("INSERT INTO fetch_state VALUES (%s, %s, %s, %s, %s) ON CONFLICT (url) DO UPDATE SET "
                            "etag = excluded.etag, last_modified = excluded.last_modified, "
                            "article_id = excluded.article_id, fetched_at = excluded.fetched_at "
                            "WHERE (fetch_state.etag, fetch_state.last_modified, fetch_state.article_id) IS DISTINCT "
                            "FROM (excluded.etag, excluded.last_modified, excluded.article_id)",
                            [s.url, s.etag, s.last_modified, s.article_id, s.fetched_at])
                changed += cur.rowcount
            cur.execute("DELETE FROM fetch_state WHERE article_id != '' AND article_id NOT IN "
                        "(SELECT id FROM articles)")
            changed += cur.rowcount
        self.dirty = self.dirty or changed > 0

    # -- changes

    def delete(self, article_ids: Sequence[str]) -> int:
        removed = 0
        ids = list(article_ids)
        for first in range(0, len(ids), _ID_BATCH):
            batch = ids[first:first + _ID_BATCH]
            for (text,) in self._rows("SELECT text FROM articles WHERE id = ANY(%s)", [batch]):
                self._count_terms(text, -1)
            removed += self.conn.execute("DELETE FROM articles WHERE id = ANY(%s)", [batch]).rowcount
        self.dirty = self.dirty or removed > 0
        return removed

    def insert(self, article: Article, content_hash: str, dedupe_key: str, origin_file: str,
               chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Add one article; ArticleRejected (with nothing of it left behind: a savepoint) if PostgreSQL
        refuses a value (a NUL character in a text)."""
        try:
            with self.conn.transaction():
                self._insert(article, content_hash, dedupe_key, origin_file, chunks, vectors)
        except (psycopg.DataError, psycopg.IntegrityError, ValueError) as exc:
            raise ArticleRejected(f"the index cannot store this article ({type(exc).__name__}: "
                                  f"{str(exc)[:200]})") from exc
        self.dirty = True

    def _insert(self, article: Article, content_hash: str, dedupe_key: str, origin_file: str,
                chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        (n,), = self._rows(
            "INSERT INTO articles (id, title, source, url, published, text, content_hash, dedupe_key, origin, "
            "origin_file, added_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING n",
            [article.id, article.title, article.source, article.url, article.published, article.text, content_hash,
             dedupe_key, article.origin, origin_file, now])
        units = sorted({s for chunk in chunks for s in chunk.sentences}, key=lambda s: (s.start, s.end))
        with self.conn.cursor() as cur:
            cur.executemany('INSERT INTO sentences (article_id, position, start, "end") VALUES (%s, %s, %s, %s)',
                            [(article.id, i, s.start, s.end) for i, s in enumerate(units)])
            cur.executemany('INSERT INTO chunks (article_n, position, start, "end", published, source, embedding) '
                            "VALUES (%s, %s, %s, %s, %s, %s, %s::halfvec)",
                            [(n, c.position, c.start, c.end, article.published, article.source.lower(), _vector(v))
                             for c, v in zip(chunks, vectors)])
        self._count_terms(article.text, +1)

    def _count_terms(self, text: str, change: int) -> None:
        """The articles holding each stemmed content word, for the answerer's IDF (document_frequencies).
        Counted here and written once at the commit: an upsert per article made the demo build's writes
        slower with every article (each update of a common term, within one transaction, leaves a row
        version the next one walks past), 100% of a core by its 3,700th article."""
        for term in set(terms(text)):  # not lexical.term_set: its cache would keep the texts
            self._term_changes[term] += change

    def _write_terms(self) -> None:
        changed = [(term, n) for term, n in self._term_changes.items() if n]
        self.conn.execute("INSERT INTO terms (term, articles) SELECT * FROM unnest(%s::text[], %s::integer[]) "
                          "ON CONFLICT (term) DO UPDATE SET articles = terms.articles + excluded.articles",
                          [[t for t, _ in changed], [n for _, n in changed]])
        self.conn.execute("DELETE FROM terms WHERE articles <= 0")

    def _commit(self, first: bool) -> None:
        self._write_terms()
        counts = self._rows(COUNTS_SQL)[0]
        chunks = self._rows("SELECT COUNT(*) FROM chunks")[0][0]
        vectors = {"type": f"pgvector HNSW halfvec({self.model['dimension']}) cosine", "vectors": chunks,
                   "ef_search": EF_SEARCH}
        manifest = manifest_of(SCHEMA_VERSION, self.model, self.description, self.settings, counts, chunks, vectors)
        document = json.dumps(manifest)
        if first:
            self.conn.execute("INSERT INTO meta (schema_version, generation, manifest) VALUES (%s, 1, %s)",
                              [SCHEMA_VERSION, document])
        else:
            self.conn.execute("UPDATE meta SET generation = generation + 1, manifest = %s", [document])
        self.conn.commit()


def _create(conn: psycopg.Connection, schema: str, dimension: int) -> None:
    """The schema and its tables, in the write's transaction: a failed first build leaves nothing."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))  # search_path names it
    for statement in _schema_sql(int(dimension)).split(";"):
        if statement.strip():
            conn.execute(statement)
