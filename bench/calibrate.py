"""Calibrate the abstention threshold (`AnswerSettings.min_support`) on the development set.

Answers every question with abstention switched off, records the best sentence's score,
and sweeps the threshold: a question abstains when its best score is below it. Prints,
for each threshold, the share of answerable questions still answered, the abstention
precision and recall on the unanswerable ones, and their balanced accuracy. The
recommended threshold has the best balanced accuracy among those that still answer at
least --min-answered of the answerable questions (default 0.9: a wrong abstention costs a
reader an answer they could have checked; ties go to the lower threshold).

Run: .venv/bin/python bench/calibrate.py --index index
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Sweep, recommend, sweep, write  # noqa: E402

from newsqa import NewsQA  # noqa: E402
from newsqa.evaluate import DEVSET, load_questions  # noqa: E402


def abstention_rows(swept: list[Sweep], answerable: int,
                    unanswerable: int) -> list[tuple[float, float, float, float, float]]:
    """(threshold, answered share, abstention precision, abstention recall, balanced accuracy): the
    sweep's kept share is the answered one, its caught share the abstention recall."""
    rows = []
    for t, answered, recall, balanced in swept:
        true_abstentions = recall * unanswerable
        abstentions = true_abstentions + (1 - answered) * answerable
        rows.append((t, answered, true_abstentions / abstentions if abstentions else 1.0, recall, balanced))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--questions", default=str(DEVSET))
    parser.add_argument("--min-answered", type=float, default=0.9)
    args = parser.parse_args()
    qa = NewsQA.open(args.index)
    qa.settings = replace(qa.settings, answer=replace(qa.settings.answer, min_support=0.0))
    scores = []
    for item in load_questions(args.questions):
        answer = qa.ask(item["question"])
        scores.append((bool(item["answerable"]), max((c.score for c in answer.citations), default=0.0)))
    swept = sweep(scores, 0.20, 0.80)
    answerable = sum(ok for ok, _ in scores)
    rows = abstention_rows(swept, answerable, len(scores) - answerable)
    best_t, best_answered, best_recall, best_balanced = recommend(swept, args.min_answered)
    lines = ["| threshold | answered share | abstention precision | abstention recall | balanced accuracy |",
             "|---|---|---|---|---|"]
    lines += [f"| {t:.2f} | {a:.3f} | {p:.3f} | {r:.3f} | {b:.3f} |" for t, a, p, r, b in rows if round(t * 100) % 2 == 0]
    body = "\n".join([f"Index: {args.index}; {len(scores)} questions", "", *lines, "",
                      f"Recommended min_support: {best_t:.2f} (answers {best_answered:.3f} of answerable questions, "
                      f"abstains on {best_recall:.3f} of unanswerable ones; balanced accuracy {best_balanced:.3f}; "
                      f"rule: best balanced accuracy answering at least {args.min_answered:.2f})"])
    print(body)
    print(f"\nwritten to {write('calibration', 'Abstention calibration', body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
