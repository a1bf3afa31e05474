"""Disagreements between outlets: flagged on real pairs, and false flags on answers whose sources agree.

Run: .venv/bin/python bench/conflicts.py [--index index] [--answers 50]

1. bench/data/conflicts.jsonl holds pairs of demo-corpus sentences, found by reading, that give
   different figures for the same thing: "disagreement" pairs were published the same day (they must
   be flagged in `Answer.conflicts`), "update" pairs a day apart (they must be reported as updates,
   never as disagreements). Each pair is cited as two citations and judged by `find_conflicts`.
2. The dev set's answerable questions are asked in order; the first N answers that cite two or more
   articles are the "agreeing" answers: each disagreement flagged on them is printed for review.
3. Questions about events two outlets counted the same day ("<title>: how many people were killed?"),
   one per event whose two figures fit: the answers that cite two articles with a figure for the same
   thing are where a false flag could happen; each flag is printed for review.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write

from newsqa import NewsQA
from newsqa.answer.compose import cite
from newsqa.conflicts import Count, compatible, counts, find_conflicts, same_event
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


def comparable(citations: list[Citation]) -> bool:
    """Whether two cited articles both give a figure for the same thing (the answers where a flag could fire)."""
    things: dict[str, set[str]] = {}
    for c in citations:
        for count in counts(c.quote):
            things.setdefault(count.thing, set()).add(c.article_id)
    return any(len(articles) > 1 for articles in things.values())


def judge_answers(qa: NewsQA, wanted: int) -> tuple[list[str], int, int, int]:
    lines, asked, flagged, figures = [], 0, 0, 0
    for item in load_questions(DEVSET):
        if asked >= wanted:
            break
        if not item["answerable"]:
            continue
        answer = qa.ask(item["question"], item.get("history") or None)
        if len({c.article_id for c in answer.citations}) < 2:
            continue
        asked += 1
        figures += comparable(answer.citations)
        for c in answer.conflicts:
            flagged += 1
            lines.append(f"- {item['id']}: {c.about}: {c.first.figure} ({c.first.source}: \"{c.first.quote[:90]}\") "
                         f"vs {c.second.figure} ({c.second.source}: \"{c.second.quote[:90]}\")")
    return lines, asked, flagged, figures


_ASK = {"dead": "how many people were killed", "injured": "how many people were injured",
        "detained": "how many people were detained", "evacuated": "how many people were evacuated",
        "missing": "how many people are missing", "displaced": "how many people were displaced",
        "protesters": "how many people protested"}


def same_day_events(reader: Reader) -> list[tuple[str, str]]:
    """(article title, thing) for each article with a figure that another outlet's article of the same
    day gives too (the figures fit): events the outlets agree on, each asked about once."""
    by_day: dict[str, list[tuple[Any, str, list[Count]]]] = {}
    for article in reader.articles():
        for span in reader.sentences(article.id) if article.source else []:
            sentence = article.text[span.start:span.end]
            found = counts(sentence)
            if found:
                by_day.setdefault(article.published, []).append((article, sentence, found))
    events, seen = [], set()
    for rows in by_day.values():
        for (a, sa, fa), (b, sb, fb) in itertools.combinations(rows, 2):
            if a.source == b.source or not same_event(sa, sb):
                continue
            for x, y in itertools.product(fa, fb):
                if x.thing == y.thing and compatible(x, y) and (a.id, x.thing) not in seen:
                    seen.update({(a.id, x.thing), (b.id, x.thing)})
                    events.append((a.title.rstrip(".?!"), x.thing))
                    break
    return events


def judge_event_answers(qa: NewsQA) -> tuple[list[str], int, int, int]:
    lines, asked, comparable_answers, flagged = [], 0, 0, 0
    for title, thing in same_day_events(qa.reader):
        question = f"{title}: {_ASK[thing]}?"
        answer = qa.ask(question)
        asked += 1
        if not comparable(answer.citations):
            continue
        comparable_answers += 1
        for c in answer.conflicts:
            flagged += 1
            lines.append(f"- \"{question}\": {c.about}: {c.first.figure} ({c.first.source}: \"{c.first.quote[:90]}\") "
                         f"vs {c.second.figure} ({c.second.source}: \"{c.second.quote[:90]}\")")
    return lines, asked, comparable_answers, flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    parser.add_argument("--answers", type=int, default=50, help="answers citing two or more articles to check")
    args = parser.parse_args()
    qa = NewsQA.open(args.index)
    pair_lines, results = judge_pairs(qa.reader)
    answer_lines, asked, flagged, figures = judge_answers(qa, args.answers)
    event_lines, events, event_figures, event_flags = judge_event_answers(qa)
    dis, upd = results["disagreement"], results["update"]
    body = "\n".join([
        f"Disagreeing pairs flagged: {sum(dis)} of {len(dis)}; updates reported as updates (not flagged): "
        f"{sum(upd)} of {len(upd)}.",
        f"Answers citing two or more articles: {asked}, of which {figures} cite two articles giving a figure for "
        f"the same thing; disagreements flagged on them: {flagged} (each listed below for review).", "",
        "| kind | pair | thing | figures read | right |", "|---|---|---|---|---|", *pair_lines, "",
        "Flags on the dev-set answers:", "", *(answer_lines or ["(none)"]), "",
        f"Questions about events two outlets counted the same day with fitting figures: {events}; answers citing "
        f"two articles with a figure for the same thing: {event_figures}; disagreements flagged on them: "
        f"{event_flags}:", "", *(event_lines or ["(none)"]),
    ])
    print(body)
    print(f"\nwritten to {write('conflicts', 'Disagreements between outlets', body)}")


if __name__ == "__main__":
    main()
