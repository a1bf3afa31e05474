"""Each benchmark script runs end to end on a tiny slice, so the scripts cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import DATA, ROOT

QUESTIONS = DATA / "questions.jsonl"


def run(script: str, *args: str, results: Path) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NEWSQA_BENCH_RESULTS": str(results)}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_answers_benchmark(small_index: Path, tmp_path: Path) -> None:
    out = run("answers.py", "--index", str(small_index), "--questions", str(QUESTIONS), results=tmp_path)
    assert "| quote_validity | 1.000 |" in out
    assert "| fact_recall |" in out and "| abstention_recall |" in out
    assert (tmp_path / "answers.md").read_text().count("|") > 20


def test_query_speed(small_index: Path, tmp_path: Path) -> None:
    out = run("speed.py", "query", "--index", str(small_index), "--questions", str(QUESTIONS), "--rounds", "1",
              results=tmp_path)
    assert "| search | 3 |" in out and "| ask | 3 |" in out


def test_app_start_to_first_answer(small_index: Path, tmp_path: Path) -> None:
    out = run("speed.py", "app", "--index", str(small_index), results=tmp_path)
    up, first = (float(line.split("|")[2]) for line in out.splitlines() if line.startswith(("| chat up", "| first")))
    assert 0 < up <= first


def test_build_speed_and_fidelity(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    out = run("speed.py", "build", "--small", "--limit", "15", "--every", "4", "--index", str(index), results=tmp_path)
    assert "newsqa build vs bare torch encode:" in out and "| of which embedding |" in out
    out = run("fidelity.py", "--index", str(index), "--reference", str(tmp_path / "none"), results=tmp_path)
    assert "cosine" in out.lower() and (tmp_path / "fidelity-onnx-int8.md").exists()


def test_load(small_index: Path, tmp_path: Path) -> None:
    out = run("load.py", "--index", str(small_index), "--users", "4", "--questions-per-user", "2", results=tmp_path)
    assert "| 8/8 | 0 |" in out


def test_retrieval_benchmark_on_news100(news100_index: Path, tmp_path: Path) -> None:
    out = run("retrieval.py", "--index", str(news100_index), "--corpus", "News100", "--sample", "20",
              "--systems", "newsqa,bm25,minilm", results=tmp_path)
    rows = [line for line in out.splitlines() if line.startswith("| ") and "(20)" in line]
    assert len(rows) == 6  # three systems x titles and subtitles
    recall5 = {(r.split("|")[1].strip(), r.split("|")[2].split()[0]): float(r.split("|")[4]) for r in rows}
    assert all(0.0 <= v <= 1.0 for v in recall5.values())
    assert recall5[("newsqa", "title")] >= 0.5  # titles find their own article among 100


def test_scale_benchmark(tmp_path: Path) -> None:
    out = run("scale.py", "--index", str(ROOT / "index"), "--small", results=tmp_path)
    rows = [line for line in out.splitlines() if line.startswith("| 5,000 |") and line.count("|") == 10]
    kinds = {row.split("|")[2].strip() for row in rows}
    assert {"IDMap2,Flat", "IDMap2,SQfp16", "IVF64,Flat", "IVF64,SQfp16", "IVF64,SQ8", "IDMap2,HNSW32,Flat"} <= kinds
    assert all(float(row.split("|")[9]) >= 0.95 for row in rows if "exact" in row or "nprobe" in row)
    assert (tmp_path / "scale.md").read_text().count("| 5,000 |") >= 6


def test_generative_replay_and_calibration(small_index: Path, tmp_path: Path) -> None:
    out = run("generative.py", "--index", str(small_index), "--questions", str(QUESTIONS), results=tmp_path)
    assert "| **unsupported caught** |" in out and "| **supported wrongly removed** |" in out
    assert "| invented (unsupported) | 3 | 3 | 1.000 |" in out  # one invented sentence a question, all caught
    assert (tmp_path / "generative.md").exists()
    out = run("generative.py", "--calibrate", "--index", str(small_index), "--questions", str(QUESTIONS),
              results=tmp_path)
    assert "Recommended support_threshold:" in out and (tmp_path / "generative-calibration.md").exists()


def test_feeds_benchmark(tmp_path: Path) -> None:
    out = run("feeds.py", "--articles", "3", "--delay", "0", results=tmp_path)
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in out.splitlines() if line.startswith("| ") and not line.startswith("| run")}
    assert rows["unchanged"][1:] == ["2", "1", "0", "0", "0"]  # robots.txt and the feed's 304; nothing embedded
    assert rows["one new entry"][2:5] == ["3", "1", "0"] and rows["one page changed"][3:5] == ["0", "1"]
    assert (tmp_path / "feeds.md").exists()
