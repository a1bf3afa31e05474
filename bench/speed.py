"""Speed: build throughput against bare SentenceTransformer.encode, and query latency.

Run:
  .venv/bin/python bench/speed.py build [--small] [--backend onnx-int8]
        # NewsQA.build over the demo corpus (with that embedding backend) vs bare torch encode of the
        # same chunks, and the backend's own encode of them, without the pipeline, for context
  .venv/bin/python bench/speed.py query --index index  # search and ask p50/p95 after warm-up
  .venv/bin/python bench/speed.py app   # `python app.py` started cold to its first answer over /ask
Each prints a table and write it under bench/results/.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write  # noqa: E402

from newsqa import NewsQA  # noqa: E402
from newsqa.config import BACKENDS, DEFAULT_BACKEND, preset
from newsqa.corpora import demo_articles  # noqa: E402
from newsqa.embedding import load_embedder  # noqa: E402
from newsqa.evaluate import DEVSET, load_questions  # noqa: E402


def build(args: argparse.Namespace) -> str:
    articles = demo_articles("News100" if args.small else "NewsArticles")[: args.limit or None]
    settings = preset(args.preset).with_backend(args.backend)
    model = settings.embedding.model
    bare_torch = load_embedder(model, backend="torch")._model  # a plain SentenceTransformer; loaded, like
    embedder = load_embedder(model, backend=args.backend)  # the backend (and its export), outside all timings
    index = args.index or tempfile.mkdtemp(prefix="newsqa-speed-")
    qa = NewsQA.build(articles, index, settings=settings, progress=True)
    report = qa.last_report
    assert report is not None
    texts = [r[0] for r in qa.reader.db.execute("SELECT text FROM chunk_texts ORDER BY id")]
    started = time.perf_counter()
    bare_torch.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=True)
    bare = time.perf_counter() - started
    context = texts[::args.every]  # for context only, so a sample (every Nth chunk) keeps the run short
    started = time.perf_counter()
    embedder.encode(context, progress=True)
    own = time.perf_counter() - started
    info = qa.info()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    build_rate, bare_rate = report.chunks / report.seconds, len(texts) / bare
    return "\n".join([
        (f"Corpus: {'News100' if args.small else 'NewsArticles'} + sample article: {info['articles']} articles, "
         f"{len(texts)} chunks; preset {args.preset}; embedding backend {info['backend']} "
         f"(asked for {args.backend}); {cores()} threads"), "",
        "| step | seconds | chunks/s |", "|---|---|---|",
        f"| newsqa build (ingested articles -> index) | {report.seconds:.1f} | {build_rate:.1f} |",
        f"| of which embedding | {report.embed_seconds:.1f} | {report.chunks / report.embed_seconds:.1f} |",
        f"| bare SentenceTransformer.encode (torch float32), same chunks | {bare:.1f} | {bare_rate:.1f} |",
        (f"| bare {info['backend']} encode (Embedder.encode), every {args.every}th chunk ({len(context)}) | "
         f"{own:.1f} | {len(context) / own:.1f} |"), "",
        (f"newsqa build vs bare torch encode: {build_rate / bare_rate:.2f}x the chunks/s "
         f"({100 * (report.seconds / bare - 1):+.1f}% wall time)."),
        f"Peak memory {peak:.0f} MB; index size {info['bytes'] / 1e6:.1f} MB.",
    ])


def cores() -> int:
    from newsqa.onnx_backend import cores as present

    return present()


def query(args: argparse.Namespace) -> str:
    qa = NewsQA.open(args.index)
    questions = [q["question"] for q in load_questions(args.questions)]
    for q in questions[:5]:  # warm-up: model, caches, SQLite pages
        qa.ask(q)
    rows = []
    for name, call in (("search", lambda q: qa.search(q, k=10)), ("ask", qa.ask)):
        times = []
        for _ in range(args.rounds):
            for q in questions:
                started = time.perf_counter()
                call(q)
                times.append((time.perf_counter() - started) * 1000)
        times.sort()
        rows.append(f"| {name} | {len(times)} | {statistics.median(times):.1f} | "
                    f"{times[int(0.95 * (len(times) - 1))]:.1f} |")
    info = qa.info()
    return "\n".join([f"Index: {args.index} ({info['articles']} articles, {info['chunks']} chunks, "
                      f"FAISS {info['faiss']}); questions: {args.questions}", "",
                      "| call | n | p50 ms | p95 ms |", "|---|---|---|---|", *rows])


def app(args: argparse.Namespace) -> str:
    """Seconds from starting `python app.py` (a new process: imports, model, index) until its chat is
    up and until it has answered a first question through the public /ask endpoint."""
    import socket
    import subprocess

    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "NEWSQA_INDEX": str(Path(args.index).resolve())}
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, str(root / "app.py")], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"app.py exited with {server.returncode} before answering")
            if time.perf_counter() - started > args.timeout:
                raise SystemExit(f"app.py did not answer within {args.timeout} s")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        up = time.perf_counter() - started
        answer = client.predict(args.question, api_name="/ask")
        first = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert isinstance(answer, dict) and answer.get("text"), answer
    return "\n".join([f"Index: {args.index}; question: {args.question}", "",
                      "| from `python app.py` to | seconds |", "|---|---|",
                      f"| chat up (client connects) | {up:.1f} |", f"| first answer over /ask | {first:.1f} |"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    b = sub.add_parser("build")
    b.add_argument("--small", action="store_true", help="News100 instead of the full corpus")
    b.add_argument("--index", help="where to build (default: a temporary directory)")
    b.add_argument("--preset", default="compact")
    b.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND, help="embedding backend of the build")
    b.add_argument("--every", type=int, default=8, help="the backend's own bare encode runs on every Nth chunk")
    b.add_argument("--limit", type=int, default=0, help="only the first N articles (a smoke run)")
    q = sub.add_parser("query")
    q.add_argument("--index", default="index")
    q.add_argument("--questions", default=str(DEVSET))
    q.add_argument("--rounds", type=int, default=3)
    a = sub.add_parser("app")
    a.add_argument("--index", default="index")
    a.add_argument("--question", default="Why did the US sanction Turkey?")
    a.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    body = {"build": build, "query": query, "app": app}[args.what](args)
    print(body)
    print(f"\nwritten to {write(f'speed-{args.what}', f'Speed: {args.what}', body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
