"""Retrieval: title -> article and subtitle -> article over News Articles, newsqa against baselines.

Run: .venv/bin/python bench/retrieval.py --index index [--sample 1000] [--systems newsqa,bm25,minilm]

The queries are a fixed random sample (seed 0) of articles with a unique non-empty title
(and, for subtitles, a unique non-empty subtitle different from the title), stored in
bench/queries.json so runs compare. The index must hold the article bodies only (the demo
index does: titles and subtitles are never embedded or keyword-indexed). Metrics are
article-level: a query hits when a retrieved passage belongs to its article, results
deduplicated by article before cutting at k.

Systems: newsqa's own `search`; BM25 alone (bm25s over whole articles, Lucene variant,
English stop words, Snowball stems); all-MiniLM-L6-v2 + FAISS flat over fixed 200-word
windows with 50-word overlap (the plain recipe).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write  # noqa: E402

from newsqa import NewsQA  # noqa: E402
from newsqa.corpora import NewsRecord, news_records  # noqa: E402

QUERIES = Path(__file__).resolve().parent / "queries.json"
Search = Callable[[str, int], list[str]]  # query, k -> article ids, best first, unique


def make_queries(records: list[NewsRecord], sample: int) -> dict[str, list[tuple[str, str]]]:
    titles = Counter(r.article.title for r in records)
    subtitles = Counter(r.subtitle for r in records)
    by_title = [(r.article.title, r.article.id) for r in records if r.article.title and titles[r.article.title] == 1]
    by_subtitle = [(r.subtitle, r.article.id) for r in records
                   if r.subtitle and subtitles[r.subtitle] == 1 and r.subtitle != r.article.title]
    rng = random.Random(0)
    return {"title": rng.sample(by_title, min(sample, len(by_title))),
            "subtitle": rng.sample(by_subtitle, min(sample, len(by_subtitle)))}


def newsqa_system(index: str) -> Search:
    qa = NewsQA.open(index)
    per_article = qa.settings.retrieval.max_per_article  # hits are chunks: ask for enough to hold k articles

    def search(query: str, k: int) -> list[str]:
        ids: list[str] = []
        for hit in qa.search(query, k=k * per_article):
            if hit.article_id not in ids:
                ids.append(hit.article_id)
        return ids[:k]
    return search


def bm25_system(records: list[NewsRecord]) -> Search:
    import bm25s
    import Stemmer  # PyStemmer, which bm25s uses for stemming

    stemmer = Stemmer.Stemmer("english")
    ids = [r.article.id for r in records]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([r.article.text for r in records], stopwords="en", stemmer=stemmer,
                                   show_progress=False), show_progress=False)

    def search(query: str, k: int) -> list[str]:
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, show_progress=False)
        docs, _ = retriever.retrieve(tokens, k=k, show_progress=False)
        return [ids[i] for i in docs[0]]
    return search


def minilm_system(records: list[NewsRecord]) -> Search:
    import faiss

    from newsqa.embedding import load_embedder

    model = load_embedder("all-MiniLM-L6-v2")._model
    windows, owners = [], []
    for r in records:
        words = r.article.text.split()
        for start in range(0, max(1, len(words) - 50), 150):
            windows.append(" ".join(words[start:start + 200]))
            owners.append(r.article.id)
    vectors = model.encode(windows, batch_size=32, normalize_embeddings=True, show_progress_bar=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)

    def search(query: str, k: int) -> list[str]:
        _, found = index.search(model.encode([query], normalize_embeddings=True), k * 5)
        ids: list[str] = []
        for i in found[0]:
            if i >= 0 and owners[i] not in ids:
                ids.append(owners[i])
        return ids[:k]
    return search


def evaluate(search: Search, queries: list[tuple[str, str]]) -> dict[str, float]:
    ranks, times = [], []
    for query, gold in queries:
        started = time.perf_counter()
        ids = search(query, 10)
        times.append((time.perf_counter() - started) * 1000)
        ranks.append(ids.index(gold) + 1 if gold in ids else None)
    n = len(queries)
    times.sort()
    return {"r@1": sum(r == 1 for r in ranks) / n, "r@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "r@10": sum(r is not None for r in ranks) / n, "mrr@10": sum(1 / r for r in ranks if r) / n,
            "p50": statistics.median(times), "p95": times[int(0.95 * (n - 1))]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--systems", default="newsqa,bm25,minilm")
    parser.add_argument("--corpus", default="NewsArticles", help="NewsArticles or News100 (a smoke run)")
    args = parser.parse_args()
    records = list(news_records(args.corpus))
    if QUERIES.exists() and args.corpus == "NewsArticles" and args.sample == 1000:
        queries = {k: [tuple(x) for x in v] for k, v in json.loads(QUERIES.read_text()).items()}
    else:
        queries = make_queries(records, args.sample)
        if args.corpus == "NewsArticles" and args.sample == 1000:
            QUERIES.write_text(json.dumps(queries, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    makers = {"newsqa": lambda: newsqa_system(args.index), "bm25": lambda: bm25_system(records),
              "minilm": lambda: minilm_system(records)}
    lines = ["| system | queries | recall@1 | recall@5 | recall@10 | MRR@10 | p50 ms | p95 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for name in args.systems.split(","):
        search = makers[name]()
        for kind, items in queries.items():
            m = evaluate(search, items)
            lines.append(f"| {name} | {kind} ({len(items)}) | {m['r@1']:.3f} | {m['r@5']:.3f} | {m['r@10']:.3f} | "
                         f"{m['mrr@10']:.3f} | {m['p50']:.1f} | {m['p95']:.1f} |")
            print(lines[-1], flush=True)
    body = "\n".join([f"Corpus: {args.corpus} ({len(records)} articles); index {args.index}", "", *lines])
    print(f"\nwritten to {write('retrieval', 'Retrieval benchmark', body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
