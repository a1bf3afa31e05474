"""What the boilerplate cleaning (src/newsqa/clean.py) removes from the demo corpus.

Run: .venv/bin/python bench/cleaning.py [--sample 50] [--seed 15] [--starters]

For each pattern: the number of demo articles whose text holds it before cleaning (normalized text, as
indexes built before the cleaning stored it) and after. Then a fixed-seed sample of cleaned articles
whose removed spans, with context, go to bench/results/cleaning-sample.txt to be read by eye; what that
reading found is kept in bench/cleaning_review.md and copied into the result. --starters recounts the
sentence-opening words that end a READ MORE headline (clean._SENTENCE_STARTERS).
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, write  # noqa: E402

from newsqa import corpora  # noqa: E402
from newsqa.clean import PATTERNS, clean_text, removed_spans  # noqa: E402
from newsqa.normalize import normalize_text  # noqa: E402

REVIEW = Path(__file__).resolve().parent / "cleaning_review.md"
# A sentence starter opens a sentence at least this often, and this many times as often as it occurs capitalised
# after a lowercase word (where it would be a name, or a word inside a headline).
STARTER_MIN_STARTS, STARTER_MIN_RATIO = 8, 9


def demo_texts() -> dict[str, str]:
    """Article id -> normalized, uncleaned text of the demo corpus (the empty and placeholder texts left out)."""
    texts = {corpora.SAMPLE_ID: normalize_text((corpora.DATA / f"{corpora.SAMPLE_ID}.txt").read_text("utf-8"))}
    for record, _ in corpora.raw_records():
        text = normalize_text(str(record["text"] or ""))
        if text and text != "-1":
            texts[str(record["id"])] = text
    return texts


def pattern_table(texts: dict[str, str], cleaned: dict[str, str]) -> str:
    rows = ["| pattern | articles before | articles after | spans removed |", "|---|---:|---:|---:|"]
    spans = collections.Counter(r.pattern for text in texts.values() for r in removed_spans(text))
    for pattern in PATTERNS:
        before = sum(bool(pattern.regex.search(t)) for t in texts.values())
        after = sum(bool(pattern.regex.search(t)) for t in cleaned.values())
        rows.append(f"| {pattern.name} | {before} | {after} | {spans[pattern.name]} |")
    return "\n".join(rows)


def sample_file(texts: dict[str, str], cleaned: dict[str, str], size: int, seed: int) -> tuple[Path, int]:
    changed = sorted((i for i in texts if cleaned[i] != texts[i]), key=lambda i: (len(i), i))
    chosen = random.Random(seed).sample(changed, min(size, len(changed)))
    lines = []
    for article_id in chosen:
        lines.append(f"=== article {article_id}")
        for r in removed_spans(texts[article_id]):
            lines.append(f"[{r.pattern}] ...{_flat(r.before)} <<{_flat(r.text)}>> {_flat(r.after)}...")
    path = RESULTS / "cleaning-sample.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(chosen)


def sentence_starters(texts: dict[str, str]) -> list[str]:
    starts: collections.Counter[str] = collections.Counter()
    inside: collections.Counter[str] = collections.Counter()
    for text in texts.values():
        text = re.sub(r"READ MORE[^\n]*", "", text)  # the headlines being delimited must not count
        starts.update(m.group(1) for m in re.finditer(r"(?:^|[.!?][\"']? )([A-Z][a-z]+)\b", text, re.M))
        inside.update(m.group(1) for m in re.finditer(r"(?<=[a-z,] )([A-Z][a-z]+)\b", text))
    return sorted(w for w, n in starts.items() if n >= STARTER_MIN_STARTS and n >= STARTER_MIN_RATIO * inside[w])


def _flat(text: str) -> str:
    return text.replace("\n", " / ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--starters", action="store_true", help="print the measured sentence starters and stop")
    args = parser.parse_args()
    texts = demo_texts()
    if args.starters:
        print(" ".join(sentence_starters(texts)))
        return
    cleaned = {i: clean_text(t) for i, t in texts.items()}
    changed = sum(cleaned[i] != texts[i] for i in texts)
    removed_chars = sum(len(texts[i]) - len(cleaned[i]) for i in texts)
    table = pattern_table(texts, cleaned)
    sample, n = sample_file(texts, cleaned, args.sample, args.seed)
    summary = (f"{len(texts)} demo articles; cleaning changes {changed} of them and removes {removed_chars:,} "
               f"of {sum(map(len, texts.values())):,} characters.")
    print(summary, table, f"removed spans of {n} sampled articles: {sample}", sep="\n\n")
    review = REVIEW.read_text(encoding="utf-8") if REVIEW.exists() else "(not reviewed yet)"
    body = (f"Command: `python bench/cleaning.py --sample {args.sample} --seed {args.seed}`\n\n{summary}\n\n"
            f"Articles of the demo corpus holding each pattern, before cleaning (normalized text, as stored by "
            f"indexes built before it) and after:\n\n{table}\n\n"
            f"## Checked by eye\n\nThe removed spans of {n} changed articles (seed {args.seed}), with "
            f"their context, are in `{sample.name}`.\n\n{review}")
    print(f"wrote {write('cleaning', 'Boilerplate cleaning of the demo corpus', body)}")


if __name__ == "__main__":
    main()
