"""Hybrid retrieval: FAISS dense search over chunks and FTS5 BM25 over whole articles, fused per article.

Articles are ranked first, by both retrievers' evidence: the best chunk's cosine
and the article's BM25 score, each divided by the best score of its list and
mixed with `dense_weight` (relative-score fusion; reciprocal-rank fusion is the
`fusion="rrf"` option, see bench/results/retrieval.md for both). Then each
article's best chunks (by cosine) become the hits. Each `Hit` keeps its ranks
and scores in both retrievers, so a result can be explained. Filters (dates,
sources) apply inside both searches, not after them, so a narrow filter still
fills the result list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import RetrievalSettings
from .embedding import Embedder
from .lexical import content_words, fts_query
from .store import Reader, search_parameters
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


@dataclass
class _Ranked:
    """One article's evidence from both retrievers."""

    dense_rank: int | None = None  # rank among articles by their best chunk
    dense_score: float = 0.0  # cosine of its best chunk
    keyword_rank: int | None = None
    keyword_score: float = 0.0  # BM25 of the whole article (higher is better)
    score: float = 0.0


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
        articles = self._fuse(dense, self._keyword(query, depth, filters))
        best = sorted(articles, key=lambda a: -articles[a].score)[:k]
        dense_rank = {cid: rank for rank, (cid, _) in enumerate(dense, start=1)}
        return self._hits(best, articles, query_vector, dense_rank, k)

    def _fuse(self, dense: list[tuple[int, float]], keyword: list[tuple[str, float]]) -> dict[str, _Ranked]:
        """Per-article evidence and fused score from the chunk-level dense list and the article-level
        keyword list."""
        owners = self._owners([cid for cid, _ in dense])
        ranked: dict[str, _Ranked] = {}
        for cid, cosine in dense:
            article = owners.get(cid)
            if article is not None and article not in ranked:
                ranked[article] = _Ranked(dense_rank=len(ranked) + 1, dense_score=cosine)
        for rank, (article, bm25) in enumerate(keyword, start=1):
            entry = ranked.setdefault(article, _Ranked())
            entry.keyword_rank, entry.keyword_score = rank, bm25
        weight, settings = self.settings.dense_weight, self.settings
        top_dense = max((max(e.dense_score, 0.0) for e in ranked.values()), default=0.0) or 1.0
        top_keyword = max((e.keyword_score for e in ranked.values()), default=0.0) or 1.0
        for e in ranked.values():
            if settings.fusion == "rrf":
                e.score = sum(w / (settings.rrf_k + r) for w, r in ((weight, e.dense_rank), (1 - weight, e.keyword_rank))
                              if r is not None)
            else:
                e.score = weight * max(e.dense_score, 0.0) / top_dense + (1 - weight) * e.keyword_score / top_keyword
        return ranked

    def _hits(self, best: list[str], articles: dict[str, _Ranked], query_vector: np.ndarray,
              dense_rank: dict[int, int], k: int) -> list[Hit]:
        """Each chosen article's best chunks by cosine; a further chunk of an article ranks by its
        article's score scaled by how close it comes to that article's best chunk."""
        if not best:
            return []
        marks = ",".join("?" * len(best))
        rows = self.reader.db.execute(
            "SELECT c.id, c.article_id, c.start, c.end, substr(a.text, c.start + 1, c.end - c.start) AS text, "
            "a.title, a.source, a.published, a.url "
            f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.article_id IN ({marks})", best).fetchall()
        vectors = self.reader.vectors
        cosines = {r["id"]: float(vectors.reconstruct(r["id"]) @ query_vector) for r in rows}
        by_article: dict[str, list[Any]] = {}
        for row in sorted(rows, key=lambda r: -cosines[r["id"]]):
            by_article.setdefault(row["article_id"], []).append(row)
        hits: list[Hit] = []
        for article_id in best:
            entry, chunks = articles[article_id], by_article.get(article_id, [])[: self.settings.max_per_article]
            top = max(cosines[chunks[0]["id"]], 1e-6) if chunks else 1.0
            for row in chunks:
                cosine = cosines[row["id"]]
                hits.append(Hit(
                    chunk_id=row["id"], article_id=article_id, title=row["title"], source=row["source"],
                    published=row["published"], url=row["url"], text=row["text"], start=row["start"],
                    end=row["end"], score=entry.score * max(cosine, 0.0) / top, dense_rank=dense_rank.get(row["id"]),
                    dense_score=cosine, keyword_rank=entry.keyword_rank,
                    keyword_score=entry.keyword_score if entry.keyword_rank else None))
        hits.sort(key=lambda h: -h.score)
        return hits[:k]

    def _allowed_chunks(self, filters: Filters) -> np.ndarray:
        where, params = filters.sql()
        rows = self.reader.db.execute(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}", params)
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def _dense(self, vector: np.ndarray, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        index = self.reader.vectors
        if index.ntotal == 0 or (allowed is not None and allowed.size == 0):
            return []
        params = search_parameters(index, self.reader.manifest["faiss"].get("nprobe"), allowed)
        scores, ids = index.search(vector.reshape(1, -1).astype(np.float32), min(depth, index.ntotal),
                                   params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _keyword(self, query: str, depth: int, filters: Filters) -> list[tuple[str, float]]:
        match = fts_query(content_words(query))
        if not match:
            return []
        where, params = filters.sql()
        rows = self.reader.db.execute(
            "SELECT a.id, bm25(articles_fts) AS rank FROM articles_fts JOIN articles a ON a.n = articles_fts.rowid "
            f"WHERE articles_fts MATCH ? AND {where} ORDER BY rank LIMIT ?", [match, *params, depth])
        return [(r[0], -float(r[1])) for r in rows]

    def _owners(self, chunk_ids: list[int]) -> dict[int, str]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.reader.db.execute(f"SELECT id, article_id FROM chunks WHERE id IN ({marks})", chunk_ids)
        return {r[0]: r[1] for r in rows}
