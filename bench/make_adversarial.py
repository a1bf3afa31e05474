"""Build the adversarial verification set (bench/data/adversarial.jsonl) from the demo index.

Source sentences are drawn with a fixed seed from the index's sentences (12 to 40 words, plain
prose, one per article): for each flip class, rarest first, sentences its rule applies to until it
applies to MIN_PER_CLASS of those chosen. Each
chosen sentence gets the flips of every class whose rule applies (bench/flips.py), at most
MAX_PER_CLASS per class. Faithful rewordings are not generated: they are written by hand in
bench/data/faithful_by_hand.jsonl ({"source": "<article id>:<position>", "claim", "how"}), against
the sources this script lists in bench/data/adversarial_sources.jsonl (kept on later runs unless
--reselect). Sources are split tune/test
(TUNE_SHARE) by sentence, so no source sentence is in both.

Run: python bench/make_adversarial.py --index index
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flips import CLASSES, FLIPS

from newsqa.store import Reader

DATA = Path(__file__).resolve().parent / "data"
SEED = 12
MIN_PER_CLASS = 34
MIN_SENTENCES = 110
MAX_PER_CLASS = 40
TUNE_SHARE = 0.6


def prose(sentence: str) -> bool:
    """Plain prose: a full sentence of 12 to 40 words, not a quote, caption or list."""
    n = len(sentence.split())
    return (12 <= n <= 40 and sentence[:1].isupper() and sentence.endswith(".") and "\n" not in sentence
            and not any(c in sentence for c in "\"“”:|"))


def corpus(reader: Reader) -> dict[str, list[str]]:
    """Article id -> its sentences."""
    out = {}
    for article in reader.articles():
        out[article.id] = [article.text[s.start:s.end] for s in reader.sentences(article.id)]
    return out


def choose(sentences: dict[str, list[str]], rng: random.Random) -> list[tuple[str, int]]:
    """Sentences (one an article) until every class's rule applies to MIN_PER_CLASS of them, rare
    classes first, then more until there are MIN_SENTENCES."""
    pool = [(a, i) for a, texts in sentences.items() if len(texts) >= 5 for i, t in enumerate(texts) if prose(t)]
    rng.shuffle(pool)
    chosen: list[tuple[str, int]] = []
    used: set[str] = set()
    rarest_first = sorted(CLASSES, key=lambda name: sum(_applies(name, sentences, s) for s in pool[:2000]))
    for name in rarest_first + ["any"]:
        count = sum(_applies(name, sentences, s) for s in chosen)
        for article, i in pool:
            if count >= MIN_PER_CLASS and (name != "any" or len(chosen) >= MIN_SENTENCES):
                break
            if article not in used and _applies(name, sentences, (article, i)):
                chosen.append((article, i))
                used.add(article)
                count += 1
    return chosen


def _applies(name: str, sentences: dict[str, list[str]], at: tuple[str, int]) -> bool:
    article, i = at
    names = CLASSES if name == "any" else (name,)
    return any(FLIPS[n](sentences[article][i], sentences[article], random.Random(0)) is not None for n in names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    parser.add_argument("--reselect", action="store_true",
                        help="draw the source sentences again (the hand-written rewordings then need rewriting)")
    args = parser.parse_args()
    rng = random.Random(SEED)
    sentences = corpus(Reader(Path(args.index)))
    listed = DATA / "adversarial_sources.jsonl"
    if listed.exists() and not args.reselect:  # the hand-written rewordings are written against these
        rows = [json.loads(line) for line in listed.read_text(encoding="utf-8").splitlines()]
        chosen = [(r["article_id"], int(r["source"].rsplit(":", 1)[1])) for r in rows]
        # The listed text, not the index's sentence at that position: a rebuilt index (new cleaning) shifts
        # positions, and the rewordings were written against this text.
        kept = {at: r["sentence"] for at, r in zip(chosen, rows)}
        tune = {at for at, r in zip(chosen, rows) if r["split"] == "tune"}
        rng = random.Random(SEED + 1)  # flips draw from their own stream when the sources are kept
    else:
        chosen = choose(sentences, rng)
        kept = {}
        order = list(chosen)
        rng.shuffle(order)
        tune = set(order[:round(len(order) * TUNE_SHARE)])
    DATA.mkdir(exist_ok=True)
    sources, items = [], []
    per_class = dict.fromkeys(CLASSES, 0)
    for article, i in chosen:
        text = kept.get((article, i)) or sentences[article][i]
        split = "tune" if (article, i) in tune else "test"
        sources.append({"source": f"{article}:{i}", "article_id": article, "sentence": text, "split": split})
        for name in CLASSES:
            flipped = FLIPS[name](text, sentences[article], rng)
            if flipped and flipped != text and per_class[name] < MAX_PER_CLASS:
                per_class[name] += 1
                items.append({"claim": flipped, "article_id": article, "source": f"{article}:{i}", "sentence": text,
                              "class": name, "faithful": False, "split": split})
    by_source = {s["source"]: s for s in sources}
    hand = DATA / "faithful_by_hand.jsonl"
    rows = [json.loads(line) for line in hand.read_text(encoding="utf-8").splitlines()] if hand.exists() else []
    faithful = {row["claim"] for row in rows}
    items = [i for i in items if i["claim"] not in faithful]  # a rule's "flip" a person wrote as faithful is none
    for row in rows:
        src = by_source[row["source"]]
        items.append({"claim": row["claim"], "article_id": src["article_id"], "source": row["source"],
                      "sentence": src["sentence"], "class": f"faithful:{row['how']}", "faithful": True,
                      "split": src["split"]})
    write_jsonl(DATA / "adversarial_sources.jsonl", sources)
    write_jsonl(DATA / "adversarial.jsonl", items)
    print(f"{len(sources)} source sentences; flips per class: {per_class}; "
          f"faithful: {sum(i['faithful'] for i in items)}")
    return 0


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
