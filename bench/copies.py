"""Wire copies: how much of a sentence's wording another outlet's sentence of the same day shares.

Run: .venv/bin/python bench/copies.py [--index index]

For every pair of sentences (8+ shingles) from two outlets' articles published the same day that share
3 or more 3-word shingles, the share of the first's shingles found in the second, in bins of 0.1, with
examples near the threshold. `copies.COPY_CONTAINMENT` is set from this.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write

from newsqa.copies import COPY_CONTAINMENT, shingles_of
from newsqa.store import Reader

_MIN_SHINGLES = 8  # shorter sentences ("He said.") share wording by chance
_MIN_SHARED = 3


def sentences_by_day(reader: Reader) -> dict[str, list[tuple[str, str, set]]]:
    days: dict[str, list[tuple[str, str, set]]] = collections.defaultdict(list)
    for article in reader.articles():
        if not article.source:
            continue
        for span in reader.sentences(article.id):
            text = article.text[span.start:span.end]
            shingles = shingles_of(text)
            if len(shingles) >= _MIN_SHINGLES:
                days[article.published].append((article.source, text, shingles))
    return days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    reader = Reader(Path(parser.parse_args().index))
    bins: collections.Counter[float] = collections.Counter()
    examples: dict[float, list[str]] = collections.defaultdict(list)
    for sentences in sentences_by_day(reader).values():
        where: dict[tuple, set[int]] = collections.defaultdict(set)
        for i, (_, _, shingles) in enumerate(sentences):
            for s in shingles:
                where[s].add(i)
        for i, (source, text, shingles) in enumerate(sentences):
            shared = collections.Counter(j for s in shingles for j in where[s] if j != i)
            for j, n in shared.items():
                if sentences[j][0] == source or n < _MIN_SHARED:
                    continue
                share = round(n / len(shingles), 1)
                bins[share] += 1
                if len(examples[share]) < 2:
                    examples[share].append(f"- {share}: \"{text[:100]}\" / \"{sentences[j][1][:100]}\"")
    rows = [f"| {share:.1f} | {bins[share]} |" for share in sorted(bins)]
    near = [e for share in (0.5, 0.6, 0.7, 0.8) for e in examples[share]]
    body = "\n".join([f"Pairs: {sum(bins.values())}; threshold COPY_CONTAINMENT = {COPY_CONTAINMENT}.", "",
                      "| shared share | pairs |", "|---|---|", *rows, "", "Near the threshold:", "", *near])
    print(body)
    print(f"\nwritten to {write('copies', 'Wire copies: shared wording of same-day sentences', body)}")


if __name__ == "__main__":
    main()
