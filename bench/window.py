"""The time window notice on the dev set: every "after the newest article" question should get it, no answerable one.

Run: .venv/bin/python bench/window.py [--index index] [--split tune|test|all]

Asks each question of the split (follow-ups in their history) and counts the answers whose
`Answer.notice` carries the window notice ("The articles end on ...", "The articles on this end
on ..."), among the unanswerable questions of kind "after-corpus" and among the answerable ones;
the questions that get it, or should and do not, are listed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write

from newsqa import NewsQA
from newsqa.evaluate import DEVSET, load_questions

_NOTICES = ("The articles end on", "The articles on this end on")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    parser.add_argument("--split", choices=("tune", "test", "all"), default="tune")
    args = parser.parse_args()
    qa = NewsQA.open(args.index)
    counts = {"after-corpus": [0, 0], "answerable": [0, 0]}
    lines = []
    for item in load_questions(DEVSET):
        if args.split != "all" and item.get("split") != args.split:
            continue
        group = "answerable" if item["answerable"] else item.get("kind")
        if group not in counts:
            continue
        answer = qa.ask(item["question"], item.get("history") or None)
        noticed = any(n in answer.notice for n in _NOTICES)
        counts[group][0] += noticed
        counts[group][1] += 1
        if noticed or group == "after-corpus":
            lines.append(f"- {item['id']} ({group}) {'notice' if noticed else 'NO notice'}: {item['question']}")
    after, answerable = counts["after-corpus"], counts["answerable"]
    body = "\n".join([f"Split {args.split}: after-corpus questions with the notice {after[0]} of {after[1]}; "
                      f"answerable questions with it {answerable[0]} of {answerable[1]}.", "", *lines])
    print(body)
    print(f"\nwritten to {write(f'window-{args.split}', 'Time window notice on the dev set', body)}")


if __name__ == "__main__":
    main()
