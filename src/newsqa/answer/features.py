"""What the extractive answerer knows about a candidate sentence and a question, as numbers, and the
small learned models that turn them into a choice.

Two logistic models, trained by `scripts/train_answerer.py` on the dev set's `tune` split and
stored in `data/answerer.json` (a few hundred bytes of weights):

- `sentence`: the chance that a sentence holds the answer. Cheap features (words, ranks, the kind
  of answer the question asks for and whether the sentence holds such a thing *not already in the
  question*) shortlist the candidates; the full model adds meaning (embedding cosine).
- `answerable`: the chance that the question is answered at all, from the best sentence's chance
  and how much of the question's focus (its rare terms, its names) the evidence covers.

Features are plain floats in [0, 1] (or near it) with fixed names; a model file names the
features it was trained on, so a stale file fails loudly instead of scoring nonsense.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..lexical import term_set
from ..question import CALENDAR_WORDS, names

MODEL_FILE = Path(__file__).resolve().parent.parent / "data" / "answerer.json"

_NUMBER = re.compile(r"(?<![\w.,])\d[\d,.]*(?!\w)")
# Words that date a thing: months, weekdays, "yesterday", a year. The "when" cue adds "today" and "tonight".
DATE_WORDS = (r"january|february|march|april|may|june|july|august|september|october|november|december|"
              r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|(19|20)\d\d")
_DATE_WORD = re.compile(rf"\b({DATE_WORDS})\b", re.I)
_PLACE = re.compile(r"\b(?:in|at|from|near|outside|into)\s+(?:the\s+)?([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)")
_POSITION_SCALE = math.log(50)  # sentence positions past ~50 are all "deep in the article"
_LENGTH_SCALE = 60  # words; longer sentences are rare and score as 60
_NEW_NAMES_CAP = 3

SENTENCE_CHEAP = (
    "lexical", "own_lexical", "article_lexical", "prev_lexical", "next_lexical", "anchor_near", "hit_rank",
    "article_rank", "cue_strong", "cue_weak", "form", "typed_new", "new_names", "new_number", "lead", "position",
    "length", "coverage", "why_how", "entity", "restate_why_how", "restate_entity", "restate_other", "near_why_how",
    "cue_why_how",
)
SENTENCE_FULL = (*SENTENCE_CHEAP, "meaning", "article_meaning", "meaning_gap")
QUESTION = (
    "p_best", "p_second", "meaning_best", "coverage", "focus_local", "focus_article", "rarest_missing",
    "typed", "best_form", "top_dense",
)


def new_names(question_terms: set[str], sentence: str) -> list[str]:
    """Names and numbers of the sentence that the question does not use: what it adds."""
    return [n for n in names(sentence) if not term_set(n) <= question_terms]


def new_proper_names(question_terms: set[str], sentence: str) -> list[str]:
    """The sentence's capitalized names that the question does not use, less months and weekdays."""
    return [n for n in new_names(question_terms, sentence) if n[:1].isupper() and n.lower() not in CALENDAR_WORDS]


def new_names_feature(question_terms: set[str], sentence: str) -> float:
    return min(len(new_names(question_terms, sentence)), _NEW_NAMES_CAP) / _NEW_NAMES_CAP


def typed_new(kind: str, question_terms: set[str], sentence: str, cue_strong: bool) -> bool:
    """Whether the sentence holds a thing of the kind asked for that is not in the question: a new
    name for "who", a new place for "where", a new number for "how many", a new date for "when",
    a stated reason or manner for "why" / "how"."""
    if kind == "who":
        return any(n[:1].isupper() for n in new_names(question_terms, sentence))
    if kind == "where":
        return any(not term_set(p) <= question_terms for p in _PLACE.findall(sentence))
    if kind == "number":
        return has_new_number(question_terms, sentence)
    if kind == "when":
        return any(not term_set(d.group(0)) <= question_terms for d in _DATE_WORD.finditer(sentence))
    if kind in ("why", "how"):
        return cue_strong
    return bool(new_names(question_terms, sentence))


def has_new_number(question_terms: set[str], sentence: str) -> bool:
    return any(not term_set(n) <= question_terms for n in _NUMBER.findall(sentence))


def restatement(question_terms: set[str], sentence_terms: set[str]) -> float:
    """Share of the sentence's terms that the question already has: 1.0 restates it, 0.0 is all new."""
    return len(sentence_terms & question_terms) / len(sentence_terms) if sentence_terms else 1.0


def position_feature(position: int) -> float:
    return min(1.0, math.log1p(position) / _POSITION_SCALE)


def length_feature(sentence: str) -> float:
    return min(len(sentence.split()), _LENGTH_SCALE) / _LENGTH_SCALE


@dataclass(frozen=True)
class LogisticModel:
    """A logistic regression over named features: standardise, weigh, squash."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def probability(self, rows: np.ndarray) -> np.ndarray:
        z = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "weights": self.weights.round(6).tolist(),
                "bias": round(float(self.bias), 6)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], expected: tuple[str, ...], where: str) -> LogisticModel:
        if tuple(data.get("features", ())) != expected:
            raise ValueError(f"{where}: trained on features {data.get('features')}, this newsqa computes "
                             f"{list(expected)}; retrain with scripts/train_answerer.py")
        return cls(expected, np.asarray(data["mean"], dtype=np.float64), np.asarray(data["scale"], dtype=np.float64),
                   np.asarray(data["weights"], dtype=np.float64), float(data["bias"]))


@dataclass(frozen=True)
class AnswerModels:
    """The three models of `data/answerer.json` and the answerable threshold chosen on `tune`."""

    cheap: LogisticModel
    sentence: LogisticModel
    answerable: LogisticModel
    threshold: float  # abstain when the answerable chance is below this
    trained: dict[str, Any]  # how: split, questions, figures measured on tune

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerModels:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"no answer model at {path}; train one with scripts/train_answerer.py") from None
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read the answer model ({exc}); retrain with "
                             "scripts/train_answerer.py") from None
        where = str(path)
        return cls(LogisticModel.from_dict(data["cheap"], SENTENCE_CHEAP, where),
                   LogisticModel.from_dict(data["sentence"], SENTENCE_FULL, where),
                   LogisticModel.from_dict(data["answerable"], QUESTION, where),
                   float(data["threshold"]), dict(data.get("trained", {})))

    def save(self, path: Path = MODEL_FILE) -> None:
        data = {"cheap": self.cheap.to_dict(), "sentence": self.sentence.to_dict(),
                "answerable": self.answerable.to_dict(), "threshold": round(self.threshold, 4),
                "trained": self.trained}
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
