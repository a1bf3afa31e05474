"""Answer quality on the development question set over an index; what `newsqa eval answers` prints, recorded.

Run: .venv/bin/python bench/answers.py --index index [--questions FILE] [--split tune|test|all] [--limit N] [--no-write]
Prints fully right, key-fact recall, citations in gold articles, quote validity, abstention
precision/recall, a per-type breakdown and the ten worst questions (newsqa.evaluate; the default question set is
src/newsqa/data/devset.jsonl); writes bench/results/answers.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write  # noqa: E402

from newsqa import NewsQA  # noqa: E402
from newsqa.evaluate import DEVSET, load_questions, report, run, select  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--questions", default=str(DEVSET))
    parser.add_argument("--split", choices=("tune", "test", "all"), default="all")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update bench/results")
    args = parser.parse_args()
    questions = select(load_questions(args.questions), args.split)
    if args.limit:
        questions = questions[: args.limit]
    outcomes = run(NewsQA.open(args.index), questions, progress=True)
    body = report(outcomes)
    print(body)
    if not args.no_write:
        path = write("answers", "Answer benchmark", f"Index: {args.index}; split {args.split}\n\n{body}")
        print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
