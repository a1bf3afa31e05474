"""scripts/train_answerer.py trains the extractive answerer's models end to end on a small real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsqa.answer.features import QUESTION, SENTENCE_CHEAP, SENTENCE_FULL, AnswerModels

from conftest import DATA, ROOT

QUESTIONS = DATA / "train-questions.jsonl"


def train(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "train_answerer.py"), *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_training_writes_models_that_load_and_name_their_features(small_index: Path, tmp_path: Path) -> None:
    out = tmp_path / "answerer.json"
    done = train("--index", str(small_index), "--questions", str(QUESTIONS), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    models = AnswerModels.load(out)
    assert models.cheap.features == SENTENCE_CHEAP and models.sentence.features == SENTENCE_FULL
    assert models.answerable.features == QUESTION
    assert 0.0 <= models.threshold <= 1.0
    assert models.trained["split"] == "tune" and models.trained["questions"] == 9  # r10 is test: never read
    assert models.trained["positives"] > 0  # the key facts were found in their sentences
    assert any(abs(w) > 0 for w in models.sentence.weights)


def test_training_on_the_test_split_is_refused(small_index: Path, tmp_path: Path) -> None:
    done = train("--index", str(small_index), "--questions", str(QUESTIONS), "--split", "test",
                 "--out", str(tmp_path / "x.json"))
    assert done.returncode == 2 and "train on tune" in done.stderr
    assert not (tmp_path / "x.json").exists()


def test_a_model_file_for_other_features_fails_with_the_command_to_retrain(tmp_path: Path) -> None:
    data = json.loads((ROOT / "src" / "newsqa" / "data" / "answerer.json").read_text())
    data["sentence"]["features"] = data["sentence"]["features"][:-1]
    stale = tmp_path / "answerer.json"
    stale.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="retrain with scripts/train_answerer.py"):
        AnswerModels.load(stale)
