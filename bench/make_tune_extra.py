"""More tune-split flips of the classes the judge caught least on the test split (issue 12): role swap,
negation added, quantifier. Written to bench/data/adversarial_tune_extra.jsonl, which bench/generative.py
--adversarial adds to the tune split; the test split (bench/data/adversarial.jsonl) is not touched.

Source sentences are prose sentences (make_adversarial.prose), one per article, of articles that neither the
adversarial set nor the verifier's training pairs (train_verifier.training_sentences) use, drawn with a fixed
seed; each gets the flips of EXTRA_CLASSES whose rule applies (bench/flips.py), until each class has
EXTRA_PER_CLASS.

Run: python bench/make_tune_extra.py --index index
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flips import FLIPS
from make_adversarial import DATA, corpus, prose, write_jsonl
from train_verifier import SEED, training_sentences

from newsqa.store import Reader

EXTRA_TUNE = DATA / "adversarial_tune_extra.jsonl"
EXTRA_CLASSES = ("role_swap", "negation_added", "quantifier")  # under 0.95 caught on the test split
EXTRA_PER_CLASS = 60
EXTRA_SEED = 21


def extra_flips(sentences: dict[str, list[str]]) -> list[dict]:
    used = {json.loads(line)["article_id"] for line in (DATA / "adversarial_sources.jsonl").open()}
    used |= {article for article, _ in training_sentences(sentences, random.Random(SEED))}
    pool = [(a, i) for a, texts in sentences.items() if a not in used and len(texts) >= 5
            for i, t in enumerate(texts) if prose(t)]
    rng = random.Random(EXTRA_SEED)
    rng.shuffle(pool)
    items: list[dict] = []
    per_class = dict.fromkeys(EXTRA_CLASSES, 0)
    taken: set[str] = set()
    for article, i in pool:
        if article in taken:
            continue
        text = sentences[article][i]
        for name in EXTRA_CLASSES:
            flipped = FLIPS[name](text, sentences[article], rng)
            if flipped and flipped != text and per_class[name] < EXTRA_PER_CLASS:
                per_class[name] += 1
                taken.add(article)
                items.append({"claim": flipped, "article_id": article, "source": f"{article}:{i}", "sentence": text,
                              "class": name, "faithful": False, "split": "tune"})
        if min(per_class.values()) >= EXTRA_PER_CLASS:
            break
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    args = parser.parse_args()
    items = extra_flips(corpus(Reader(Path(args.index))))
    write_jsonl(EXTRA_TUNE, items)
    counts = {name: sum(i["class"] == name for i in items) for name in EXTRA_CLASSES}
    print(f"{len(items)} tune flips from {len({i['source'] for i in items})} sentences: {counts}; written to {EXTRA_TUNE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
