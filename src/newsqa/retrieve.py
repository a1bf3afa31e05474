"""Hybrid retrieval: dense search over chunks and keyword search over whole articles, fused per article.

Both searches are the store's (storage.py): FAISS and FTS5 BM25 in a directory index, pgvector and
`ts_rank_cd` in PostgreSQL.

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

from dataclasses import dataclass
from itertools import islice

import numpy as np

from .config import RetrievalSettings
from .embedding import Embedder
from .lexical import content_words
from .storage import IndexChunk, StoreReader
from .types import Filters, Hit

__all__ = ["Filters", "Retriever"]  # Filters lives in types.py; imported from here too


@dataclass
class _Ranked:
    """One candidate article's evidence from both retrievers."""

    dense_score: float = 0.0  # cosine of its best chunk
    lead_score: float = 0.0  # cosine of its first chunk (the lead, where news puts what the story is about)
    keyword_score: float = 0.0  # BM25 of the whole article (higher is better; 0: no query word in it)
    keyword_rank: int | None = None  # rank in the BM25 list (None: past `keyword_scored`)
    score: float = 0.0


class Retriever:
    def __init__(self, reader: StoreReader, embedder: Embedder, settings: RetrievalSettings) -> None:
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
        dense = self.reader.vector_search(query_vector, depth, filters)
        keyword = self.reader.keyword_search(content_words(query), max(depth, self.settings.keyword_scored), filters)
        candidates = {*self.reader.chunk_owners([cid for cid, _ in dense]), *islice(keyword, depth)}
        chunks = self.reader.article_chunks(candidates)
        cosines = self._cosines([c.id for chunk_list in chunks.values() for c in chunk_list], query_vector)
        articles = self._score(chunks, cosines, keyword)
        best = sorted(articles, key=lambda a: -articles[a].score)[:k]
        dense_rank = {cid: rank for rank, (cid, _) in enumerate(dense, start=1)}
        return self._hits(best, articles, chunks, cosines, dense_rank, k)

    def _score(self, chunks: dict[int, list[IndexChunk]], cosines: dict[int, float],
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

    def _hits(self, best: list[int], articles: dict[int, _Ranked], chunks: dict[int, list[IndexChunk]],
              cosines: dict[int, float], dense_rank: dict[int, int], k: int) -> list[Hit]:
        """Each chosen article's best chunks by cosine; a further chunk of an article ranks by its
        article's score scaled by how close it comes to that article's best chunk."""
        chosen = {n: sorted(chunks[n], key=lambda c: -cosines[c.id])[: self.settings.max_per_article] for n in best}
        ids = [c.id for chunk_list in chosen.values() for c in chunk_list]
        if not ids:
            return []
        rows = self.reader.chunk_rows(ids)
        hits: list[Hit] = []
        for n, chunk_list in chosen.items():
            entry, top = articles[n], max(cosines[chunk_list[0].id], 1e-6)
            for chunk in chunk_list:
                row, cosine = rows.get(chunk.id), cosines[chunk.id]
                if row is None:  # a database index: removed by another process's write since the search began
                    continue
                hits.append(Hit(
                    chunk_id=chunk.id, article_id=row.article_id, title=row.title, source=row.source,
                    published=row.published, url=row.url, text=row.text, start=chunk.start,
                    end=chunk.end, score=entry.score * max(cosine, 0.0) / top, dense_rank=dense_rank.get(chunk.id),
                    dense_score=cosine, keyword_rank=entry.keyword_rank, keyword_score=entry.keyword_score))
        hits.sort(key=lambda h: -h.score)
        return hits[:k]

    def _cosines(self, chunk_ids: list[int], query_vector: np.ndarray) -> dict[int, float]:
        return dict(zip(chunk_ids, self.reader.chunk_similarities(chunk_ids, query_vector)))
