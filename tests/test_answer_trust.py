"""Answers a reader can trust, over small made-up articles (tests/data/trust) beside the sample article:
the answering sentence over the one that restates the question, no boilerplate quoted, an honest
abstention off the corpus, follow-ups that keep their subject, noisy questions read for what they ask."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsqa import NewsQA
from newsqa.clean import is_boilerplate

from conftest import DATA, SAMPLE

SANCTION_QUESTION = "Why did the US sanction Turkey?"
TURKEY_HISTORY = [
    {"role": "user", "content": SANCTION_QUESTION},
    {"role": "assistant", "content": "Washington imposed sanctions against Ankara due to the Russian S-400 [1]."},
]


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> NewsQA:
    index: Path = tmp_path_factory.mktemp("trust") / "index"
    return NewsQA.build([SAMPLE, DATA / "news", DATA / "trust"], index)


@pytest.mark.parametrize("question", [
    "What is the capital of Australia?",
    "Who will win the football World Cup in 2030?",
    "How many moons does Jupiter have?",
])
def test_a_question_the_articles_cannot_answer_gets_an_abstention(qa: NewsQA, question: str) -> None:
    answer = qa.ask(question)
    assert answer.abstained, answer.text
    assert not answer.citations
    assert "don't" in answer.text


def test_the_sentence_holding_the_reason_is_quoted_not_only_the_ones_restating_the_question(qa: NewsQA) -> None:
    """The reason (cracks) has no word of the question and no "because"; two sentences restate the closure.
    Known gap: the learned model still ranks a restating sentence first (see the issue's note)."""
    answer = qa.ask("Why was the Marlow Bridge shut?")
    assert not answer.abstained
    assert any("cracks" in c.quote for c in answer.citations), [c.quote for c in answer.citations]


def test_a_figure_question_quotes_the_figure_not_the_restatement(qa: NewsQA) -> None:
    answer = qa.ask("How much will fixing the Marlow Bridge cost?")
    assert not answer.abstained
    assert "4.2 million pounds" in answer.text


@pytest.mark.parametrize("question", [
    "Why was the Marlow Bridge shut?",
    "Where can I read more about the Marlow Bridge?",
    "How can I share the Marlow Bridge story on Facebook?",
    "Where are drivers sent while the Marlow Bridge is shut?",
])
def test_boilerplate_is_never_quoted(qa: NewsQA, question: str) -> None:
    for citation in qa.ask(question).citations:
        assert not is_boilerplate(citation.quote), citation.quote
        assert "READ MORE" not in citation.quote and "Permalink" not in citation.quote


def test_a_follow_up_that_names_its_subject_keeps_the_conversations_subject(qa: NewsQA) -> None:
    """'the sanctions' alone could be the EU's on Russia; the conversation is about the US and Turkey."""
    answer = qa.ask("When were the sanctions imposed?", history=TURKEY_HISTORY)
    assert not answer.abstained
    assert answer.citations[0].title == qa.ask(SANCTION_QUESTION).citations[0].title  # the sample article
    assert "December 14" in answer.text


def test_a_question_with_an_html_tag_answers_like_the_question_without_it(qa: NewsQA) -> None:
    plain = qa.ask(SANCTION_QUESTION)
    tagged = qa.ask("<img src=x onerror=alert(1)> " + SANCTION_QUESTION)
    assert not tagged.abstained
    assert tagged.text == plain.text
    assert "onerror" not in tagged.query


def test_a_relative_phrase_does_not_become_a_period_that_hides_the_answer(qa: NewsQA) -> None:
    answer = qa.ask("What did the Eastbrook council order the day after the March 2024 ferry vote?")
    assert answer.filters["date_from"] == "2024-03-01"  # the vote's month, not "since 1 April"
    assert not answer.abstained
    assert "Rotterdam" in answer.text
