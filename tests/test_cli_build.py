"""`newsqa build`, `newsqa info` and `newsqa remove`, run as real processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from newsqa.config import Settings
from newsqa.store import Writer

ARTICLES = Path(__file__).resolve().parent / "data" / "store" / "articles"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
ENV.pop("NEWSQA_INDEX", None)


def newsqa(*args: object, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsqa.cli", *map(str, args)], cwd=cwd, env=env or ENV,
                          capture_output=True, text=True, timeout=180)


def manifest(index: Path) -> dict:
    return json.loads((index / "manifest.json").read_text(encoding="utf-8"))


def query(index: Path, sql: str, *params: object) -> list[tuple]:
    path = index / manifest(index)["files"]["database"]
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


def corpus_size() -> tuple[int, int]:
    """(files, articles) in the test corpus: one article per text file, one per JSONL line."""
    files = sorted(ARTICLES.iterdir())
    lines = sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files if f.suffix == ".jsonl")
    return len(files), lines + sum(f.suffix != ".jsonl" for f in files)


@pytest.fixture(scope="module")
def cli_built(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """`newsqa build` over the test corpus and one unreadable file, run once; tests that change the index copy it."""
    root = tmp_path_factory.mktemp("cli")
    corpus = Path(shutil.copytree(ARTICLES, root / "articles"))
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4\n")
    result = newsqa("build", corpus, "--index", root / "index", cwd=root)
    return SimpleNamespace(root=root, corpus=corpus, index=root / "index", result=result)


def copy_of(cli_built: SimpleNamespace, tmp_path: Path) -> tuple[Path, Path]:
    corpus = Path(shutil.copytree(cli_built.corpus, tmp_path / "articles"))
    return corpus, Path(shutil.copytree(cli_built.index, tmp_path / "index"))


# ---------------------------------------------------------------- build


def test_build_creates_the_index_and_prints_a_summary(cli_built: SimpleNamespace) -> None:
    result, index = cli_built.result, cli_built.index
    assert result.returncode == 0, result.stderr  # one file could not be read, but the others could
    files, articles = corpus_size()
    chunks = query(index, "SELECT COUNT(*) FROM chunks")[0][0]
    out = result.stdout
    assert re.search(rf"read {articles} articles from {files} files: {articles} added, 0 updated, 0 unchanged, "
                     r"0 duplicates skipped, 0 removed, 1 skipped", out), out
    assert re.search(r"skipped .*scan\.pdf: unsupported file type", out), out
    speed = re.search(r"embedded (\d+) chunks in ([\d.]+) s \(([\d.]+) chunks/s\)", out)
    assert speed and int(speed[1]) == chunks and float(speed[3]) > 0, out
    assert f"index now holds {articles} articles in {chunks} chunks" in out
    assert "Embedding" in result.stderr  # the progress bar
    m = manifest(index)
    assert m["counts"]["articles"] == articles and m["faiss"]["vectors"] == chunks
    assert (index / m["files"]["database"]).is_file() and (index / m["files"]["vectors"]).is_file()


def test_build_with_nothing_readable_exits_1(tmp_path: Path) -> None:
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    result = newsqa("build", tmp_path / "scan.pdf", tmp_path / "empty.txt", tmp_path / "missing.jsonl",
                    "--index", tmp_path / "index", "--quiet", "--json", cwd=tmp_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "no article could be read" in result.stderr
    report = json.loads(result.stdout)
    assert (report["read"], report["added"], report["chunks"], report["skipped"]) == (0, 0, 0, 3)
    for name, reason in [("scan.pdf", "unsupported"), ("empty.txt", "empty"), ("missing.jsonl", "no such file")]:
        assert any(name in p and reason in p for p in report["problems"]), (name, report["problems"])
    info = newsqa("info", "--index", tmp_path / "index", "--json", cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert (json.loads(info.stdout)["articles"], json.loads(info.stdout)["chunks"]) == (0, 0)


def test_build_while_another_writer_holds_the_lock_exits_1(cli_built: SimpleNamespace, tmp_path: Path) -> None:
    corpus, index = copy_of(cli_built, tmp_path)
    (corpus / "extra.txt").write_text("Snow closed the mountain pass on Friday.\n", encoding="utf-8")
    before = manifest(index)
    with Writer.begin(index, before["model"], Settings.from_dict(before["settings"])):
        result = newsqa("build", corpus, "--index", index, "--quiet", cwd=tmp_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "index is locked" in result.stderr and str(index) in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(index) == before


def test_build_with_another_model_exits_1(cli_built: SimpleNamespace, tmp_path: Path) -> None:
    corpus, index = copy_of(cli_built, tmp_path)
    before = manifest(index)
    result = newsqa("build", corpus, "--index", index, "--model", "other-model", "--quiet", cwd=tmp_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "other-model" in result.stderr and "--model all-MiniLM-L6-v2" in result.stderr
    assert "Traceback" not in result.stderr
    assert manifest(index) == before


# ---------------------------------------------------------------- info


def test_info_prints_counts_dates_model_and_size(cli_built: SimpleNamespace) -> None:
    index = cli_built.index
    result = newsqa("info", "--index", index, cwd=cli_built.root)
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(None, 1) for line in result.stdout.splitlines() if line.strip())
    (articles, sources, first, last), = query(
        index, "SELECT COUNT(*), COUNT(DISTINCT source), MIN(published), MAX(published) FROM articles")
    chunks = query(index, "SELECT COUNT(*) FROM chunks")[0][0]
    assert (int(fields["articles"]), int(fields["chunks"]), int(fields["sources"])) == (articles, chunks, sources)
    assert fields["dates"] == f"{first} to {last}"
    assert fields["model"].startswith("all-MiniLM-L6-v2 (384-d")
    size = sum((index / name).stat().st_size for name in [*manifest(index)["files"].values(), "manifest.json"])
    assert fields["size"] == f"{size / 1e6:.1f} MB"


def test_info_json_is_one_object_with_integer_counts(cli_built: SimpleNamespace) -> None:
    result = newsqa("info", "--index", cli_built.index, "--json", cwd=cli_built.root)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert isinstance(info, dict)
    for key in ("articles", "chunks"):
        assert type(info[key]) is int
    assert info["articles"] == corpus_size()[1]
    assert info["chunks"] == query(cli_built.index, "SELECT COUNT(*) FROM chunks")[0][0]
    assert info["model"] == "all-MiniLM-L6-v2" and info["bytes"] > 0


def test_info_json_gives_each_outlets_counts_and_dates_and_the_articles_per_week(cli_built: SimpleNamespace) -> None:
    info = json.loads(newsqa("info", "--index", cli_built.index, "--json", cwd=cli_built.root).stdout)
    expected = [{"outlet": source, "articles": n, "oldest": first or "", "newest": last or ""}
                for source, n, first, last in query(
                    cli_built.index, "SELECT source, COUNT(*), MIN(NULLIF(published, '')), MAX(NULLIF(published, '')) "
                    "FROM articles GROUP BY source ORDER BY COUNT(*) DESC, source")]
    assert info["outlets"] == expected and sum(o["articles"] for o in info["outlets"]) == info["articles"]
    assert [info["oldest"], info["newest"]] == info["date_range"]
    dated = query(cli_built.index, "SELECT published FROM articles WHERE published != ''")
    assert sum(w["articles"] for w in info["weeks"]) == len(dated)
    for week in info["weeks"]:  # each week starts on a Monday, and holds the articles of its seven days
        monday = dt.date.fromisoformat(week["week"])
        assert monday.weekday() == 0
        days = {str(monday + dt.timedelta(days=d)) for d in range(7)}
        assert week["articles"] == sum(published in days for (published,) in dated)


def test_info_reads_the_index_from_NEWSQA_INDEX(cli_built: SimpleNamespace, tmp_path: Path) -> None:
    result = newsqa("info", "--json", cwd=tmp_path, env={**ENV, "NEWSQA_INDEX": str(cli_built.index)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["articles"] == corpus_size()[1]


def test_info_without_an_index_says_how_to_build_one(tmp_path: Path) -> None:
    result = newsqa("info", "--index", tmp_path / "nowhere", cwd=tmp_path)
    assert result.returncode == 1
    assert "no newsqa index" in result.stderr and "newsqa build" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_info_on_a_newer_format_says_to_upgrade(cli_built: SimpleNamespace, tmp_path: Path) -> None:
    _, index = copy_of(cli_built, tmp_path)
    m = manifest(index)
    m["format"] = 999
    (index / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    result = newsqa("info", "--index", index, "--json", cwd=tmp_path)
    assert result.returncode == 1
    assert "999" in result.stderr and "upgrade" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- remove


def test_remove_deletes_articles_and_their_vectors(cli_built: SimpleNamespace, tmp_path: Path) -> None:
    _, index = copy_of(cli_built, tmp_path)
    before = manifest(index)
    gone = query(index, "SELECT COUNT(*) FROM chunks WHERE article_id IN ('wire-chips', 'council-budget-2024')")[0][0]
    assert query(index, "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'Veltron'")
    result = newsqa("remove", "wire-chips", "council-budget-2024", "--index", index, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    articles = corpus_size()[1] - 2
    assert f"removed 2 of 2 articles; index now holds {articles} articles" in result.stdout
    after = manifest(index)
    assert after["counts"]["articles"] == articles
    assert after["faiss"]["vectors"] == after["counts"]["chunks"] == before["counts"]["chunks"] - gone
    assert query(index, "SELECT id FROM articles WHERE id IN ('wire-chips', 'council-budget-2024')") == []
    assert query(index, "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'Veltron'") == []
