"""What every benchmark prints and records: the machine, the versions, the date."""

from __future__ import annotations

import datetime as dt
import os
import platform
from importlib.metadata import version
from pathlib import Path

RESULTS = Path(os.environ.get("NEWSQA_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    libs = ", ".join(f"{name} {version(name)}" for name in
                     ("newsqa", "sentence-transformers", "faiss-cpu", "torch", "transformers"))
    return f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; {libs}"


def write(name: str, title: str, body: str) -> Path:
    """Write a Markdown result under bench/results/ with the machine and date."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(f"# {title}\n\n{stamp}; {machine()}\n\n{body.rstrip()}\n", encoding="utf-8")
    return path
