"""pgvector's HNSW index in a PostgreSQL index: recall@10 against exact search, and time per vector search,
for several `hnsw.ef_search` values, unfiltered and with a filter inside the scan (iterative scans).

Run (over an index built with `newsqa demo --index postgresql://...`):
  .venv/bin/python bench/pgvector.py --index 'postgresql://user@host/db?schema=demo'
Queries are the dev set's questions, embedded as `ask` embeds them. Prints a table; with --write, writes it to
bench/results/pgvector.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write  # noqa: E402

from newsqa import NewsQA  # noqa: E402
from newsqa.evaluate import DEVSET, load_questions  # noqa: E402
from newsqa.pgstore import EF_SEARCH, _connection, _filter_sql, _vector  # noqa: E402
from newsqa.types import Filters  # noqa: E402

EF_VALUES = (40, 64, 100, 200)
K = 10
# A filter as a chat applies it: one outlet's articles of one quarter (1,657 of the demo corpus's 17,725 chunks)
FILTER = Filters("2017-01-01", "2017-03-31", ("cnn.com",))


def nearest(url: str, vector: str, filters: Filters, ef: int | None) -> tuple[list[int], float]:
    """The K nearest chunk ids, by the HNSW index with `ef` (None: exact, a sequential scan), and the ms taken."""
    where, params = _filter_sql(filters, "published", "source")
    with _connection(url) as conn:
        if ef is None:
            conn.execute("SET LOCAL enable_indexscan = off")
        else:
            conn.execute(f"SET LOCAL hnsw.ef_search = {int(ef)}")
        started = time.perf_counter()
        rows = conn.execute(f"SELECT id FROM chunks WHERE {where} ORDER BY embedding <=> %s::halfvec LIMIT %s",
                            [*params, vector, K]).fetchall()
        return [r[0] for r in rows], (time.perf_counter() - started) * 1000


def measure(url: str, vectors: list[str], filters: Filters) -> list[str]:
    exact = [nearest(url, v, filters, None)[0] for v in vectors]
    rows = []
    for ef in EF_VALUES:
        found, times = zip(*(nearest(url, v, filters, ef) for v in vectors))
        recall = statistics.mean(len(set(f) & set(e)) / max(len(e), 1) for f, e in zip(found, exact))
        label = "none" if not filters else f"{filters.sources[0]}, {filters.date_from} to {filters.date_to}"
        mark = " (used)" if ef == EF_SEARCH else ""
        rows.append(f"| {label} | {ef}{mark} | {recall:.3f} | {statistics.median(times):.1f} | "
                    f"{sorted(times)[int(0.95 * (len(times) - 1))]:.1f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, help="a PostgreSQL index URL")
    parser.add_argument("--questions", default=str(DEVSET))
    parser.add_argument("--write", action="store_true", help="write bench/results/pgvector.md")
    args = parser.parse_args()
    qa = NewsQA.open(args.index)
    questions = [q["question"] for q in load_questions(args.questions)]
    vectors = [_vector(v) for v in qa.embedder.encode(questions)]
    info = qa.info()
    rows = [*measure(args.index, vectors, Filters()), *measure(args.index, vectors, FILTER)]
    table = "\n".join([
        f"Index: PostgreSQL, {info['articles']} articles, {info['chunks']} chunks ({info['faiss']}); "
        f"{len(vectors)} dev-set questions; recall@{K} against exact search (a sequential scan) over the same "
        "halfvec vectors", "",
        "| filter | ef_search | recall@10 | p50 ms | p95 ms |", "|---|---|---|---|---|", *rows])
    print(table)
    if args.write:
        write("pgvector", "pgvector HNSW: recall@10 against exact search, and time per vector search", table)


if __name__ == "__main__":
    main()
