"""Build speed: `NewsQA.build` over the demo corpus vs bare SentenceTransformer.encode of the same chunks.

Run: .venv/bin/python bench/speed.py [--small] [--index DIR]
Prints chunks/s of both and the pipeline's overhead, peak memory and index size.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from newsqa import NewsQA  # noqa: E402
from newsqa.corpora import demo_articles  # noqa: E402
from newsqa.embedding import load_embedder  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="News100 instead of the full corpus")
    parser.add_argument("--index", help="where to build (default: a temporary directory)")
    parser.add_argument("--preset", default="compact")
    args = parser.parse_args()
    articles = demo_articles("News100" if args.small else "NewsArticles")
    embedder = load_embedder("all-MiniLM-L6-v2")  # loaded outside both timings
    index = args.index or tempfile.mkdtemp(prefix="newsqa-speed-")
    qa = NewsQA.build(articles, index, settings=args.preset, progress=True)
    report = qa.last_report
    texts = [r[0] for r in qa.reader.db.execute("SELECT text FROM chunks ORDER BY id")]
    started = time.perf_counter()
    embedder._model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=True)
    bare = time.perf_counter() - started
    info = qa.info()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"articles {info['articles']}, chunks {len(texts)}")
    print(f"newsqa build : {report.seconds:8.1f} s  {report.chunks / report.seconds:7.1f} chunks/s "
          f"(embedding alone {report.embed_seconds:.1f} s)")
    print(f"bare encode  : {bare:8.1f} s  {len(texts) / bare:7.1f} chunks/s")
    print(f"overhead     : {100 * (report.seconds / bare - 1):+.1f}% wall time vs bare encode")
    print(f"peak memory  : {peak:.0f} MB;  index size {info['bytes'] / 1e6:.1f} MB in {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
