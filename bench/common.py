"""What every benchmark prints and records: the machine, the versions, the date."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
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


# Runs the CLI and, as it exits, writes its own peak resident memory (VmHWM, kB) to the file NEWSQA_PEAK_FILE
# names. Not ru_maxrss (os.wait4, RUSAGE_CHILDREN): a child's starts from the parent's resident memory at the
# fork (2.4 GB reported for a 100 MB child of a 2.5 GB parent).
_MEASURED = """
import atexit, os, runpy, sys
def _peak():
    with open("/proc/self/status") as status, open(os.environ["NEWSQA_PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])
atexit.register(_peak)
sys.argv = ["newsqa", *sys.argv[1:]]
runpy.run_module("newsqa.cli", run_name="__main__")
"""


def newsqa_measured(*args: object, cwd: Path, env: dict[str, str] | None = None,
                    timeout: float | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    """`newsqa ARGS` run in a child process, and the peak memory (MB) of that process alone."""
    peak = Path(cwd) / "peak.kb"
    done = subprocess.run([sys.executable, "-c", _MEASURED, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**(env or os.environ), "NEWSQA_PEAK_FILE": str(peak)})
    return done, int(peak.read_text()) / 1024


Sweep = tuple[float, float, float, float]  # threshold, kept share, caught share, balanced accuracy


def sweep(scores: list[tuple[bool, float]], lowest: float, highest: float) -> list[Sweep]:
    """Thresholds from `lowest` to `highest` in steps of 0.01 over labelled scores: for each, the
    share of the good (True) scores at or above it (kept), of the bad ones below it (caught), and
    their mean (balanced accuracy)."""
    good = [s for ok, s in scores if ok]
    bad = [s for ok, s in scores if not ok]
    rows = []
    for step in range(round(lowest * 100), round(highest * 100) + 1):
        t = step / 100
        kept = sum(s >= t for s in good) / len(good)
        caught = sum(s < t for s in bad) / len(bad)
        rows.append((t, kept, caught, (kept + caught) / 2))
    return rows


def recommend(rows: list[Sweep], min_kept: float) -> Sweep:
    """The best balanced accuracy among thresholds keeping at least `min_kept` (ties: the lower one)."""
    allowed = [r for r in rows if r[1] >= min_kept] or rows
    return max(allowed, key=lambda r: (round(r[3], 6), -r[0]))
