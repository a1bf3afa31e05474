"""Disagreements between outlets: flagged on real pairs, and false flags on answers whose sources agree.

Run: .venv/bin/python bench/conflicts.py [--index index] [--answers 50]

1. bench/data/conflicts.jsonl holds pairs of demo-corpus sentences, found by reading, that give
   different figures for the same thing: "disagreement" pairs were published the same day (they must
   be flagged in `Answer.conflicts`), "update" pairs a day apart (they must be reported as updates,
   never as disagreements). Each pair is cited as two citations and judged by `find_conflicts`.
2. The dev set's answerable questions are asked in order; the first N answers that cite two or more
   articles are the "agreeing" answers: each disagreement flagged on them is printed for review.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write

from newsqa import NewsQA
from newsqa.answer.compose import cite
from newsqa.conflicts import find_conflicts
from newsqa.evaluate import DEVSET, load_questions
from newsqa.store import Reader
from newsqa.types import Citation, Span

PAIRS = Path(__file__).resolve().parent / "data" / "conflicts.jsonl"


def citation(reader: Reader, side: dict[str, str], number: int) -> Citation:
    article = reader.article(side["article_id"])
    if article is None or side["quote"] not in article.text:
        raise SystemExit(f"{PAIRS}: article {side['article_id']} does not hold {side['quote'][:60]!r}; "
                         "is --index the demo index?")
    start = article.text.index(side["quote"])
    return cite(number, article, reader.sentences(article.id), Span(start, start + len(side["quote"])), 1.0)


def judge_pairs(reader: Reader) -> tuple[list[str], dict[str, list[bool]]]:
    lines, results = [], {"disagreement": [], "update": []}
    for row in map(json.loads, PAIRS.read_text(encoding="utf-8").splitlines()):
        first, second = citation(reader, row["first"], 1), citation(reader, row["second"], 2)
        disagreements, updates = find_conflicts([first, second])
        found = disagreements if row["kind"] == "disagreement" else updates
        right = any(c.about == row["thing"] for c in found) and not (row["kind"] == "update" and disagreements)
        results[row["kind"]].append(right)
        figures = "; ".join(f"{c.first.figure} ({c.first.source}) vs {c.second.figure} ({c.second.source})"
                            for c in disagreements + updates) or "no differing figures read"
        lines.append(f"| {row['kind']} | {row['note']} | {row['thing']} | {figures} | {'yes' if right else 'NO'} |")
    return lines, results


def judge_answers(qa: NewsQA, wanted: int) -> tuple[list[str], int, int]:
    lines, asked, flagged = [], 0, 0
    for item in load_questions(DEVSET):
        if asked >= wanted:
            break
        if not item["answerable"]:
            continue
        answer = qa.ask(item["question"], item.get("history") or None)
        if len({c.article_id for c in answer.citations}) < 2:
            continue
        asked += 1
        for c in answer.conflicts:
            flagged += 1
            lines.append(f"- {item['id']}: {c.about}: {c.first.figure} ({c.first.source}: \"{c.first.quote[:90]}\") "
                         f"vs {c.second.figure} ({c.second.source}: \"{c.second.quote[:90]}\")")
    return lines, asked, flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    parser.add_argument("--answers", type=int, default=50, help="answers citing two or more articles to check")
    args = parser.parse_args()
    qa = NewsQA.open(args.index)
    pair_lines, results = judge_pairs(qa.reader)
    answer_lines, asked, flagged = judge_answers(qa, args.answers)
    dis, upd = results["disagreement"], results["update"]
    body = "\n".join([
        f"Disagreeing pairs flagged: {sum(dis)} of {len(dis)}; updates reported as updates (not flagged): "
        f"{sum(upd)} of {len(upd)}.",
        f"Answers citing two or more articles: {asked}; disagreements flagged on them: {flagged} "
        "(each listed below for review).", "",
        "| kind | pair | thing | figures read | right |", "|---|---|---|---|---|", *pair_lines, "",
        "Flags on the dev-set answers:", "", *(answer_lines or ["(none)"]),
    ])
    print(body)
    print(f"\nwritten to {write('conflicts', 'Disagreements between outlets', body)}")


if __name__ == "__main__":
    main()
