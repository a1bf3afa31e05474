"""The index on disk: layout, incremental builds, removal, locking, crash safety and compatibility."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

from newsqa import Article, IndexIncompatible, IndexLocked, IndexNotFound, NewsQA, Settings
from newsqa.chunking import split_sentences
from newsqa.retrieve import Filters
from newsqa.store import FORMAT, Writer

ARTICLES = Path(__file__).resolve().parent / "data" / "store" / "articles"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
HARBOUR = "2024-03-04-harbour-floods.txt"


# ---------------------------------------------------------------- helpers


def manifest(index: Path) -> dict:
    return json.loads((index / "manifest.json").read_text(encoding="utf-8"))


def database(index: Path) -> sqlite3.Connection:
    """The current generation's database, read-only."""
    path = index / manifest(index)["files"]["database"]
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)


def chunk_ids(index: Path) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {}
    with database(index) as db:
        for article_id, chunk_id in db.execute("SELECT article_id, id FROM chunks ORDER BY id"):
            ids.setdefault(article_id, []).append(chunk_id)
    return ids


def faiss_ids(qa: NewsQA) -> set[int]:
    return set(faiss.vector_to_array(qa.reader.vectors.id_map).tolist())


def keyword_articles(index: Path, word: str) -> set[str]:
    """Articles the FTS5 index matches for `word`."""
    with database(index) as db:
        rows = db.execute("SELECT a.id FROM articles_fts f JOIN articles a ON a.n = f.rowid "
                          "WHERE articles_fts MATCH ?", (word,))
        return {r[0] for r in rows}


def generation_files(index: Path) -> set[str]:
    return {p.name for p in index.iterdir() if p.suffix in (".sqlite", ".faiss") or p.name.endswith(".tmp")}


def nearest_article(qa: NewsQA, embedder, sentence: str) -> str:
    _, ids = qa.reader.vectors.search(embedder.encode([sentence]), 1)
    with database(qa.index_dir) as db:
        return db.execute("SELECT article_id FROM chunks WHERE id = ?", (int(ids[0][0]),)).fetchone()[0]


def article_id_of(index: Path, title: str) -> str:
    with database(index) as db:
        return db.execute("SELECT id FROM articles WHERE title = ?", (title,)).fetchone()[0]


def wire_records(corpus: Path) -> list[dict]:
    return [json.loads(line) for line in (corpus / "wire.jsonl").read_text(encoding="utf-8").splitlines()]


def write_wire(corpus: Path, records: list[dict]) -> None:
    (corpus / "wire.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def corpus_size() -> tuple[int, int]:
    """(files, articles) in the test corpus: one article per text file, one per JSONL line."""
    files = sorted(ARTICLES.iterdir())
    records = sum(len(wire_records(ARTICLES)) if f.suffix == ".jsonl" else 1 for f in files)
    return len(files), records


STREETS = ["Mill Lane", "Harbour Road", "Castle Street", "Station Hill", "Bridge Row", "Orchard Way"]
TOWNS = ["Dunmore", "Kelby", "Ashford", "Brennan", "Lowick", "Tarrow", "Elsworth", "Penmarr"]


def generated_articles(folder: Path, files: int, paragraphs: int, seed: int = 7) -> None:
    """Distinct local-news articles, enough text that embedding them takes seconds."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        town = rng.choice(TOWNS)
        body = []
        for p in range(paragraphs):
            n = f * 1000 + p
            body.append(
                f"Residents of {rng.choice(STREETS)} in {town} met on day {n} to discuss plans for "
                f"{rng.randint(10, 900)} new homes on the former {rng.choice(['gasworks', 'dairy', 'rail yard'])} site. "
                f"The developer said {rng.randint(5, 60)} percent would be affordable, but neighbours worried "
                f"about traffic, school places and the loss of {rng.randint(2, 40)} mature trees. "
                f"A council planning officer, who asked not to be named, said report number {n} would "
                f"go before the committee in {rng.choice(['May', 'June', 'July', 'September'])}.")
        (folder / f"planning-{f:03d}.txt").write_text(
            f"Planning row over {town} homes, part {f}\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ARTICLES, tmp_path / "articles"))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, embedder) -> NewsQA:
    """The corpus built once; tests get a copy of its directory."""
    folder = tmp_path_factory.mktemp("template")
    return NewsQA.build([shutil.copytree(ARTICLES, folder / "articles")], folder / "index")


@pytest.fixture
def built(template: NewsQA, tmp_path: Path) -> NewsQA:
    return NewsQA.open(shutil.copytree(template.index_dir, tmp_path / "index"))


@pytest.fixture
def fresh(corpus: Path, tmp_path: Path, embedder) -> NewsQA:
    """Built from this test's own copy of the corpus, which the test may then edit."""
    return NewsQA.build([corpus], tmp_path / "index")


# ---------------------------------------------------------------- layout


def test_build_writes_database_vectors_and_manifest(template: NewsQA, embedder) -> None:
    index = template.index_dir
    files, articles = corpus_size()
    m = manifest(index)
    assert m["format"] == FORMAT
    assert m["model"]["name"] == "all-MiniLM-L6-v2"
    assert m["model"]["dimension"] == embedder.dimension
    assert dt.datetime.fromisoformat(m["built_at"]).tzinfo is not None
    assert m["settings"] == Settings().manifest_dict() and "generation" not in m["settings"]
    assert (index / m["files"]["database"]).is_file() and (index / m["files"]["vectors"]).is_file()

    with database(index) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"articles", "chunks", "sentences", "articles_fts"} <= tables
        n_articles = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        n_chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        n_sources = db.execute("SELECT COUNT(DISTINCT source) FROM articles").fetchone()[0]
    assert n_articles == articles
    assert m["counts"] == {"articles": n_articles, "chunks": n_chunks, "sources": n_sources}
    assert m["faiss"]["vectors"] == n_chunks == template.reader.vectors.ntotal
    assert m["faiss"]["type"] == "IDMap2,Flat"  # the default stores float32 vectors
    assert template.reader.vectors.d == embedder.dimension

    report = template.last_report
    assert (report.files, report.read, report.added, report.unchanged) == (files, articles, articles, 0)
    assert report.chunks == n_chunks and report.skipped == 0
    assert report.seconds > 0 and report.chunks_per_second > 0
    assert (report.total_articles, report.total_chunks) == (n_articles, n_chunks)

    info = template.info()
    assert (info["articles"], info["chunks"], info["sources"]) == (n_articles, n_chunks, n_sources)
    assert info["date_range"] == ["2024-02-20", "2024-03-08"]  # council budget .. malaria vaccine
    assert info["bytes"] == sum(p.stat().st_size for p in index.iterdir() if p.name != ".lock")


def test_faiss_ids_are_chunk_ids_holding_their_embeddings(built: NewsQA, embedder) -> None:
    with database(built.index_dir) as db:
        chunks = db.execute("SELECT id, text FROM chunk_texts ORDER BY id").fetchall()
    assert faiss_ids(built) == {cid for cid, _ in chunks}
    expected = embedder.encode([text for _, text in chunks])
    for (cid, _), vector in zip(chunks, expected):
        assert float(np.dot(built.reader.vectors.reconstruct(cid), vector)) > 0.999


def test_keyword_index_matches_chunk_words(built: NewsQA) -> None:
    harbour = article_id_of(built.index_dir, "Storm surge floods Port Ellery harbour")
    assert keyword_articles(built.index_dir, "moorings") == {harbour}
    assert keyword_articles(built.index_dir, "Veltron") == {"wire-chips"}
    assert keyword_articles(built.index_dir, "evacuation") == {harbour, "wire-wildfire"}  # porter stems


def test_sentence_offsets_slice_the_stored_text(built: NewsQA) -> None:
    with database(built.index_dir) as db:
        articles = db.execute("SELECT id, text FROM articles").fetchall()
        assert len(articles) == corpus_size()[1]
        multi_chunk = 0
        for article_id, text in articles:
            spans = db.execute("SELECT start, end FROM sentences WHERE article_id = ? ORDER BY position",
                               (article_id,)).fetchall()
            assert spans == [(s.start, s.end) for s in split_sentences(text)]
            assert [(s.start, s.end) for s in built.reader.sentences(article_id)] == spans
            for start, end in spans:
                sentence = text[start:end]
                assert sentence and sentence == sentence.strip()
            starts, ends = {s for s, _ in spans}, {e for _, e in spans}
            chunks = db.execute("SELECT c.start, c.end, t.text FROM chunks c JOIN chunk_texts t ON t.id = c.id "
                                "WHERE c.article_id = ? ORDER BY c.position", (article_id,)).fetchall()
            multi_chunk += len(chunks) > 1
            for start, end, chunk_text in chunks:
                assert text[start:end] == chunk_text
                assert start in starts and end in ends  # chunks begin and end on sentence boundaries
            covered = {(s, e) for s, e in spans for cs, ce, _ in chunks if cs <= s and e <= ce}
            assert covered == set(spans)  # every sentence is in some chunk
    assert multi_chunk >= 1  # the harbour story is long enough to need two chunks


# ---------------------------------------------------------------- incremental builds


def test_rebuild_of_unchanged_files_embeds_nothing(fresh: NewsQA, corpus: Path) -> None:
    before_ids, before_manifest = chunk_ids(fresh.index_dir), manifest(fresh.index_dir)
    again = NewsQA.build([corpus], fresh.index_dir)
    report = again.last_report
    assert report.read == corpus_size()[1]
    assert (report.added, report.updated, report.removed, report.chunks) == (0, 0, 0, 0)
    assert report.unchanged == report.read
    assert chunk_ids(fresh.index_dir) == before_ids
    assert manifest(fresh.index_dir)["files"] == before_manifest["files"]  # no new generation was written


def test_new_and_changed_files_embed_only_what_changed(fresh: NewsQA, corpus: Path, embedder) -> None:
    index = fresh.index_dir
    before = chunk_ids(index)
    records = wire_records(corpus)
    changed = next(r for r in records if r["id"] == "wire-chips")
    changed["text"] = changed["text"].replace("Amsel", "Korbach").replace("900 jobs", "1,300 jobs")
    write_wire(corpus, records)
    (corpus / "2024-03-09-ferry.txt").write_text(
        "Ferry service resumes after storm\n\nThe island ferry resumed sailings on Saturday after five days "
        "of cancellations. The operator said extra crossings would run until the backlog of lorries cleared.\n",
        encoding="utf-8")

    report = NewsQA.build([corpus], index).last_report
    after = chunk_ids(index)
    ferry = article_id_of(index, "Ferry service resumes after storm")
    assert (report.added, report.updated, report.removed, report.duplicates) == (1, 1, 0, 0)
    assert report.unchanged == corpus_size()[1] - 1
    assert report.chunks == len(after[ferry]) + len(after["wire-chips"])
    for article_id, ids in before.items():
        if article_id != "wire-chips":
            assert after[article_id] == ids  # unchanged articles keep their chunk ids
    assert not set(after["wire-chips"]) & set(before["wire-chips"])  # re-embedded under new ids

    qa = NewsQA.open(index)
    assert faiss_ids(qa) == {i for ids in after.values() for i in ids}
    assert keyword_articles(index, "Amsel") == set()
    assert keyword_articles(index, "Korbach") == {"wire-chips"}
    assert "Korbach" in qa.article("wire-chips").text
    assert nearest_article(qa, embedder, "The island ferry resumed sailings after days of cancellations.") == ferry


def test_changed_text_file_replaces_its_old_article(fresh: NewsQA, corpus: Path) -> None:
    index = fresh.index_dir
    old_id = article_id_of(index, "Storm surge floods Port Ellery harbour")
    old_chunks = chunk_ids(index)[old_id]
    path = corpus / HARBOUR
    path.write_text(path.read_text(encoding="utf-8").replace("broken their moorings", "dragged their anchors"),
                    encoding="utf-8")

    report = NewsQA.build([corpus], index).last_report
    new_id = article_id_of(index, "Storm surge floods Port Ellery harbour")
    assert new_id != old_id  # a text file's id comes from its text
    assert (report.added, report.removed, report.unchanged) == (1, 1, corpus_size()[1] - 1)
    qa = NewsQA.open(index)
    assert qa.article(old_id) is None
    assert qa.info()["articles"] == corpus_size()[1]
    assert keyword_articles(index, "moorings") == set() and keyword_articles(index, "anchors") == {new_id}
    assert not faiss_ids(qa) & set(old_chunks)
    with database(index) as db:
        assert db.execute("SELECT COUNT(*) FROM sentences WHERE article_id = ?", (old_id,)).fetchone()[0] == 0


def test_record_dropped_from_a_file_is_removed(fresh: NewsQA, corpus: Path) -> None:
    index = fresh.index_dir
    gone = chunk_ids(index)["wire-vaccine"]
    vectors_before = fresh.reader.vectors.ntotal
    write_wire(corpus, [r for r in wire_records(corpus) if r["id"] != "wire-vaccine"])
    report = NewsQA.build([corpus], index).last_report
    assert (report.removed, report.chunks, report.added) == (1, 0, 0)
    qa = NewsQA.open(index)
    assert qa.article("wire-vaccine") is None
    assert qa.reader.vectors.ntotal == vectors_before - len(gone)


def test_remove_deletes_articles_chunks_vectors_and_keywords(built: NewsQA, embedder) -> None:
    index = built.index_dir
    before_ids, before_total = chunk_ids(index), built.reader.vectors.ntotal
    removed_chunks = before_ids["wire-chips"] + before_ids["council-budget-2024"]
    assert keyword_articles(index, "Veltron") == {"wire-chips"}

    assert built.remove(["wire-chips", "council-budget-2024", "no-such-article"]) == 2

    qa = NewsQA.open(index)
    assert qa.reader.vectors.ntotal == before_total - len(removed_chunks)
    assert not faiss_ids(qa) & set(removed_chunks)
    assert qa.article("wire-chips") is None and qa.article("council-budget-2024") is None
    assert qa.info()["articles"] == corpus_size()[1] - 2
    assert keyword_articles(index, "Veltron") == set() and keyword_articles(index, "libraries") == set()
    with database(index) as db:
        for table in ("chunks", "sentences"):
            n = db.execute(f"SELECT COUNT(*) FROM {table} WHERE article_id IN ('wire-chips', 'council-budget-2024')")
            assert n.fetchone()[0] == 0
    assert nearest_article(qa, embedder, "Veltron will build a semiconductor packaging plant") != "wire-chips"
    assert qa.remove(["wire-chips"]) == 0


def test_article_objects_made_in_code(tmp_path: Path, corpus: Path, embedder) -> None:
    dam = Article(text="Engineers finished the new flood barrier on the river Tane on Thursday, "
                       "two years behind schedule. The barrier protects about 4,000 homes.",
                  id="tane-barrier", title="Tane flood barrier finished", source="River News",
                  published="March 14, 2024")
    untitled = Article(text="The zoo welcomed twin red panda cubs this week. Keepers said both were healthy.")
    qa = NewsQA.build([dam, untitled], tmp_path / "index")
    assert (qa.last_report.added, qa.info()["articles"]) == (2, 2)
    stored = qa.article("tane-barrier")
    assert (stored.title, stored.source, stored.published) == ("Tane flood barrier finished", "River News",
                                                               "2024-03-14")
    generated = [a.id for a in qa.reader.articles() if a.id != "tane-barrier"]
    assert len(generated) == 1 and generated[0] and qa.article(generated[0]).text == untitled.text

    report = qa.add([corpus, dam])  # paths and articles together; the article is already there
    assert (report.added, report.unchanged) == (corpus_size()[1], 1)
    assert NewsQA.open(tmp_path / "index").info()["articles"] == corpus_size()[1] + 2


# ---------------------------------------------------------------- bad input and duplicates


def test_exact_and_normalized_duplicates_are_counted_and_skipped(tmp_path: Path, embedder) -> None:
    text = ("Police closed the coast road near Brackley after a rock fall on Sunday night. "
            "Nobody was hurt, but the road will stay shut while geologists check the cliff.")
    variant = "  POLICE closed the coast road near Brackley, after a rock-fall on Sunday night!\n\n" \
              "Nobody was hurt; but the road will stay shut while geologists check the cliff "
    other = "The town's last cinema will close in June after 90 years, its owners said on Monday."
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "rock-1", "text": text}, {"id": "rock-2", "text": text},
        {"id": "rock-3", "text": variant}, {"id": "cinema", "text": other}]), encoding="utf-8")
    qa = NewsQA.build([feed], tmp_path / "index")
    report = qa.last_report
    assert (report.read, report.added, report.duplicates, report.skipped) == (4, 2, 2, 0)
    assert {a.id for a in qa.reader.articles()} == {"rock-1", "cinema"}

    files = manifest(qa.index_dir)["files"]
    again = qa.add([Article(text=text.upper(), id="rock-4")])  # a duplicate of a stored article
    assert (again.duplicates, again.added, again.chunks) == (1, 0, 0)
    assert manifest(qa.index_dir)["files"] == files


def test_same_text_under_a_generated_id_is_a_duplicate(tmp_path: Path, embedder) -> None:
    body = ("Voters in Carrick chose a new mayor on Sunday. Turnout was the highest in twenty years, "
            "and the count finished shortly after midnight.")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(f"Carrick elects new mayor\n\n{body}\n", encoding="utf-8")
    (tmp_path / "in" / "b.txt").write_text(f"New mayor for Carrick\n\n{body}\n", encoding="utf-8")
    report = NewsQA.build([tmp_path / "in"], tmp_path / "index").last_report
    assert (report.read, report.added, report.duplicates, report.skipped) == (2, 1, 1, 0), report.problems


def test_bad_inputs_are_skipped_with_reasons(tmp_path: Path, embedder) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("Bridge reopens\n\nThe Old Bridge reopened to traffic on Monday after "
                                     "repairs to its arches.\n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 20)
    (folder / "empty.txt").write_text("   \n\n", encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4\n")
    (folder / "feed.jsonl").write_text(
        json.dumps({"id": "ok", "text": "A new school opened in Varley on Tuesday with 300 pupils."}) + "\n"
        + '{"id": "broken", "text": \n' + json.dumps({"id": "no-text", "body": "words"}) + "\n", encoding="utf-8")
    qa = NewsQA.build([folder], tmp_path / "index")
    report = qa.last_report
    problems = [str(p) for p in report.problems]
    assert report.read == 2 and report.added == 2
    assert report.skipped == len(problems) == 5, problems
    for name, reason in [("binary.txt", "binary"), ("empty.txt", "empty"), ("scan.pdf", "unsupported"),
                         ("feed.jsonl:2", "malformed JSON"), ("feed.jsonl:3", "'text'")]:
        assert any(name in p and reason in p for p in problems), (name, problems)
    assert len({a.id for a in qa.reader.articles()}) == 2 and qa.article("ok") is not None
    assert "skipped" in report.summary() and "scan.pdf" in report.summary()
    assert report.to_dict()["skipped"] == 5


def test_nothing_readable_leaves_the_index_untouched(built: NewsQA, tmp_path: Path) -> None:
    before = manifest(built.index_dir)
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n")
    report = NewsQA.build([tmp_path / "scan.pdf", tmp_path / "missing.txt"], built.index_dir).last_report
    assert (report.read, report.skipped) == (0, 2)
    assert manifest(built.index_dir) == before
    assert generation_files(built.index_dir) == set(before["files"].values())


def test_first_build_with_nothing_readable_makes_an_empty_index(tmp_path: Path, embedder) -> None:
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n")
    qa = NewsQA.build([tmp_path / "scan.pdf"], tmp_path / "index")
    assert (qa.last_report.read, qa.last_report.skipped) == (0, 1)
    info = NewsQA.open(tmp_path / "index").info()
    assert (info["articles"], info["chunks"]) == (0, 0)


# ---------------------------------------------------------------- crash safety


def test_failure_during_embedding_keeps_the_previous_index(built: NewsQA, corpus: Path, tmp_path: Path,
                                                           embedder) -> None:
    index = built.index_dir
    before, before_info = manifest(index), built.info()
    generated_articles(tmp_path / "more", files=2, paragraphs=2)
    calls = []

    def interrupt(done: int, total: int) -> None:
        calls.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        NewsQA.open(index).add([tmp_path / "more"], on_progress=interrupt)
    assert calls  # it died in the middle of embedding
    assert manifest(index) == before
    assert generation_files(index) == set(before["files"].values())  # the half-made generation is gone
    qa = NewsQA.open(index)
    assert {k: qa.info()[k] for k in ("articles", "chunks")} == {k: before_info[k] for k in ("articles", "chunks")}
    assert qa.add([tmp_path / "more"]).added == 2  # and the lock was released


def _read_until(stream, marker: bytes, found: threading.Event, seen: bytearray) -> None:
    while True:
        data = stream.read1(4096)
        if not data:
            return
        seen.extend(data)
        if marker in seen:
            found.set()


def test_kill_9_during_embedding_keeps_the_previous_index(built: NewsQA, corpus: Path, tmp_path: Path,
                                                          embedder) -> None:
    index = built.index_dir
    before, before_info = manifest(index), built.info()
    generated_articles(tmp_path / "big", files=40, paragraphs=10)
    proc = subprocess.Popen([sys.executable, "-m", "newsqa.cli", "build", str(corpus), str(tmp_path / "big"),
                             "--index", str(index)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    found, seen = threading.Event(), bytearray()
    reader = threading.Thread(target=_read_until, args=(proc.stderr, b"Embedding", found, seen), daemon=True)
    reader.start()
    try:
        assert found.wait(90), f"no progress line from the build: {seen.decode(errors='replace')[-2000:]}"
        time.sleep(0.5)
        assert proc.poll() is None, "the build finished before it could be killed: give it more text"
        in_flight = generation_files(index) - set(before["files"].values())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert in_flight  # the killed build was writing a new generation beside the old one
    assert generation_files(index) >= in_flight  # and left it behind

    assert manifest(index) == before
    qa = NewsQA.open(index)
    assert {k: qa.info()[k] for k in ("articles", "chunks")} == {k: before_info[k] for k in ("articles", "chunks")}
    harbour = article_id_of(index, "Storm surge floods Port Ellery harbour")
    sentence = "Firefighters used inflatable boats to reach families trapped on the upper floors of houses."
    assert nearest_article(qa, embedder, sentence) == harbour

    qa.add([Article(text="The library reopened after repairs to its roof on Saturday.", id="library")])
    assert generation_files(index) == set(manifest(index)["files"].values())  # orphans cleaned


def test_orphaned_generation_files_are_cleaned_by_the_next_write(built: NewsQA) -> None:
    index = built.index_dir
    orphans = ["newsqa-20200101T000000-deadbeef.sqlite", "vectors-20200101T000000-deadbeef.faiss",
               "manifest.json.20200101T000000-deadbeef.tmp"]
    for name in orphans:
        (index / name).write_bytes(b"half written")
    (index / "notes.sqlite").write_bytes(b"not ours")
    assert NewsQA.open(index).info()["articles"] == corpus_size()[1]  # readers ignore them
    built.remove(["wire-chips"])
    assert generation_files(index) == set(manifest(index)["files"].values()) | {"notes.sqlite"}


def test_a_reader_keeps_working_after_another_write(built: NewsQA) -> None:
    """An answer in progress keeps reading its generation even when a write deletes its files."""
    index = built.index_dir
    reader = NewsQA.open(index).reader
    NewsQA.open(index).remove(["wire-chips"])  # deletes the generation `reader` has open
    assert reader.stats()["articles"] == corpus_size()[1]
    result = []
    thread = threading.Thread(target=lambda: result.append(reader.article("wire-chips")))
    thread.start()
    thread.join()
    assert result[0] is not None and "Veltron" in result[0].text
    assert NewsQA.open(index).info()["articles"] == corpus_size()[1] - 1


# ---------------------------------------------------------------- locking


def _writer_args(index: Path) -> tuple:
    m = manifest(index)
    return index, m["model"], Settings.from_dict(m["settings"])


def test_second_writer_gets_index_locked(built: NewsQA, hold_write) -> None:
    index = built.index_dir
    with hold_write(lambda: Writer.begin(*_writer_args(index))):
        with pytest.raises(IndexLocked, match="index is locked") as exc:
            NewsQA.open(index).add([Article(text="A late article about the ferry timetable.", id="late")])
        assert str(index) in str(exc.value)
        with pytest.raises(IndexLocked, match="index is locked"):
            NewsQA.open(index).remove(["wire-chips"])
    assert NewsQA.open(index).remove(["wire-chips"]) == 1  # free again once the holder is done


HOLD_LOCK = """
import json, sys
from pathlib import Path
from newsqa.config import Settings
from newsqa.store import Writer
index, model, settings = json.loads(sys.argv[1])
with Writer.begin(Path(index), model, Settings.from_dict(settings)):
    print("holding", flush=True)
    sys.stdin.read()
"""


def test_lock_held_by_another_process(built: NewsQA) -> None:
    index, m = built.index_dir, manifest(built.index_dir)
    rest = [m["model"], m["settings"]]
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, json.dumps([str(index), *rest])],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert proc.stdout.readline().strip() == "holding"
        with pytest.raises(IndexLocked, match="index is locked"):
            NewsQA.open(index).remove(["wire-chips"])
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert NewsQA.open(index).remove(["wire-chips"]) == 1


# ---------------------------------------------------------------- compatibility


def test_open_with_another_model_is_incompatible(built: NewsQA) -> None:
    with pytest.raises(IndexIncompatible) as exc:
        NewsQA.open(built.index_dir, model="other-model")
    message = str(exc.value)
    assert "all-MiniLM-L6-v2" in message and "other-model" in message
    assert "--model all-MiniLM-L6-v2" in message and "newsqa build" in message
    assert NewsQA.open(built.index_dir, model="all-MiniLM-L6-v2").info()["articles"] == corpus_size()[1]


def test_build_with_another_model_over_an_index_is_incompatible(built: NewsQA, corpus: Path) -> None:
    before = manifest(built.index_dir)
    with pytest.raises(IndexIncompatible, match="other-model"):
        NewsQA.build([corpus], built.index_dir, settings=Settings().with_model("other-model"))
    assert manifest(built.index_dir) == before


def test_index_of_another_dimension_is_incompatible(built: NewsQA, embedder) -> None:
    m = manifest(built.index_dir)
    m["model"]["dimension"] = 512
    (built.index_dir / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexIncompatible) as exc:
        NewsQA.open(built.index_dir).add([Article(text="Snow closed the mountain pass on Friday.")])
    assert "512-d" in str(exc.value) and f"{embedder.dimension}-d" in str(exc.value)
    assert manifest(built.index_dir) == m


def test_newer_format_is_incompatible(built: NewsQA, corpus: Path) -> None:
    m = manifest(built.index_dir)
    m["format"] = 999
    (built.index_dir / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexIncompatible) as exc:
        NewsQA.open(built.index_dir)
    assert "999" in str(exc.value) and "upgrade" in str(exc.value)
    with pytest.raises(IndexIncompatible, match="999"):
        NewsQA.build([corpus], built.index_dir)
    assert manifest(built.index_dir) == m


def test_older_format_asks_for_a_rebuild(built: NewsQA, corpus: Path) -> None:
    m = manifest(built.index_dir)
    m["format"] = FORMAT - 1
    (built.index_dir / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexIncompatible, match=f"format {FORMAT - 1}, older.*newsqa build PATH --index NEWDIR"):
        NewsQA.open(built.index_dir)
    with pytest.raises(IndexIncompatible, match="older"):
        NewsQA.build([corpus], built.index_dir)
    assert manifest(built.index_dir) == m


def test_unreadable_manifest_is_incompatible(built: NewsQA) -> None:
    (built.index_dir / "manifest.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(IndexIncompatible, match="rebuild"):
        NewsQA.open(built.index_dir)


def test_missing_index_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for index in (tmp_path / "nowhere", tmp_path / "empty"):
        with pytest.raises(IndexNotFound) as exc:
            NewsQA.open(index)
        assert "newsqa build" in str(exc.value) and str(index) in str(exc.value)


def test_compact_preset_stores_float16_vectors_and_keeps_them(tmp_path: Path, corpus: Path, embedder) -> None:
    qa = NewsQA.build([corpus], tmp_path / "index", settings="compact")
    m = manifest(qa.index_dir)
    assert m["settings"]["index"]["vectors"] == "float16" and m["faiss"]["type"] == "IDMap2,SQfp16"
    assert nearest_article(qa, embedder, "Veltron picked Amsel for its new semiconductor plant.") == "wire-chips"
    qa.add([Article(text="Snow closed the mountain pass on Friday.", id="snow")])
    assert manifest(qa.index_dir)["faiss"]["type"] == m["faiss"]["type"]  # later writes keep the stored settings


def test_open_reader_follows_writes_by_another_instance(built: NewsQA, tmp_path: Path) -> None:
    index = tmp_path / "copy"
    shutil.copytree(built.index_dir, index)
    reader_side = NewsQA.open(index)
    before = reader_side.info()["articles"]
    NewsQA.open(index).add([Article(text="A new bridge opened over the river on Sunday after five years of work.",
                                    title="Bridge opens", id="bridge")])
    assert reader_side.info()["articles"] == before + 1
    assert reader_side.article("bridge") is not None


def test_filtered_chunk_ids_are_kept_per_generation(built: NewsQA) -> None:
    """A filter's chunk ids are computed once per generation, and a write's new generation sees its articles."""
    march = Filters("2024-03-01", "2024-03-31")
    reader = built.reader
    ids = reader.chunk_ids_where(march)
    with database(built.index_dir) as db:
        expected = {r[0] for r in db.execute(
            "SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE a.published LIKE '2024-03%'")}
    assert set(ids.tolist()) == expected and expected
    assert reader.chunk_ids_where(march) is ids
    built.add([Article(id="late-march", text="Ferry services resumed on the northern route after repairs.",
                       published="2024-03-30")])
    new_ids = set(built.reader.chunk_ids_where(march).tolist())
    assert new_ids - expected and set(chunk_ids(built.index_dir)["late-march"]) <= new_ids
