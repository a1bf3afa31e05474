"""Retrieval quality: does a headline (or a subtitle) find its own article?

Titles and subtitles are never indexed (only article bodies are), so each makes a query whose
one right answer is its article. The query set is a JSON object {"title": [[query, article_id],
...], "subtitle": [...]} (bench/queries.json), or is drawn from the demo corpus by `make_queries`.
Metrics are article-level: results are deduplicated by article before cutting at k, so an
article's second passage neither hits nor pushes others out.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .corpora import NewsRecord, news_records
from .qa import NewsQA

Query = tuple[str, str]  # (query text, the article id it should find)
QuerySet = dict[str, list[Query]]  # kind ("title", "subtitle") -> queries
Search = Callable[[str, int], list[str]]  # query, k -> article ids of the best passages, best first (repeats allowed)

K = 10
SAMPLE = 1000
# A build skips an article whose text duplicates another's (the demo index skips 1446, "TRIBE X - Ep.74",
# whose text is 1240's), so a few gold articles can be missing from the right index; more means the wrong one.
MAX_UNINDEXED = 0.01


@dataclass(frozen=True)
class RetrievalScores:
    """One system on one kind of query."""

    kind: str
    queries: int
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    p50_ms: float
    p95_ms: float

    def row(self, system: str) -> str:
        return (f"| {system} | {self.kind} ({self.queries}) | {self.recall_at_1:.3f} | {self.recall_at_5:.3f} | "
                f"{self.recall_at_10:.3f} | {self.mrr_at_10:.3f} | {self.p50_ms:.1f} | {self.p95_ms:.1f} |")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


TABLE_HEAD = ("| system | queries | recall@1 | recall@5 | recall@10 | MRR@10 | p50 ms | p95 ms |\n"
              "|---|---|---|---|---|---|---|---|")


def make_queries(records: list[NewsRecord], sample: int = SAMPLE) -> QuerySet:
    """A fixed random sample (seed 0) of articles with a unique non-empty title, and of those with a unique
    non-empty subtitle that differs from the title: an ambiguous query has no one right article."""
    titles = Counter(r.article.title for r in records)
    subtitles = Counter(r.subtitle for r in records)
    by_title = [(r.article.title, r.article.id) for r in records if r.article.title and titles[r.article.title] == 1]
    by_subtitle = [(r.subtitle, r.article.id) for r in records
                   if r.subtitle and subtitles[r.subtitle] == 1 and r.subtitle != r.article.title]
    rng = random.Random(0)
    return {"title": rng.sample(by_title, min(sample, len(by_title))),
            "subtitle": rng.sample(by_subtitle, min(sample, len(by_subtitle)))}


def corpus_queries(corpus: str = "NewsArticles", sample: int = SAMPLE) -> QuerySet:
    """`make_queries` over a demo corpus: NewsArticles (what the demo index holds) or News100."""
    return make_queries(list(news_records(corpus)), sample)


def load_queries(path: str | Path) -> QuerySet:
    """Read a query set file; ValueError says what is wrong with it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no query set at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a JSON query set ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object of lists, e.g. {{\"title\": [[query, article_id], ...]}}")
    queries: QuerySet = {}
    for kind, pairs in data.items():
        if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) and x for x in p) for p in pairs):
            raise ValueError(f"{path}: {kind!r} must be a list of [query, article_id] pairs of non-empty strings")
        queries[kind] = [(q, a) for q, a in pairs]
    if not any(queries.values()):
        raise ValueError(f"{path}: no queries")
    return queries


def first(queries: QuerySet, n: int) -> QuerySet:
    """The first n queries of each kind (a query set file is already a random sample)."""
    return {kind: pairs[:n] for kind, pairs in queries.items()}


def unindexed_gold(qa: NewsQA, queries: QuerySet) -> list[str]:
    """The gold articles the index does not hold. Raises ValueError when they are more than a few: the
    queries were made for other articles, and every one of their queries would silently count as a miss."""
    gold = sorted({a for pairs in queries.values() for _, a in pairs})
    missing = [a for a in gold if qa.article(a) is None]
    if len(missing) > MAX_UNINDEXED * len(gold):
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise ValueError(
            f"{len(missing)} of the {len(gold)} articles the queries should find are not in the index "
            f"{qa.index_dir} ({shown}), so their queries cannot hit. Evaluate an index of the articles the queries "
            f"were drawn from (the demo corpus's: newsqa demo --index {qa.index_dir}, or --small for News100), "
            "or use queries made for this index's articles")
    return missing


def newsqa_search(qa: NewsQA) -> Search:
    """newsqa's own search; its hits are passages, at most `max_per_article` an article, so k articles need
    k times that many hits."""
    per_article = qa.settings.retrieval.max_per_article
    return lambda query, k: [hit.article_id for hit in qa.search(query, k=k * per_article)]


def rank(ids: Iterable[str], gold: str, k: int = K) -> int | None:
    """The 1-based rank of `gold` among the first k distinct articles of `ids`, None when not there."""
    seen: list[str] = []
    for article_id in ids:
        if article_id not in seen:
            if article_id == gold:
                return len(seen) + 1
            seen.append(article_id)
            if len(seen) == k:
                break
    return None


def evaluate(search: Search, queries: list[Query], kind: str, progress: bool = False) -> RetrievalScores:
    """Recall@1/5/10, MRR@10 and the p50/p95 time a search took, one query at a time."""
    ranks, times = [], []
    for query, gold in tqdm(queries, desc=f"{kind} queries", unit="query", disable=not progress):
        started = time.perf_counter()
        ids = search(query, K)
        times.append((time.perf_counter() - started) * 1000)
        ranks.append(rank(ids, gold))
    n = len(queries)
    times.sort()
    return RetrievalScores(
        kind=kind, queries=n, recall_at_1=sum(r == 1 for r in ranks) / n,
        recall_at_5=sum(r is not None and r <= 5 for r in ranks) / n,
        recall_at_10=sum(r is not None for r in ranks) / n, mrr_at_10=sum(1 / r for r in ranks if r) / n,
        p50_ms=statistics.median(times), p95_ms=times[math.ceil(0.95 * n) - 1])


def evaluate_all(search: Search, queries: QuerySet, progress: bool = False) -> list[RetrievalScores]:
    """`evaluate` for each kind of query that has any, after a first search that pays for loading models."""
    search("warm-up", K)
    return [evaluate(search, pairs, kind, progress) for kind, pairs in queries.items() if pairs]
