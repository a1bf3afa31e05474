"""Load: start the chat on 127.0.0.1 and have N concurrent users ask 3 questions each, on three paths:

- ask: gradio_client users calling the public `/ask` endpoint;
- ask-http: users calling `/ask` over Gradio's HTTP API as curl would (gradio_client's own CPU, 17 s of the
  2 cores in a 40 s run of 50 users, was part of the ask figure; the users run on the server's machine);
- chat: users speaking the browser's queue protocol (join, then read the event stream) to the chat's
  streamed answer, as the page does; the answer counts as arrived at `process_completed`.

The server runs in a child process. Run:
    .venv/bin/python bench/load.py --index index [--users 50] [--questions-per-user 3] [--path all]
All users connect first, then ask. Reports how many answers came back (none may be dropped or an error), the
p50/p95 seconds per answer as the users saw them, queueing included, and the events streamed per chat answer;
writes bench/results/load.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write  # noqa: E402

from newsqa import NewsQA  # noqa: E402
from newsqa.evaluate import DEVSET, load_questions  # noqa: E402
from newsqa.ui import create_app  # noqa: E402

TIMEOUT_S = 120  # one answer, queueing included


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    """The answers of one path: seconds each, errors, and events per answer."""

    def __init__(self, users: int) -> None:
        # Every user connects, then all ask: the clock measures questions, not 50 clients connecting (50
        # gradio_client Clients took 9 s of this machine's 2 cores while the first users were asking).
        self.ready = threading.Barrier(users, action=self.start)
        self.started = time.perf_counter()
        self.seconds: list[float] = []
        self.events: list[int] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        self.started = time.perf_counter()

    def connected(self) -> None:
        """Wait until every user has connected."""
        self.ready.wait(TIMEOUT_S)

    def row(self, path: str, expected: int, wall: float) -> str:
        s = sorted(self.seconds)
        p50 = statistics.median(s) if s else float("nan")
        p95 = s[int(0.95 * (len(s) - 1))] if s else float("nan")
        events = f"{statistics.mean(self.events):.1f}" if self.events else "-"
        return f"| {path} | {len(s)}/{expected} | {len(self.errors)} | {p50:.2f} | {p95:.2f} | {wall:.1f} | {events} |"


def ask_user(url: str, questions: list[str], run: Run) -> None:
    """A gradio_client user asking `/ask`."""
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    finally:
        run.connected()
    for question in questions:
        started = time.perf_counter()
        answer = client.predict(question, api_name="/ask")
        assert isinstance(answer, dict) and answer.get("text"), answer
        with run.lock:
            run.seconds.append(time.perf_counter() - started)


def http_user(url: str, questions: list[str], run: Run) -> None:
    """A user asking `/ask` over Gradio's HTTP API, as curl does: POST the question, read the answer's stream."""
    import httpx

    with httpx.Client(timeout=TIMEOUT_S) as client:
        run.connected()
        for question in questions:
            started = time.perf_counter()
            posted = client.post(f"{url}gradio_api/call/ask", json={"data": [question]})
            posted.raise_for_status()
            answer = None
            with client.stream("GET", f"{url}gradio_api/call/ask/{posted.json()['event_id']}") as stream:
                event = ""
                for line in stream.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event in ("complete", "error"):
                        answer = json.loads(line[5:]) if event == "complete" else line
                        break
            assert isinstance(answer, list) and answer[0].get("text"), str(answer)[:300]
            with run.lock:
                run.seconds.append(time.perf_counter() - started)


def chat_user(url: str, fn_index: int, inputs: int, questions: list[str], run: Run) -> None:
    """A browser's session asking in the chat: join the queue, read the stream to `process_completed`."""
    import httpx

    session = uuid.uuid4().hex[:11]
    with httpx.Client(timeout=TIMEOUT_S) as client:
        run.connected()
        for question in questions:
            started, events = time.perf_counter(), 0
            joined = client.post(f"{url}gradio_api/queue/join", json={
                "data": [question, [], *[None] * (inputs - 2)], "fn_index": fn_index, "session_hash": session,
                "event_data": None, "trigger_id": None})
            joined.raise_for_status()
            done = None
            with client.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as stream:
                for line in stream.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    message = json.loads(line[5:])
                    events += message.get("msg") in ("process_generating", "process_completed")
                    if message.get("msg") == "process_completed":
                        done = message
                        break
            assert done is not None and done.get("success"), str(done)[:300]
            with run.lock:
                run.seconds.append(time.perf_counter() - started)
                run.events.append(events)


def respond_index(demo: object) -> tuple[int, int]:
    """The chat's ask handler by fn_index, as the page calls it, and how many inputs it takes."""
    return next((i, len(fn.inputs)) for i, fn in demo.fns.items()  # type: ignore[attr-defined]
                if getattr(fn.fn, "__name__", "") == "respond")


def load(users: int, timeout: float, user: Callable[[int], None], run: Run) -> float:
    def guarded(number: int) -> None:
        try:
            user(number)
        except Exception as exc:  # noqa: BLE001 - a failed answer is a result to report
            with run.lock:
                run.errors.append(f"user {number}: {exc!r}"[:300])

    started = time.perf_counter()
    threads = [threading.Thread(target=guarded, args=(n,), daemon=True) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, timeout - (time.perf_counter() - started)))
    return time.perf_counter() - run.started  # from when all had connected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions-per-user", type=int, default=3)
    parser.add_argument("--path", choices=("ask", "ask-http", "chat", "all"), default="all")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a path's run gives up")
    parser.add_argument("--note", default="", help="a line for the result, e.g. what else ran on the machine")
    parser.add_argument("--name", default="load", help="result file name under bench/results/")
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)  # the server process, on this port
    args = parser.parse_args()

    if args.serve:
        return serve(args.index, args.serve)
    port = free_port()
    # The server runs in a process of its own, as it would in production: 50 users' client threads in the
    # server's process competed with it for the GIL, and the figures were the clients' as much as the server's.
    server = subprocess.Popen([sys.executable, __file__, "--index", args.index, "--serve", str(port)],
                              stdout=subprocess.PIPE, text=True)
    try:
        ready = (server.stdout.readline() if server.stdout else "").split()
        if ready[:1] != ["ready"]:
            raise SystemExit(f"the server did not start: {ready}")
        return measure(args, f"http://127.0.0.1:{port}/", int(ready[1]), int(ready[2]))
    finally:
        server.terminate()
        server.wait(30)


def serve(index: str, port: int) -> int:
    """The chat on 127.0.0.1:`port` until terminated; prints `ready <the chat's ask handler's fn_index> <its
    number of inputs>`."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # for sigwait, in every thread
    qa = NewsQA.open(index)
    qa.ask(load_questions(DEVSET)[0]["question"])  # a real question loads every model an answer needs
    demo = create_app(qa)
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=port, ssr_mode=False)
    print("ready", *respond_index(demo), flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    demo.close()
    return 0


def measure(args: argparse.Namespace, url: str, respond: int, inputs: int) -> int:
    questions = [q["question"] for q in load_questions(DEVSET)]
    per_user = args.questions_per_user

    def mine(number: int) -> list[str]:
        return [questions[(number * per_user + k) % len(questions)] for k in range(per_user)]

    paths = {"ask": lambda n, run: ask_user(url, mine(n), run),
             "ask-http": lambda n, run: http_user(url, mine(n), run),
             "chat": lambda n, run: chat_user(url, respond, inputs, mine(n), run)}
    rows, errors, complete = [], [], True
    for name in (["ask", "ask-http", "chat"] if args.path == "all" else [args.path]):
        run = Run(args.users)
        wall = load(args.users, args.timeout, lambda n, f=paths[name], r=run: f(n, r), run)
        rows.append(run.row(name, args.users * per_user, wall))
        errors += run.errors
        complete &= len(run.seconds) == args.users * per_user
    body = "\n".join([
        f"Index: {args.index}; {args.users} concurrent users x {per_user} questions on 127.0.0.1 "
        "(ask: `/ask` by gradio_client; ask-http: `/ask` by Gradio's HTTP API (POST /gradio_api/call/ask, then "
        "its stream); chat: the page's queue protocol, to the streamed answer's last event)",
        *([args.note] if args.note else []), "",
        "| path | answered | errors | p50 s | p95 s | wall s | events per answer |", "|---|---|---|---|---|---|---|",
        *rows,
        *(["", "Errors:", *[f"- {e}" for e in errors[:10]]] if errors else []),
    ])
    print(body)
    print(f"\nwritten to {write(args.name, 'Load: concurrent chat users', body)}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
