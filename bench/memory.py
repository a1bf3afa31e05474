"""Memory: peak memory of `newsqa build` on one large text file (issue 13: a 50 MB file took 3.3 GB and 25 min).

Run:
  .venv/bin/python bench/memory.py [--mb 50] [--index index]
Makes a text file of that many MB from the articles of an index (paragraphs joined by blank lines), then
runs `newsqa build` on it in a child process twice: with the default per-file limit (a file over it is
refused, with its reason) and with --max-file-mb raised above its size (the file is read, chunked and
embedded; 50 MB takes most of an hour on two shared cores). Prints each run's peak memory (the child's own VmHWM, read as it exits: common.newsqa_measured)
and wall time, and writes bench/results/memory.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import newsqa_measured, write  # noqa: E402

from newsqa import NewsQA  # noqa: E402

BOUND_MB = 1500  # the bound for the 50 MB file


def make_text(path: Path, megabytes: float, index: str) -> None:
    """Article texts from `index`, repeated in order until the file holds `megabytes` MB."""
    texts = [a.text for a in NewsQA.open(index).reader.articles()]
    with open(path, "w", encoding="utf-8") as file:
        size, i = 0, 0
        while size < megabytes * 1e6:
            data = texts[i % len(texts)] + "\n\n"
            file.write(data)
            size, i = size + len(data.encode("utf-8")), i + 1


def build(path: Path, index: Path, *limit: str) -> tuple[float, float, dict]:
    """(peak memory in MB, seconds, the JSON report) of one `newsqa build` child process."""
    started = time.perf_counter()
    done, peak = newsqa_measured("build", path, "--index", index, "--quiet", "--json", *limit, cwd=index.parent)
    return peak, time.perf_counter() - started, json.loads(done.stdout or "{}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the text file (default 50)")
    parser.add_argument("--index", default="index", help="index whose articles make the text (default index)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.txt"
        make_text(path, args.mb, args.index)
        size = path.stat().st_size / 1e6
        rows = []
        for label, limit in [("default limit", ()), ("--max-file-mb raised", ("--max-file-mb", str(int(size) + 1)))]:
            peak, seconds, report = build(path, Path(tmp) / f"index-{len(rows)}", *limit)
            outcome = (f"{report.get('chunks', 0)} chunks embedded" if report.get("read")
                       else "; ".join(report.get("problems", [])) or "no report")
            rows.append(f"| {label} | {peak:.0f} | {seconds:.0f} | {outcome} |")
            print(rows[-1], flush=True)
    body = (f"One text file of {size:.1f} MB (the articles of `{args.index}` repeated, blank lines between them), "
            f"built by `newsqa build` in a child process; peak memory is the child's own VmHWM at exit. "
            f"The bound (issue 13) is {BOUND_MB} MB.\n\n"
            "| run | peak memory (MB) | seconds | outcome |\n|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
            f"Command: `python bench/memory.py --mb {args.mb:g} --index {args.index}`\n")
    print(f"wrote {write('memory', 'Memory: one large text file', body)}")


if __name__ == "__main__":
    main()
