"""Load: start the chat on 127.0.0.1 and have N concurrent gradio_client users ask 3 questions each.

Run: .venv/bin/python bench/load.py --index index [--users 50] [--questions-per-user 3]
Reports how many answers came back (none may be dropped or an error) and the p50/p95
seconds per answer as the users saw them, queueing included; writes bench/results/load.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write  # noqa: E402

from newsqa import NewsQA  # noqa: E402
from newsqa.evaluate import DEVSET, load_questions  # noqa: E402
from newsqa.ui import create_app  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions-per-user", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600, help="seconds before the whole run gives up")
    args = parser.parse_args()
    from gradio_client import Client

    qa = NewsQA.open(args.index)
    qa.ask("warm-up")
    port = free_port()
    demo = create_app(qa)
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=port, ssr_mode=False)
    url = f"http://127.0.0.1:{port}/"
    questions = [q["question"] for q in load_questions(DEVSET)]
    seconds: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def user(number: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # noqa: BLE001 - a failed connection is a result to report
            with lock:
                errors.append(f"user {number}: {exc!r}")
            return
        for k in range(args.questions_per_user):
            question = questions[(number * args.questions_per_user + k) % len(questions)]
            started = time.perf_counter()
            try:
                answer = client.predict(question, api_name="/ask")
                assert isinstance(answer, dict) and answer.get("text"), answer
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors.append(f"user {number}: {exc!r}")
                continue
            with lock:
                seconds.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(args.users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, args.timeout - (time.perf_counter() - started)))
    wall = time.perf_counter() - started
    demo.close()
    expected = args.users * args.questions_per_user
    seconds.sort()
    p95 = seconds[int(0.95 * (len(seconds) - 1))] if seconds else float("nan")
    body = "\n".join([
        f"Index: {args.index}; {args.users} concurrent gradio_client users x {args.questions_per_user} questions "
        f"against /ask on 127.0.0.1", "",
        "| answered | errors | p50 s | p95 s | wall s |", "|---|---|---|---|---|",
        f"| {len(seconds)}/{expected} | {len(errors)} | {statistics.median(seconds) if seconds else float('nan'):.2f} "
        f"| {p95:.2f} | {wall:.1f} |",
        *(["", "Errors:", *[f"- {e}" for e in errors[:10]]] if errors else []),
    ])
    print(body)
    print(f"\nwritten to {write('load', 'Load: concurrent chat users', body)}")
    return 0 if len(seconds) == expected else 1


if __name__ == "__main__":
    sys.exit(main())
