"""scripts/devset.py: validate, split and merge answer dev sets, run as a real process over real indexes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "devset.py"
QUAKE = "At least 120 people were killed, according to the civil protection agency, and the toll was expected to rise."
GOOD = {"id": "a001", "question": "What was the death toll of the Italian quake?", "type": "factoid",
        "answerable": True, "gold": ["italy-quake"], "facts": ["120"], "evidence": [QUAKE], "history": [],
        "kind": "", "split": ""}
UNANSWERABLE = {**GOOD, "id": "c001", "type": "unanswerable", "answerable": False, "gold": [], "facts": [],
                "evidence": [], "kind": "off-topic"}


def devset(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_the_committed_dev_sets_are_valid_against_the_demo_index() -> None:
    result = devset("validate", *sorted((ROOT / "src" / "newsqa" / "data").glob("*.jsonl")), "--index",
                    ROOT / "index")
    assert result.returncode == 0, result.stdout
    assert "0 errors" in result.stderr


def test_valid_rows_pass(small_index: Path, tmp_path: Path) -> None:
    result = devset("validate", write(tmp_path / "a.jsonl", [GOOD, UNANSWERABLE]), "--index", small_index)
    assert result.returncode == 0, result.stdout
    assert result.stdout == "" and "2 rows (factoid 1, unanswerable 1); 0 errors, 0 warnings" in result.stderr


@pytest.mark.parametrize(("change", "message"), [
    ({"facts": ["20"]}, "fact '20' is not verbatim, as whole words, in a gold article"),
    ({"facts": ["120 People"]}, "is not verbatim"),  # facts keep the article's characters
    ({"evidence": [QUAKE.replace("120", "12")]}, "evidence is not verbatim in a gold article"),
    ({"gold": ["no-such-article"]}, "gold article 'no-such-article' is not in the index"),
    ({"question": "How many people were killed, according to officials?"},
     "copies 4 consecutive words from its evidence: 'people were killed according'"),
    ({"type": "follow-up"}, "a follow-up needs its 'history'"),
    ({"type": "follow-up", "history": [{"role": "assistant", "content": "Hi"}]}, "expected 'user'"),
    ({"history": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
     "only a follow-up has a 'history'"),
    ({"type": "two-article"}, "a two-article row lists two gold articles"),
    ({"type": "why"}, "type 'why' is not one of"),
    ({"facts": []}, "1-3 facts"),
    ({"split": "train"}, "split 'train' is not one of"),
    ({"kind": "off-topic"}, "'kind' is for unanswerable rows only"),
    ({"evidence": "a sentence"}, "'evidence' must be a list"),
    ({"note": "fine", "extra": 1}, "unknown keys ['extra']"),
])
def test_a_bad_row_is_an_error_naming_file_line_and_problem(small_index: Path, tmp_path: Path, change: dict,
                                                             message: str) -> None:
    path = write(tmp_path / "a.jsonl", [UNANSWERABLE, {**GOOD, **change}])
    result = devset("validate", path, "--index", small_index)
    assert result.returncode == 1
    assert f"{path}:2: a001: " in result.stdout and message in result.stdout, result.stdout


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "unknown"}, "kind 'unknown' is not one of off-topic, missing-detail, after-corpus"),
    ({"facts": ["120"]}, "an unanswerable row needs an empty 'facts'"),
    ({"answerable": True}, "needs \"answerable\": false"),
])
def test_an_unanswerable_row_has_a_kind_and_nothing_to_find(small_index: Path, tmp_path: Path, change: dict,
                                                            message: str) -> None:
    result = devset("validate", write(tmp_path / "c.jsonl", [{**UNANSWERABLE, **change}]), "--index", small_index)
    assert result.returncode == 1 and message in result.stdout, result.stdout


def test_repeated_ids_and_broken_lines_are_errors_across_files(small_index: Path, tmp_path: Path) -> None:
    first = write(tmp_path / "a.jsonl", [GOOD])
    second = tmp_path / "b.jsonl"
    second.write_text(json.dumps(GOOD) + "\n{not json\n", encoding="utf-8")
    result = devset("validate", first, second, "--index", small_index)
    assert result.returncode == 1
    assert f"{second}:1: id 'a001' already used at {first}:1" in result.stdout
    assert f"{second}:2: not JSON" in result.stdout


def test_copying_in_an_old_row_is_only_a_warning(small_index: Path, tmp_path: Path) -> None:
    old = {**GOOD, "id": "q01", "question": "How many people were killed according to the agency?"}
    result = devset("validate", write(tmp_path / "old.jsonl", [old]), "--index", small_index)
    assert result.returncode == 0
    assert "q01: warning: the question copies 4 consecutive words" in result.stdout and "1 warnings" in result.stderr


def _rows(kind: str, prefix: str, n: int, split: str = "") -> list[dict]:
    return [{**GOOD, "id": f"{prefix}{i:03d}", "type": kind, "split": split} for i in range(n)]


def test_split_keeps_old_rows_in_tune_and_brings_each_type_near_60_percent(tmp_path: Path) -> None:
    old = [{**row, "id": f"q{i:02d}"} for i, row in enumerate(_rows("factoid", "", 20))]
    rows = old + _rows("factoid", "a", 30) + _rows("why-how", "a9", 10) + _rows("outlet", "c", 5, split="test")
    path = write(tmp_path / "devset.jsonl", rows)
    result = devset("split", path, "--seed", "0")
    assert result.returncode == 0, result.stderr
    done = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["id"] for r in done] == [r["id"] for r in rows]  # order and rows kept
    counts = Counter((r["type"], r["split"]) for r in done)
    assert counts == {("factoid", "tune"): 30, ("factoid", "test"): 20, ("why-how", "tune"): 6,
                      ("why-how", "test"): 4, ("outlet", "test"): 5}  # a row with a split keeps it
    assert all(r["split"] == "tune" for r in done if r["id"].startswith("q"))
    again = write(tmp_path / "again.jsonl", rows)
    devset("split", again, "--seed", "0")
    assert again.read_text() == path.read_text()  # deterministic
    other = write(tmp_path / "other.jsonl", rows)
    devset("split", other, "--seed", "1")
    assert other.read_text() != path.read_text()  # the seed picks which rows


def test_merge_concatenates_and_refuses_a_repeated_id(tmp_path: Path) -> None:
    first, second = write(tmp_path / "a.jsonl", [GOOD]), write(tmp_path / "c.jsonl", [UNANSWERABLE])
    out = tmp_path / "all.jsonl"
    assert devset("merge", out, first, second).returncode == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a001", "c001"]
    result = devset("merge", out, first, first)
    assert result.returncode == 1 and "id 'a001' already used at" in result.stderr
