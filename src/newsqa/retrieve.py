"""Hybrid retrieval: FAISS dense search over chunks and FTS5 BM25 over whole articles, fused per article.

Articles are ranked first. Each retriever names its best candidates (FAISS:
the articles of the nearest chunks; FTS5: the best articles by BM25), and every
candidate is then scored on all the evidence: the cosine of its best chunk plus
`lead_weight` times the cosine of its lead (news puts what a story is about in
its first paragraphs), and its BM25 score, each divided by the best of the
candidates and mixed with `dense_weight` (relative-score fusion;
reciprocal-rank fusion is the `fusion="rrf"` option, see
bench/results/retrieval.md). Then each article's best chunks (by cosine)
become the hits. Each `Hit` keeps its ranks and scores in both retrievers, so
a result can be explained. Filters (dates, sources) apply inside both
searches, not after them, so a narrow filter still fills the result list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

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


class _Chunk(NamedTuple):
    id: int
    start: int
    end: int


@dataclass
class _Ranked:
    """One candidate article's evidence from both retrievers."""

    dense_score: float = 0.0  # cosine of its best chunk
    lead_score: float = 0.0  # cosine of its first chunk (the lead, where news puts what the story is about)
    keyword_score: float = 0.0  # BM25 of the whole article (higher is better; 0: no query word in it)
    keyword_rank: int | None = None  # rank in the BM25 list (None: past `keyword_scored`)
    score: float = 0.0


class Retriever:
    def __init__(self, reader: Reader, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings

    def search(self, query: str, k: int = 10, filters: Filters | None = None,
               query_vector: np.ndarray | None = None) -> list[Hit]:
        """Candidates are the articles of the `depth` nearest chunks and the `depth` best articles
        by BM25; each is then scored on all its evidence, so an article that one retriever ranks
        just past its cut still gets that retriever's score rather than a zero."""
        filters = filters or Filters()
        depth = max(self.settings.candidates, k * 4)
        if query_vector is None:
            query_vector = self.embedder.encode([query])[0]
        allowed = self.reader.chunk_ids_where(*filters.sql()) if filters else None
        dense = self._dense(query_vector, depth, allowed)
        keyword = self._keyword(query, max(depth, self.settings.keyword_scored), filters)
        candidates = {*self._owners([cid for cid, _ in dense]), *islice(keyword, depth)}
        chunks = self._chunks(candidates)
        cosines = self._cosines([c.id for chunk_list in chunks.values() for c in chunk_list], query_vector)
        articles = self._score(chunks, cosines, keyword)
        best = sorted(articles, key=lambda a: -articles[a].score)[:k]
        dense_rank = {cid: rank for rank, (cid, _) in enumerate(dense, start=1)}
        return self._hits(best, articles, chunks, cosines, dense_rank, k)

    def _score(self, chunks: dict[int, list[_Chunk]], cosines: dict[int, float],
               keyword: dict[int, float]) -> dict[int, _Ranked]:
        """Each candidate article's evidence, and its fused score."""
        keyword_rank = {n: rank for rank, n in enumerate(keyword, start=1)}
        ranked = {n: _Ranked(dense_score=max(cosines[c.id] for c in chunk_list), lead_score=cosines[chunk_list[0].id],
                             keyword_score=keyword.get(n, 0.0), keyword_rank=keyword_rank.get(n))
                  for n, chunk_list in chunks.items()}
        settings, weight = self.settings, self.settings.dense_weight
        dense = {n: max(e.dense_score + settings.lead_weight * e.lead_score, 0.0) for n, e in ranked.items()}
        if settings.fusion == "rrf":
            bm25 = {n: e.keyword_score for n, e in ranked.items()}
            for share, by in ((weight, dense), (1 - weight, bm25)):
                for rank, n in enumerate(sorted((n for n in by if by[n] > 0), key=lambda n: -by[n]), start=1):
                    ranked[n].score += share / (settings.rrf_k + rank)
            return ranked
        top_dense = max(dense.values(), default=0.0) or 1.0
        top_keyword = max((e.keyword_score for e in ranked.values()), default=0.0) or 1.0
        for n, e in ranked.items():
            e.score = weight * dense[n] / top_dense + (1 - weight) * e.keyword_score / top_keyword
        return ranked

    def _hits(self, best: list[int], articles: dict[int, _Ranked], chunks: dict[int, list[_Chunk]],
              cosines: dict[int, float], dense_rank: dict[int, int], k: int) -> list[Hit]:
        """Each chosen article's best chunks by cosine; a further chunk of an article ranks by its
        article's score scaled by how close it comes to that article's best chunk."""
        chosen = {n: sorted(chunks[n], key=lambda c: -cosines[c.id])[: self.settings.max_per_article] for n in best}
        ids = [c.id for chunk_list in chosen.values() for c in chunk_list]
        if not ids:
            return []
        rows = {r["id"]: r for r in self.reader.db.execute(
            "SELECT c.id, a.id AS article_id, substr(a.text, c.start + 1, c.end - c.start) AS text, a.title, a.source, "
            "a.published, a.url FROM chunks c JOIN articles a ON a.id = c.article_id "
            f"WHERE c.id IN ({','.join('?' * len(ids))})", ids)}
        hits: list[Hit] = []
        for n, chunk_list in chosen.items():
            entry, top = articles[n], max(cosines[chunk_list[0].id], 1e-6)
            for chunk in chunk_list:
                row, cosine = rows[chunk.id], cosines[chunk.id]
                hits.append(Hit(
                    chunk_id=chunk.id, article_id=row["article_id"], title=row["title"], source=row["source"],
                    published=row["published"], url=row["url"], text=row["text"], start=chunk.start,
                    end=chunk.end, score=entry.score * max(cosine, 0.0) / top, dense_rank=dense_rank.get(chunk.id),
                    dense_score=cosine, keyword_rank=entry.keyword_rank, keyword_score=entry.keyword_score))
        hits.sort(key=lambda h: -h.score)
        return hits[:k]

    def _chunks(self, articles: set[int]) -> dict[int, list[_Chunk]]:
        """The chunks of each article (by its row number n), in text order: the first is its lead."""
        if not articles:
            return {}
        rows = self.reader.db.execute(
            "SELECT c.id, a.n, c.start, c.end FROM articles a JOIN chunks c ON c.article_id = a.id "
            f"WHERE a.n IN ({','.join('?' * len(articles))}) ORDER BY a.n, c.position", sorted(articles))
        chunks: dict[int, list[_Chunk]] = {}
        for r in rows:
            chunks.setdefault(r[1], []).append(_Chunk(r[0], r[2], r[3]))
        return chunks

    def _cosines(self, chunk_ids: list[int], query_vector: np.ndarray) -> dict[int, float]:
        if not chunk_ids:
            return {}
        vectors = self.reader.vectors.reconstruct_batch(np.asarray(chunk_ids, dtype=np.int64))
        return dict(zip(chunk_ids, (vectors @ query_vector).tolist()))

    def _dense(self, vector: np.ndarray, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        index = self.reader.vectors
        if index.ntotal == 0 or (allowed is not None and allowed.size == 0):
            return []
        params = search_parameters(index, self.reader.manifest["faiss"].get("nprobe"), allowed)
        scores, ids = index.search(vector.reshape(1, -1).astype(np.float32), min(depth, index.ntotal),
                                   params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _keyword(self, query: str, limit: int, filters: Filters) -> dict[int, float]:
        """The best `limit` articles by BM25 (higher is better), by row number n, best first."""
        match = fts_query(content_words(query))
        if not match:
            return {}
        if filters:  # joining the articles table costs a few ms, so only a filtered search does it
            where, params = filters.sql()
            rows = self.reader.db.execute(
                "SELECT a.n, bm25(articles_fts) AS rank FROM articles_fts JOIN articles a ON a.n = articles_fts.rowid "
                f"WHERE articles_fts MATCH ? AND {where} ORDER BY rank LIMIT ?", [match, *params, limit])
        else:
            rows = self.reader.db.execute("SELECT rowid, bm25(articles_fts) AS rank FROM articles_fts "
                                          "WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?", [match, limit])
        return {r[0]: -float(r[1]) for r in rows}

    def _owners(self, chunk_ids: list[int]) -> set[int]:
        """The articles (row numbers n) these chunks belong to."""
        if not chunk_ids:
            return set()
        rows = self.reader.db.execute(
            "SELECT DISTINCT a.n FROM chunks c JOIN articles a ON a.id = c.article_id "
            f"WHERE c.id IN ({','.join('?' * len(chunk_ids))})", chunk_ids)
        return {r[0] for r in rows}
