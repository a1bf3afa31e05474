"""Retrieval: title -> article and subtitle -> article over News Articles, newsqa against baselines.

Run: .venv/bin/python bench/retrieval.py --index index [--sample 1000] [--systems newsqa,bm25,minilm,txtai]
     [--no-write]

The queries and metrics are newsqa.evaluate_retrieval's (`newsqa eval retrieval` is the newsqa row
alone): a fixed random sample (seed 0) of articles with a unique non-empty title (and, for
subtitles, a unique non-empty subtitle different from the title), the same as bench/queries.json
(a test checks); article-level recall@1/5/10 and MRR@10, results deduplicated by article before
cutting at k. The index must hold the article bodies only (the demo index does: titles and
subtitles are never embedded or keyword-indexed); the baselines index the same bodies here.

Systems: newsqa's own `search`; BM25 alone (bm25s over whole articles, Lucene variant, English
stop words, Snowball stems); all-MiniLM-L6-v2 + FAISS flat over fixed 200-word windows with
50-word overlap (the plain recipe); txtai 9 hybrid `Embeddings` over whole articles (the same
bundled MiniLM weights; txtai's defaults: mean pooling, vectors L2-normalized, an article cut at
the tokenizer's 512 tokens, BM25 scores normalized and mixed half and half with the dense ones).
bm25 and txtai need the bench extra (pip install -e .[bench]).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from newsqa import NewsQA  # noqa: E402
from newsqa.corpora import NewsRecord, news_records  # noqa: E402
from newsqa.embedding import load_embedder, resolve_model  # noqa: E402
from newsqa.evaluate_retrieval import (  # noqa: E402
    SAMPLE,
    TABLE_HEAD,
    QuerySet,
    Search,
    evaluate_all,
    make_queries,
    newsqa_search,
    unindexed_gold,
)

MODEL = "all-MiniLM-L6-v2"


def newsqa_system(index: str, queries: QuerySet) -> Search:
    qa = NewsQA.open(index)
    try:
        missing = unindexed_gold(qa, queries)
    except ValueError as exc:
        raise SystemExit(f"retrieval.py: {exc}") from None
    if missing:
        print(f"newsqa: gold articles not in {index}, counted as misses: {', '.join(missing)}", file=sys.stderr)
    return newsqa_search(qa)


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

    model = load_embedder(MODEL)._model
    windows, owners = [], []
    for r in records:
        words = r.article.text.split()
        for start in range(0, max(1, len(words) - 50), 150):
            windows.append(" ".join(words[start:start + 200]))
            owners.append(r.article.id)
    vectors = model.encode(windows, batch_size=32, normalize_embeddings=True, show_progress_bar=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)

    def search(query: str, k: int) -> list[str]:  # windows: ask for enough to hold k articles
        _, found = index.search(model.encode([query], normalize_embeddings=True), k * 5)
        return [owners[i] for i in found[0] if i >= 0]
    return search


def txtai_system(records: list[NewsRecord]) -> Search:
    try:
        from txtai import Embeddings
    except ImportError:
        raise SystemExit("retrieval.py: the txtai system needs txtai: pip install -e .[bench]") from None

    embeddings = Embeddings(path=resolve_model(MODEL), hybrid=True)  # no content store: search gives (id, score)
    embeddings.index((r.article.id, r.article.text, None) for r in tqdm(records, desc="txtai index", unit="article"))
    return lambda query, k: [uid for uid, _ in embeddings.search(query, k)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--sample", type=int, default=SAMPLE)
    parser.add_argument("--systems", default="newsqa,bm25,minilm,txtai", help="comma-separated, run in this order")
    parser.add_argument("--corpus", default="NewsArticles", help="NewsArticles or News100 (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update bench/results")
    args = parser.parse_args()
    makers: dict[str, Callable[[], Search]] = {
        "newsqa": lambda: newsqa_system(args.index, queries), "bm25": lambda: bm25_system(records),
        "minilm": lambda: minilm_system(records), "txtai": lambda: txtai_system(records)}
    systems = args.systems.split(",")
    unknown = [name for name in systems if name not in makers]
    if unknown:
        parser.error(f"unknown system {', '.join(unknown)}; choose from {', '.join(makers)}")
    records = list(news_records(args.corpus))
    queries = make_queries(records, args.sample)
    lines = [TABLE_HEAD]
    print(TABLE_HEAD)
    for name in systems:
        for scores in evaluate_all(makers[name](), queries, progress=True):
            lines.append(scores.row(name))
            print(lines[-1], flush=True)
    if not args.no_write:
        body = "\n".join([f"Corpus: {args.corpus} ({len(records)} articles); index {args.index}", "", *lines])
        print(f"\nwritten to {write('retrieval', 'Retrieval benchmark', body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
