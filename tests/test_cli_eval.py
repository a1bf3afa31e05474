"""`newsqa eval retrieval` and `newsqa eval answers`, run as real processes over real small indexes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsqa import NewsQA
from newsqa.corpora import news_records
from newsqa.evaluate import DEVSET, contains_words, load_questions
from newsqa.evaluate_retrieval import corpus_queries, evaluate_all, load_queries, make_queries, newsqa_search

from conftest import DATA, ROOT
from test_cli_build import newsqa

QUESTIONS = DATA / "questions.jsonl"
SCORES = {"kind", "queries", "recall_at_1", "recall_at_5", "recall_at_10", "mrr_at_10", "p50_ms", "p95_ms"}


# ---------------------------------------------------------------- retrieval


def test_eval_retrieval_json_is_newsqa_search_over_make_queries(news100_index: Path, tmp_path: Path) -> None:
    result = newsqa("eval", "retrieval", "--index", news100_index, "--small", "--sample", "20", "--json",
                    cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"index", "queries", "unindexed_gold", "results"} and out["unindexed_gold"] == []
    assert [r["kind"] for r in out["results"]] == ["title", "subtitle"]
    for r in out["results"]:
        assert set(r) == SCORES and r["queries"] == 20
        assert all(0 <= r[k] <= 1 for k in SCORES if k.startswith(("recall", "mrr")))
        assert r["recall_at_1"] <= r["recall_at_5"] <= r["recall_at_10"] and 0 < r["p50_ms"] <= r["p95_ms"]
    # the command's query set is make_queries' (search is deterministic, so the figures agree exactly)
    expected = evaluate_all(newsqa_search(NewsQA.open(news100_index)), make_queries(list(news_records("News100")), 20))
    key = ("recall_at_1", "recall_at_5", "recall_at_10", "mrr_at_10")
    assert [[r[k] for k in key] for r in out["results"]] == [[getattr(e, k) for k in key] for e in expected]
    assert out["results"][0]["recall_at_5"] >= 0.5  # titles find their own article among 100


def test_eval_retrieval_prints_the_table_for_a_query_file(small_index: Path, tmp_path: Path) -> None:
    queries = tmp_path / "queries.json"
    queries.write_text(json.dumps({"title": [["Why OPEC cut oil output", "oil-output"],
                                             ["Earthquake in central Italy", "italy-quake"]], "subtitle": []}))
    result = newsqa("eval", "retrieval", "--index", small_index, "--queries", queries, "--sample", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"queries: {queries}" in result.stdout and "| system | queries | recall@1 |" in result.stdout
    assert "| newsqa | title (1) | 1.000 | 1.000 | 1.000 | 1.000 |" in result.stdout
    assert "subtitle" not in result.stdout  # a kind with no queries gets no row
    assert "title queries" in result.stderr  # the progress bar


def test_eval_retrieval_on_an_index_without_the_gold_articles_exits_2(small_index: Path, tmp_path: Path) -> None:
    result = newsqa("eval", "retrieval", "--index", small_index, "--small", "--sample", "20", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "of the" in result.stderr and "are not in the index" in result.stderr and str(small_index) in result.stderr
    assert "newsqa demo --index" in result.stderr and "Traceback" not in result.stderr and result.stdout == ""


def test_committed_queries_are_make_queries_over_news_articles() -> None:
    assert load_queries(ROOT / "bench" / "queries.json") == corpus_queries("NewsArticles")


# ---------------------------------------------------------------- answers


def test_eval_answers_prints_metrics_types_and_worst_questions(small_index: Path, tmp_path: Path) -> None:
    result = newsqa("eval", "answers", "--index", small_index, "--questions", QUESTIONS, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"questions {QUESTIONS} (split all, 3)" in out and "| questions | 3 |" in out
    assert "| quote_validity | 1.000 |" in out and "| fully_right |" in out and "| wrongly_abstained |" in out
    assert "| type | n | fully right | fact recall | cites gold |" in out
    assert "| why-how | 1 |" in out and "| unanswerable | 1 |" in out
    assert "Worst questions:" in out
    assert "Questions: 100%" in result.stderr  # the progress bar, on stderr


def test_eval_answers_json_on_the_bundled_dev_set(small_index: Path, tmp_path: Path) -> None:
    # its test split (207 of 515 questions): the whole set took over a minute of the suite, and
    # test_split_asks_only_that_splits_questions covers "all"
    result = newsqa("eval", "answers", "--index", small_index, "--split", "test", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"index", "questions", "split", "summary", "worst", "outcomes"}
    assert out["questions"] == str(DEVSET) and out["split"] == "test"
    summary = out["summary"]
    expected = [q for q in load_questions(DEVSET) if q["split"] == "test"]
    assert summary["questions"] == len(out["outcomes"]) == len(expected) > 100
    assert [o["id"] for o in out["outcomes"]] == [q["id"] for q in expected]
    assert {"fully_right", "fact_recall", "cites_gold", "citations_gold", "quote_validity", "abstention_precision",
            "abstention_recall", "wrongly_abstained", "answered_share", "by_type", "ms_p50"} <= set(summary)
    assert summary["quote_validity"] == 1.0
    assert 0 < len(out["worst"]) <= 10 and all(w["problems"] for w in out["worst"])  # 5 articles answer few of 79
    assert set(out["outcomes"][0]) >= {"id", "question", "abstained", "fact_recall", "fully_right", "problems"}


def _ask(small_index: Path, tmp_path: Path, rows: list[dict], *options: str) -> dict:
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = newsqa("eval", "answers", "--index", small_index, "--questions", path, "--json", *options, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_fact_counts_only_as_whole_words(small_index: Path, tmp_path: Path) -> None:
    quake = {"question": "How many people were killed by the earthquake in central Italy?", "type": "factoid",
             "answerable": True, "gold": ["italy-quake"]}
    out = _ask(small_index, tmp_path, [{"id": "right", **quake, "facts": ["120"]},
                                       {"id": "inside", **quake, "facts": ["20"]}])
    right, inside = out["outcomes"]
    assert "120" in right["text"] and right["fact_recall"] == 1.0 and right["fully_right"]
    assert "20" in inside["text"] and inside["fact_recall"] == 0.0 and not inside["fully_right"]  # only in "120"
    assert out["summary"]["fully_right"] == 0.5 and out["summary"]["by_type"]["factoid"]["fully_right"] == 0.5


def test_fully_right_needs_a_citation_in_a_gold_article(small_index: Path, tmp_path: Path) -> None:
    question = "How many people were killed by the earthquake in central Italy?"
    out = _ask(small_index, tmp_path, [{"id": "t2", "question": question, "answerable": True, "gold": ["oil-output"],
                                        "facts": ["120"]}])
    outcome = out["outcomes"][0]
    assert outcome["fact_recall"] == 1.0 and not outcome["cites_gold"] and not outcome["fully_right"]
    assert "none in gold ['oil-output']" in outcome["problems"][0]


@pytest.mark.parametrize(("split", "ids"), [("tune", ["t1"]), ("test", ["t2", "t3"]), ("all", ["t1", "t2", "t3"])])
def test_split_asks_only_that_splits_questions(small_index: Path, tmp_path: Path, split: str, ids: list[str]) -> None:
    result = newsqa("eval", "answers", "--index", small_index, "--questions", QUESTIONS, "--split", split, "--json",
                    cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [o["id"] for o in out["outcomes"]] == ids and out["split"] == split
    assert out["summary"]["questions"] == len(ids) and out["summary"]["unanswerable"] == ids.count("t3")


def test_a_split_with_no_questions_exits_2(small_index: Path, tmp_path: Path) -> None:
    path = tmp_path / "unsplit.jsonl"
    path.write_text('{"id": "a", "question": "Why did OPEC cut output?", "answerable": true, "split": ""}\n')
    result = newsqa("eval", "answers", "--index", small_index, "--questions", path, "--split", "test", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "no 'test' questions in" in result.stderr and str(path) in result.stderr
    assert "devset.py split" in result.stderr


@pytest.mark.parametrize(("text", "phrase", "found"), [
    ("They were fined 75,000 euros.", "5,000 euros", False),
    ("They were fined 5,000 euros.", "5,000 euros", True),
    ("It rose 10.5% last year.", "10.5%", True),
    ("At least 120 people died.", "20", False),
    ("The S-400 systems arrived.", "S-400", True),
    ("The S-4000 systems arrived.", "S-400", False),
    ("Sergio Pirozzi said so.", "sergio pirozzi", True),  # case does not matter in an answer
])
def test_contains_words_matches_whole_words_only(text: str, phrase: str, found: bool) -> None:
    assert contains_words(text, phrase) is found


@pytest.mark.parametrize(("what", "option", "content", "message"), [
    ("retrieval", "--queries", None, "no query set at"),
    ("retrieval", "--queries", '{"title": [["a query", "an-id"]', "not a JSON query set"),
    ("retrieval", "--queries", '{"title": [["a query without its article"]]}', "[query, article_id] pairs"),
    ("retrieval", "--queries", '{"title": [], "subtitle": []}', "no queries"),
    ("answers", "--questions", None, "no question set at"),
    ("answers", "--questions", '{"id": "a", "question": "Why?", "answerable": true}\n\n{"id": "b"\n', ":3: not JSON"),
    ("answers", "--questions", '{"id": "a", "question": "Why?"}\n', ":1: 'answerable' is missing or not a bool"),
    ("answers", "--questions", "\n  \n", "no questions"),
])
def test_bad_input_file_exits_2_naming_it(small_index: Path, tmp_path: Path, what: str, option: str,
                                          content: str | None, message: str) -> None:
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = newsqa("eval", what, "--index", small_index, option, path, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith(f"newsqa eval {what}: ") and message in result.stderr
    assert str(path) in result.stderr and "Traceback" not in result.stderr and result.stdout == ""


def test_eval_alone_prints_its_help_and_exits_2(tmp_path: Path) -> None:
    result = newsqa("eval", cwd=tmp_path)
    assert result.returncode == 2 and "retrieval" in result.stdout and "answers" in result.stdout


def test_a_quoted_boilerplate_sentence_is_counted_and_named() -> None:
    from newsqa.evaluate import judge, summarize
    from newsqa.types import Answer, Article, Citation

    QUOTE = "READ MORE: Bridge closures cost the city millions"

    class Articles:  # the one article the citation points at, holding the quote at its offsets
        def article(self, article_id: str) -> Article:
            return Article(text=QUOTE, id=article_id)

    citation = Citation(number=1, article_id="a", title="", source="", published="", url="", quote=QUOTE, start=0,
                        end=len(QUOTE), context=QUOTE, context_start=0)
    item = {"id": "x", "question": "Why?", "type": "why-how", "answerable": True, "gold": ["a"], "facts": ["millions"]}
    outcome = judge(Articles(), item, Answer("Why?", QUOTE + " [1]", [citation]))
    assert outcome.boilerplate_quotes == 1 and any("boilerplate" in p for p in outcome.problems)
    assert summarize([outcome])["boilerplate_quotes"] == 1
