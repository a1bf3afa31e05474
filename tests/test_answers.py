"""Answers over a small real index: the sample article plus a few news articles of other dates and outlets."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsqa import Article, NewsQA
from newsqa.answer.extractive import cues, has_answer_form, question_kind
from newsqa.config import Settings


from conftest import DATA, SAMPLE

SANCTION_QUESTION = "Why did the US sanction Turkey?"


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> NewsQA:
    index = tmp_path_factory.mktemp("answers") / "index"
    return NewsQA.build([SAMPLE, DATA / "news"], index)


def _article_text(qa: NewsQA, article_id: str) -> str:
    article = qa.article(article_id)
    assert article is not None
    return article.text


def test_sample_question_names_s400_and_cites_its_sentence(qa: NewsQA) -> None:
    answer = qa.ask(SANCTION_QUESTION)
    assert not answer.abstained
    assert "S-400" in answer.text
    assert answer.citations, "an answer must cite"
    sample_id = answer.citations[0].article_id
    assert all(c.article_id == sample_id for c in answer.citations)
    quotes = " ".join(c.quote for c in answer.citations)
    assert "sanctions" in quotes and "S-400" in quotes
    assert "[1]" in answer.text


def test_every_quote_slices_its_stored_article(qa: NewsQA) -> None:
    for question in (SANCTION_QUESTION, "How strong was the earthquake in Italy?",
                     "Why did OPEC decide to cut production?"):
        answer = qa.ask(question)
        assert answer.citations, question
        for c in answer.citations:
            text = _article_text(qa, c.article_id)
            assert text[c.start:c.end] == c.quote
            assert text[c.context_start:c.context_start + len(c.context)] == c.context
            assert c.quote in c.context
            assert f"[{c.number}]" in answer.text
            assert c.quote in answer.text  # quotes appear in the answer verbatim


def test_numbers_are_one_per_article(qa: NewsQA) -> None:
    answer = qa.ask("What happened with oil production and with Brexit?")
    numbers = {}
    for c in answer.citations:
        assert numbers.setdefault(c.article_id, c.number) == c.number
    assert sorted(set(numbers.values())) == list(range(1, len(numbers) + 1))


def test_why_question_prefers_the_reason(qa: NewsQA) -> None:
    answer = qa.ask("Why did OPEC decide to cut production?")
    assert not answer.abstained
    assert any("glut" in c.quote for c in answer.citations)
    assert {c.article_id for c in answer.citations} == {"oil-output"}


@pytest.mark.parametrize("question", [
    "How many years has Sergio Pirozzi been mayor of Amatrice?",  # the quake article gives no duration
    "How much money will Italy spend to rebuild Amatrice?",  # ... and no amount of money
])
def test_covered_subject_without_the_asked_quantity_abstains(qa: NewsQA, question: str) -> None:
    answer = qa.ask(question)
    assert answer.abstained, answer.text
    assert "Strong earthquake strikes central Italy" in answer.text  # named as the closest article


@pytest.mark.parametrize("kind, question, sentence, expected", [
    ("number", "How many people were killed?", "At least 120 people were killed.", True),
    ("number", "How many people were killed?", "The quake struck in 2016.", False),  # a year is not a count
    ("number", "How many people were killed?", "Eight people died.", True),
    ("number", "How much money did they invest?", "They invested 600 million.", False),
    ("number", "How much money did they invest?", "They invested $600 million.", True),
    ("number", "How many years was he sentenced to?", "He was fined 43 million won.", False),
    ("number", "How many years was he sentenced to?", "He got five years in prison.", True),
    ("number", "How many years was he sentenced to?", "The 48-year-old heir denies wrongdoing.", False),  # an age
    ("number", "How many passengers were on the plane?", "It flew just 1,000 feet above the jet.", False),
    ("number", "How many passengers were on the plane?", "The plane carried 19 passengers and crew.", True),
    ("number", "How many captured rebels did Sudan pardon?", "Bashir pardoned 259 rebels.", True),
    ("number", "How many people were detained?", "Police detained 11 activists.", True),
    ("number", "How many were killed in the blast?", "The blast killed 71.", True),
    ("number", "How many times has she won the race?", "She has won it twice, in 2014 and 2016.", True),
    ("when", "When was the letter delivered?", "The letter was delivered on Wednesday.", True),
    ("when", "When was the letter delivered?", "The letter was delivered by hand.", False),
    ("why", "Why did they cut output?", "Anything at all.", True),
    ("", "What is the name of the gunman in Petah Tikva?", "The alleged gunman, a 19-year-old, was arrested.", False),
    ("", "What is the name of the gunman in Petah Tikva?", "The gunman struck on Thursday in Petah Tikva.", False),
    ("", "What is the name of the gunman in Petah Tikva?", "Police named the gunman as Omar Haddad.", True),
    ("", "Under what name did he travel?", "He used the false name of David Marshall.", True),
    ("", "In what year did the college get its original name?", "It opened in 1931.", True),  # a year, not a name
])
def test_answer_form(kind: str, question: str, sentence: str, expected: bool) -> None:
    assert has_answer_form(kind, question, sentence) is expected


@pytest.mark.parametrize("question, kind", [
    ("Why did the US sanction Turkey?", "why"), ("What led OPEC to cut output?", "why"),
    ("When were the sanctions imposed?", "when"), ("By how much will OPEC reduce output?", "number"),
    ("Who won the vote?", "who"), ("How did investigators identify him?", "how"),
    ("Where is he based?", "where"), ("From which town had the flight taken off?", "where"),
    ("Which company bought the stake?", ""), ("What did the letter say?", ""),
    ("By what percentage did profit fall?", "number"), ("How tall is the tower?", "number"),
    ("Which year did the war end?", "when"), ("What kind of gun did he use?", ""),
])
def test_question_kind(question: str, kind: str) -> None:
    assert question_kind(question) == kind


@pytest.mark.parametrize("sentence", [
    "The move is the company's latest effort to cut overcapacity.", "They met in a bid to end the strike.",
    "The rule is designed to protect buyers.", "Output fell because of the storm.",
])
def test_why_cue_includes_purpose(sentence: str) -> None:
    assert cues("why", sentence)[0] and cues("why", "The company employs 3,000 people.") == (False, False)


def test_where_cue_is_a_named_place() -> None:
    assert cues("where", "Flight 768 had taken off from Albury.")[0]
    assert cues("where", "Despite the scare the plane landed safely.") == (False, False)


def test_compound_question_answers_each_part_from_its_article(qa: NewsQA) -> None:
    answer = qa.ask("What was the magnitude of the earthquake in central Italy, and by how much will OPEC reduce output?")
    assert not answer.abstained
    assert {"italy-quake", "oil-output"} <= {c.article_id for c in answer.citations}
    assert "6.2" in answer.text and "1.2 million barrels" in answer.text


def test_unanswerable_question_abstains(qa: NewsQA) -> None:
    for question in ("Who won the 2016 Super Bowl?", "What is the recipe for a good carbonara?"):
        answer = qa.ask(question)
        assert answer.abstained, (question, answer.text)
        assert answer.citations == []
        assert "don't" in answer.text


def test_follow_up_uses_the_conversation(qa: NewsQA) -> None:
    first = qa.ask(SANCTION_QUESTION)
    history = [{"role": "user", "content": SANCTION_QUESTION}, {"role": "assistant", "content": first.text}]
    follow = qa.ask("And when were they imposed?", history=history)
    assert SANCTION_QUESTION in follow.query
    assert not follow.abstained
    assert any("December 14" in c.quote for c in follow.citations)
    alone = qa.ask("And when were they imposed?")
    assert alone.query == "And when were they imposed?"


def test_standalone_question_ignores_history(qa: NewsQA) -> None:
    history = [{"role": "user", "content": SANCTION_QUESTION}, {"role": "assistant", "content": "..."}]
    answer = qa.ask("How many people died in the earthquake in central Italy?", history=history)
    assert answer.query == "How many people died in the earthquake in central Italy?"
    assert {c.article_id for c in answer.citations} == {"italy-quake"}
    # history given as a list of content parts, as Gradio sends it
    parts = [{"role": "user", "content": [{"type": "text", "text": SANCTION_QUESTION}]}]
    assert SANCTION_QUESTION in qa.ask("When were they imposed?", history=parts).query


def test_period_in_question_filters_dates(qa: NewsQA) -> None:
    answer = qa.ask("What did scientists achieve in March 2017?")
    assert answer.filters["date_from"] == "2017-03-01" and answer.filters["date_to"] == "2017-05-01"
    assert all("2017-03-01" <= p.published <= "2017-05-01" for p in answer.passages)
    assert answer.passages
    outside = qa.ask("What did OPEC agree in March 2017?")
    assert all(p.article_id != "oil-output" for p in outside.passages)


def test_period_news_published_later_is_used_and_said(tmp_path: Path) -> None:
    """An event of January reported in March: nothing from January or just after answers, so the
    answer comes from the later article, and says so."""
    qa = NewsQA.build([
        Article(id="jet", title="Business jet flipped by A380 wake", published="2017-03-19", text=(
            "A German business jet was flipped three times and fell 10,000 feet over the Arabian Sea on 7 January "
            "after an Emirates A380 passed 1,000 feet above it, the Aviation Herald reported. The Challenger 604 "
            "lost both engines before the crew regained control and landed in Muscat.")),
        Article(id="budget", title="Council passes budget", published="2017-01-20", text=" ".join(_FILLER[:2])),
    ], tmp_path / "idx")
    answer = qa.ask("What flipped a German business jet over the Arabian Sea in January 2017?")
    assert not answer.abstained, answer.text
    assert [c.article_id for c in answer.citations][:1] == ["jet"]
    assert "published later" in answer.notice
    assert answer.filters["date_from"] == "2017-01-01" and not answer.filters["date_to"]
    assert not qa.ask("What flipped a German business jet over the Arabian Sea?").notice


def test_explicit_filters(qa: NewsQA) -> None:
    hits = qa.search("earthquake oil Brexit satellite", k=10, filters={"sources": ["CNN"]})
    assert hits and {h.source for h in hits} == {"CNN"}
    hits = qa.search("earthquake oil Brexit satellite", k=10, filters={"date_from": "2017-01-01"})
    assert hits and all(h.published >= "2017-01-01" for h in hits)
    with pytest.raises(ValueError, match="ISO date"):
        qa.search("oil", filters={"date_from": "last tuesday"})
    with pytest.raises(ValueError, match="unknown filter"):
        qa.search("oil", filters={"outlet": "CNN"})


def test_search_explains_hits_and_caps_per_article(qa: NewsQA) -> None:
    hits = qa.search("S-400 Turkey sanctions Russia NATO", k=10)
    assert hits[0].article_id == "s400-turkey-2020-12-29" or "S-400" in hits[0].text
    for h in hits:
        assert h.dense_rank is not None or h.keyword_rank is not None
    per_article: dict[str, int] = {}
    for h in hits:
        per_article[h.article_id] = per_article.get(h.article_id, 0) + 1
    assert max(per_article.values()) <= qa.settings.retrieval.max_per_article
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # Keyword evidence is the article's: every chunk of an article carries the same BM25 rank and score.
    for a in per_article:
        assert len({(h.keyword_rank, h.keyword_score) for h in hits if h.article_id == a}) == 1
    # Every candidate is scored by both retrievers: BM25 is positive exactly when a query word is in the article.
    for h in qa.search("Ankara bought a missile system from Moscow", k=10):
        words = {"ankara", "bought", "missile", "system", "moscow"}
        assert (h.keyword_score > 0) == any(w in _article_text(qa, h.article_id).lower() for w in words), h.title
    # A word found in one article only puts that article first, even when its meaning is vague.
    assert "S-400" in qa.search("Demir", k=3)[0].title


_FILLER = [
    "The city council met on Monday to debate next year's budget for parks, libraries and road repairs, and "
    "members argued for three hours about the cost of new street lighting in the old town before adjourning.",
    "In football, the local club lost its third match in a row after conceding two goals in the final ten "
    "minutes, and the coach said his players had to recover their confidence before the derby next weekend.",
    "Forecasters expect a dry and sunny weekend across the region, with temperatures rising to twenty degrees "
    "by Sunday afternoon, although they warned that fog could linger in the valleys in the early mornings.",
    "A new exhibition of medieval manuscripts opened at the university library, drawing long queues of "
    "visitors who came to see illuminated gospels and maps that have not been shown to the public for decades.",
    "Shopkeepers on the main square said takings were up this month thanks to a food festival that brought "
    "stalls from twenty villages, live music every evening and a cooking contest judged by a famous chef.",
]


def test_article_that_leads_with_the_subject_ranks_first(tmp_path: Path) -> None:
    """News puts what a story is about first: of two articles with exactly the same words, the one
    whose lead is about the question ranks above the one that mentions it in passing further down."""
    subject = "Ash from an eruption of Mount Etna closed Catania airport on Thursday and all flights were cancelled."
    filler = _FILLER * 2
    articles = [Article(id="lead", title="Round-up one", text="\n\n".join([subject, *filler])),
                Article(id="buried", title="Round-up two", text="\n\n".join([*filler[:7], subject, *filler[7:]]))]
    qa = NewsQA.build(articles, tmp_path / "idx")
    hits = qa.search("Why were flights from Catania cancelled?", k=4)
    assert [h.article_id for h in hits][:1] == ["lead"]
    scores = {h.article_id: h.keyword_score for h in hits}
    assert scores["lead"] == pytest.approx(scores["buried"])  # same words: only the lead tells them apart


def test_reciprocal_rank_fusion_is_an_option(qa: NewsQA) -> None:
    rrf = NewsQA.open(qa.index_dir, settings=replace(
        Settings(), retrieval=replace(Settings().retrieval, fusion="rrf")))
    hits = rrf.search(SANCTION_QUESTION, k=4)
    assert "S-400" in hits[0].title
    assert hits[0].score == pytest.approx(0.5 / (60 + hits[0].dense_rank) + 0.5 / (60 + hits[0].keyword_rank))


@pytest.mark.parametrize("field, value, message", [
    ("max_sentences", 0, "max_sentences must be a whole number of at least 1, not 0"),
    ("part_sentences", 2.5, "part_sentences must be a whole number"),
    ("rerank", True, "rerank must be a whole number"),
    ("keep_within", 1.5, "keep_within is a share .* from 0 to 1, not 1.5"),
    ("duplicate_similarity", "0.9", "duplicate_similarity .* not '0.9'"),
])
def test_answer_settings_out_of_range_are_refused_naming_the_setting(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(Settings().answer, **{field: value})


@pytest.mark.parametrize("bad, message", [
    ("", "empty"), ("   \n\t ", "empty"), ("x" * 2001, "2000"),
])
def test_bad_questions_raise_value_error(qa: NewsQA, bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        qa.ask(bad)
    with pytest.raises(ValueError, match=message):
        qa.search(bad)


def test_non_english_and_emoji_do_not_crash(qa: NewsQA) -> None:
    for question in ("Почему США ввели санкции против Турции?", "🤔🔥?", "土耳其为什么受到制裁", "¿Qué pasó en Italia?"):
        answer = qa.ask(question)
        assert isinstance(answer.text, str) and answer.text


def test_concurrent_asks_match_serial_answers(qa: NewsQA) -> None:
    questions = [SANCTION_QUESTION, "How strong was the earthquake in Italy?", "Why did OPEC decide to cut production?",
                 "Who won the 2016 Super Bowl?"] * 4
    serial = {q: qa.ask(q).text for q in set(questions)}
    results: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def work(q: str) -> None:
        try:
            results.append((q, qa.ask(q).text))
            qa.search(q, k=3)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(q,)) for q in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == len(questions)
    assert all(text == serial[q] for q, text in results)


def test_empty_index_says_so(tmp_path: Path) -> None:
    qa = NewsQA.build([DATA / "news" / "quantum.md"], tmp_path / "idx")
    qa.remove([a.id for a in qa.reader.articles()])
    answer = qa.ask("What happened?")
    assert answer.abstained and "empty" in answer.text
    assert qa.search("anything") == []


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsqa.cli", *args], capture_output=True, text=True,
                          env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"}, timeout=300)


def test_cli_ask_json_and_text(qa: NewsQA) -> None:
    done = _cli("ask", SANCTION_QUESTION, "--json", "--index", str(qa.index_dir))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"text", "abstained", "citations"} <= set(data)
    assert data["abstained"] is False
    for c in data["citations"]:
        assert {"number", "article_id", "title", "source", "published", "url", "quote", "start", "end",
                "context"} <= set(c)
    text = _cli("ask", SANCTION_QUESTION, "--index", str(qa.index_dir))
    assert text.returncode == 0 and "Sources:" in text.stdout and "S-400" in text.stdout
    empty = _cli("ask", "   ", "--index", str(qa.index_dir))
    assert empty.returncode == 2 and "empty" in empty.stderr
    search = _cli("search", "earthquake Amatrice", "--json", "--k", "2", "--index", str(qa.index_dir))
    hits = json.loads(search.stdout)
    assert len(hits) == 2 and hits[0]["article_id"] == "italy-quake"


FTS_SYNTAX = st.sampled_from(['"', "*", "NEAR(", "OR", "AND", "NOT", "(", ")", ":", "^", "-", "+", "'", ";",
                              "DROP TABLE articles;--", "text:", "{", "}", "\\", "%", "_"])
QUESTIONS = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(FTS_SYNTAX, st.text(min_size=1, max_size=12), st.just("<script>alert(1)</script>"),
                       st.text(alphabet=st.characters(codec="utf-8"), min_size=50, max_size=400)),
             max_size=12).map(" ".join),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=31), max_size=40),
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(question=QUESTIONS)
def test_generated_questions_get_answer_or_value_error(qa: NewsQA, question: str) -> None:
    try:
        answer = qa.ask(question)
    except ValueError:
        pass
    else:
        assert isinstance(answer.text, str) and answer.text
        for c in answer.citations:
            assert _article_text(qa, c.article_id)[c.start:c.end] == c.quote
    try:
        hits = qa.search(question, k=5)
    except ValueError:
        pass
    else:
        assert len(hits) <= 5
