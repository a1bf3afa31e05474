"""Answer quality on the development question set (bench/devset.jsonl) over an index.

Run: .venv/bin/python bench/answers.py --index index [--questions bench/devset.jsonl] [--limit N]
Prints key-fact recall, citation accuracy, quote validity, abstention precision/recall, a
per-type breakdown and the ten worst questions; writes bench/results/answers.md.
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
from newsqa.evaluate import load_questions, run, summarize, worst  # noqa: E402

DEVSET = Path(__file__).resolve().parent / "devset.jsonl"


def report(summary: dict, outcomes: list) -> str:
    lines = ["| metric | value |", "|---|---|"]
    for key in ("questions", "answerable", "unanswerable", "fact_recall", "citation_accuracy", "quote_validity",
                "abstention_precision", "abstention_recall", "answered_share", "ms_p50"):
        value = summary[key]
        lines.append(f"| {key} | {value:.3f} |" if isinstance(value, float) else f"| {key} | {value} |")
    lines += ["", "| type | n | fact recall | citation accuracy |", "|---|---|---|---|"]
    for kind, row in summary["by_type"].items():
        lines.append(f"| {kind} | {row['n']} | {row['fact_recall']:.3f} | {row['citation_accuracy']:.3f} |")
    lines += ["", "Worst questions:", ""]
    for o in worst(outcomes):
        lines.append(f"- {o.id} ({o.type}) {o.question} -> {'; '.join(o.problems)}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", default="index")
    parser.add_argument("--questions", default=str(DEVSET))
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update bench/results")
    args = parser.parse_args()
    questions = load_questions(args.questions)
    if args.limit:
        questions = questions[: args.limit]
    qa = NewsQA.open(args.index)
    qa.ask("warm-up question")
    outcomes = run(qa, questions)
    body = report(summarize(outcomes), outcomes)
    print(body)
    if not args.no_write:
        path = write("answers", "Answer benchmark", f"Index: {args.index}\n\n{body}")
        print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
