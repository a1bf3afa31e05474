"""Train the entailment judge (src/newsqa/entail.py) and write its weights (src/newsqa/data/entail_weights.json).

Pairs are made from corpus sentences of articles the adversarial benchmark does not use (its sources
are in bench/data/adversarial_sources.jsonl): each sentence is the support of

- faithful rewrites made by rule (positives): attribution dropped, cut to its first clause, a leading
  phrase moved to the end, "X, Y said" turned to "Y said X", words swapped for synonyms, a tail dropped;
- meaning flips of every class of bench/flips.py (negatives), plus a sentence of another article and a
  sentence of the same article (unsupported).

A logistic regression (scikit-learn, balanced classes) over entail.FEATURES, standardized, is fitted;
its weights, bias and standardization are written as JSON (numpy applies them at run time).

Run: python bench/train_verifier.py --index index   (about a minute on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flips import FLIPS
from make_adversarial import DATA, corpus, prose
from sklearn.linear_model import LogisticRegression

from newsqa.entail import FEATURES, WEIGHTS, features
from newsqa.store import Reader

SEED = 7
SENTENCES = 2500  # training sentences; more changed no tune figure in trials
REGULARIZATION = 1.0  # sklearn's C
_SYNONYMS = [("said", "stated"), ("announced", "said"), ("about", "around"), ("more than", "over"),
             ("began", "started"), ("after", "following"), ("people", "persons"), ("big", "large"),
             ("help", "assist"), ("buy", "purchase"), ("show", "indicate"), ("use", "employ"),
             ("government", "administration"), ("company", "firm"), ("also", "additionally"),
             ("however", "though"), ("many", "numerous"), ("try", "attempt"), ("need", "require"),
             ("important", "significant"), ("country", "nation"), ("told", "informed"), ("city", "town")]


def drop_attribution(s: str, rng: random.Random) -> str | None:
    out = re.sub(r",[\"”]? (?:he|she|they|[A-Z][\w.]*(?: [A-Z][\w.]*)*) (?:said|says|added|stressed)\.$", ".", s)
    out = re.sub(r"^According to [^,]{1,60}, (\w)", lambda m: m.group(1).upper(), out)
    return out if out != s else None


def first_clause(s: str, rng: random.Random) -> str | None:
    return _cut(s, r"^(\S+(?: \S+){5,}?),\s")


def move_leading(s: str, rng: random.Random) -> str | None:
    m = re.match(r"^((?:In|On|At|By|During|Since|Last|This|Earlier|Later) [^,]{2,40}), (\w)(.*)\.$", s)
    if not m:
        return None
    return f"{m.group(2).upper()}{m.group(3)} {m.group(1)[0].lower()}{m.group(1)[1:]}."


def reported_first(s: str, rng: random.Random) -> str | None:
    m = re.match(r"^(.{20,}?),[\"”]? ((?:[A-Z][\w.]*(?: [A-Z][\w.]*)*|he|she|they|officials|police) "
                 r"(?:said|says|added))\.$", s)
    if not m:
        return None
    who = m.group(2)
    return f"{who[0].upper()}{who[1:]} that {m.group(1)[0].lower()}{m.group(1)[1:]}."


def synonyms(s: str, rng: random.Random) -> str | None:
    pairs = [p for p in _SYNONYMS if re.search(rf"\b{p[0]}\b", s)]
    if not pairs:
        return None
    out = s
    for old, new in rng.sample(pairs, min(2, len(pairs))):
        out = re.sub(rf"\b{old}\b", new, out, count=1)
    return out


def drop_tail(s: str, rng: random.Random) -> str | None:
    return _cut(s, r"^(\S+(?: \S+){6,}?) (?:in|on|at|with|for|from|during|over|near) ")


def _cut(s: str, pattern: str) -> str | None:
    """The sentence up to where `pattern`'s first group ends, as a sentence."""
    m = re.search(pattern, s)
    return m.group(1) + "." if m else None


def swap_clauses(s: str, rng: random.Random) -> str | None:
    """"A, B." as "B, A." and "A and B." as "B and A.": the same statements in another order."""
    m = re.match(r"^(.{25,}?)(, and |, | and )(.{25,})\.$", s)
    if not m:
        return None
    second = m.group(3)
    return f"{second[0].upper()}{second[1:]}{m.group(2)}{m.group(1)[0].lower()}{m.group(1)[1:]}."


REWRITES = (drop_attribution, first_clause, move_leading, reported_first, synonyms, drop_tail, swap_clauses)


def training_sentences(sentences: dict[str, list[str]], rng: random.Random) -> list[tuple[str, int]]:
    """The (article id, sentence position) pairs are made from: SENTENCES prose sentences of the articles the
    adversarial set does not use (bench/make_tune_extra.py draws its flips from articles none of these are in)."""
    excluded = {json.loads(line)["article_id"] for line in (DATA / "adversarial_sources.jsonl").open()}
    pool = [(a, i) for a, texts in sentences.items() if a not in excluded and len(texts) >= 5
            for i, t in enumerate(texts) if prose(t)]
    rng.shuffle(pool)
    return pool[:SENTENCES]


def pairs(sentences: dict[str, list[str]], rng: random.Random) -> tuple[list[tuple[str, str]], list[int]]:
    articles = list(sentences)
    out: list[tuple[str, str]] = []
    labels: list[int] = []
    for article, i in training_sentences(sentences, rng):
        support, others = sentences[article][i], sentences[article]
        made = [(rewrite(support, rng), 1) for rewrite in (lambda s, r: s, *REWRITES)]
        made += [(flip(support, others, rng), 0) for flip in FLIPS.values()]
        made.append((rng.choice(others), 0) if others[0] != support else (None, 0))
        stranger = sentences[rng.choice(articles)]
        made.append((rng.choice(stranger) if stranger else None, 0))
        for claim, label in made:
            if claim and (claim != support or label == 1):
                out.append((support, claim))
                labels.append(label)
    return out, labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default="index")
    args = parser.parse_args()
    rng = random.Random(SEED)
    made, labels = pairs(corpus(Reader(Path(args.index))), rng)
    x = np.array([features(s, c) for s, c in made])
    y = np.array(labels)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(C=REGULARIZATION, class_weight="balanced", max_iter=2000)
    model.fit((x - mean) / scale, y)
    accuracy = model.score((x - mean) / scale, y)
    WEIGHTS.write_text(json.dumps({
        "features": list(FEATURES), "weights": [round(float(w), 5) for w in model.coef_[0]],
        "bias": round(float(model.intercept_[0]), 5), "mean": [round(float(m), 5) for m in mean],
        "scale": [round(float(s), 5) for s in scale],
        "trained_on": f"{len(y)} pairs ({int(y.sum())} entailed) from {SENTENCES} sentences, seed {SEED}",
    }, indent=1) + "\n", encoding="utf-8")
    print(f"{len(y)} pairs, {int(y.sum())} entailed; training accuracy {accuracy:.3f}")
    for name, weight in sorted(zip(FEATURES, model.coef_[0]), key=lambda p: -abs(p[1])):
        print(f"  {name:20s} {weight:+.3f}")
    print(f"written to {WEIGHTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
