"""Hybrid retrieval: FAISS dense search and FTS5 BM25 keyword search, fused by reciprocal rank.

Each `Hit` keeps its rank and score in both retrievers, so a result can be
explained. Filters (dates, sources) apply inside both searches, not after
them, so a narrow filter still fills the result list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import faiss
import numpy as np

from .config import RetrievalSettings
from .embedding import Embedder
from .lexical import content_words, fts_query
from .store import Reader
from .types import Hit


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

    def sql(self) -> tuple[str, list[Any]]:
        """A WHERE clause over `articles a`, and its parameters."""
        clauses, params = ["1"], []
        if self.date_from:
            clauses.append("a.published != '' AND a.published >= substr(?, 1, length(a.published))")
            params.append(self.date_from)
        if self.date_to:
            clauses.append("a.published != '' AND a.published <= substr(?, 1, length(a.published))")
            params.append(self.date_to)
        if self.sources:
            clauses.append(f"lower(a.source) IN ({','.join('?' * len(self.sources))})")
            params += [s.lower() for s in self.sources]
        return " AND ".join(clauses), params


class Retriever:
    def __init__(self, reader: Reader, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings

    def search(self, query: str, k: int = 10, filters: Filters | None = None,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        filters = filters or Filters()
        depth = max(self.settings.candidates, k * 4)
        if query_vector is None:
            query_vector = self.embedder.encode([query])[0]
        allowed = self._allowed_chunks(filters) if filters else None
        dense = self._dense(query_vector, depth, allowed)
        keyword = self._keyword(query, depth, filters)
        fused: dict[int, float] = {}
        for ranking in (dense, keyword):
            for rank, (chunk_id, _) in enumerate(ranking, start=1):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (self.settings.rrf_k + rank)
        order = sorted(fused, key=lambda cid: -fused[cid])
        rows = self._rows(order[: depth * 2])
        dense_at = {cid: (rank, score) for rank, (cid, score) in enumerate(dense, start=1)}
        keyword_at = {cid: (rank, score) for rank, (cid, score) in enumerate(keyword, start=1)}
        hits: list[Hit] = []
        per_article: dict[str, int] = {}
        for cid in order:
            row = rows.get(cid)
            if row is None or per_article.get(row["article_id"], 0) >= self.settings.max_per_article:
                continue
            per_article[row["article_id"]] = per_article.get(row["article_id"], 0) + 1
            d_rank, d_score = dense_at.get(cid, (None, None))
            k_rank, k_score = keyword_at.get(cid, (None, None))
            hits.append(Hit(
                chunk_id=cid, article_id=row["article_id"], title=row["title"], source=row["source"],
                published=row["published"], url=row["url"], text=row["text"], start=row["start"],
                end=row["end"], score=fused[cid], dense_rank=d_rank, dense_score=d_score,
                keyword_rank=k_rank, keyword_score=k_score))
            if len(hits) >= k:
                break
        return hits

    def _allowed_chunks(self, filters: Filters) -> np.ndarray:
        where, params = filters.sql()
        rows = self.reader.db.execute(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}", params)
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def _dense(self, vector: np.ndarray, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        index = self.reader.vectors
        if index.ntotal == 0 or (allowed is not None and allowed.size == 0):
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed)) if allowed is not None else None
        scores, ids = index.search(vector.reshape(1, -1).astype(np.float32), min(depth, index.ntotal),
                                   params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _keyword(self, query: str, depth: int, filters: Filters) -> list[tuple[int, float]]:
        match = fts_query(content_words(query))
        if not match:
            return []
        where, params = filters.sql()
        rows = self.reader.db.execute(
            "SELECT c.id, bm25(chunks_fts) AS rank FROM chunks_fts "
            "JOIN chunks c ON c.id = chunks_fts.rowid JOIN articles a ON a.id = c.article_id "
            f"WHERE chunks_fts MATCH ? AND {where} ORDER BY rank LIMIT ?", [match, *params, depth])
        return [(int(r[0]), -float(r[1])) for r in rows]

    def _rows(self, chunk_ids: list[int]) -> dict[int, Any]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.reader.db.execute(
            "SELECT c.id, c.article_id, c.start, c.end, substr(a.text, c.start + 1, c.end - c.start) AS text, "
            "a.title, a.source, a.published, a.url "
            f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})", chunk_ids)
        return {r["id"]: r for r in rows}
