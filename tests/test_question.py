"""Reading questions: validation, follow-up detection, and periods named in the question."""

from __future__ import annotations

import pytest

from newsqa.question import (MAX_QUESTION_CHARS, is_follow_up, message_text, outlets_named, period, question_parts,
                             retrieval_query, validate)
from newsqa.retrieve import Filters

NEWEST = "2017-03-30"


@pytest.mark.parametrize("question, expected", [
    # a period keeps the weeks after it, when it was still reported: +14 days for a day, +31 for a
    # month or a week, +92 for a year
    ("What happened in March 2017?", ("2017-03-01", "2017-05-01")),
    ("What did the minister say on 15 March 2017?", ("2017-03-15", "2017-03-29")),
    ("What did the minister say on March 15, 2017?", ("2017-03-15", "2017-03-29")),
    ("Who resigned in 2016?", ("2016-01-01", "2017-04-02")),
    ("What happened during the month of February 2017?", ("2017-02-01", "2017-03-31")),
    ("What changed last December?", ("2016-12-01", "2017-01-31")),
    ("What happened in December?", ("2016-12-01", "2017-01-31")),
    ("What happened in March?", ("2017-03-01", "2017-05-01")),
    ("What happened last March?", ("2016-03-01", "2016-05-01")),
    ("What happened last year?", ("2016-01-01", "2017-04-02")),
    ("What happened last month?", ("2017-02-01", "2017-03-31")),
    ("What happened since January 2017?", ("2017-01-01", "")),
    ("What happened before 2017?", ("", "2016-12-31")),
])
def test_period_named_in_question(question: str, expected: tuple[str, str]) -> None:
    found = period(question, NEWEST)
    assert found is not None
    assert (found.date_from, found.date_to) == expected


@pytest.mark.parametrize("question", [
    "Who won the 2016 Super Bowl?",  # a year that names an event, not a period
    "Who designed the memorial to the victims of the 2016 crash?",
    "Why did the US sanction Turkey?",
    "What did the G20 say about 2030 targets?",
    "What may happen next?",  # "may" the verb
    "How many people live in Marchmont?",
])
def test_no_period(question: str) -> None:
    assert period(question, NEWEST) is None


def test_month_without_year_is_the_latest_such_month_the_articles_cover() -> None:
    # 2016-17 news beside one December 2020 article: "in January" is January 2017, "in December" December
    # 2016 (one stray article does not make December 2020 covered)
    months = {"2016-12": 310, "2017-01": 290, "2017-02": 305, "2017-03": 280, "2020-12": 1}
    found = period("What happened in January?", "2020-12-29", months)
    assert found is not None and found.date_from == "2017-01-01"
    assert period("What happened in December?", "2020-12-29", months).date_from == "2016-12-01"
    # a feed kept fresh covers every month: the most recent one
    assert period("What happened in December?", "2020-12-29", {"2019-12": 200, "2020-12": 150}).date_from == "2020-12-01"
    # no article in any January: the calendar's most recent January, as without `months`
    assert period("What happened in January?", "2020-12-29", {"2016-12": 5}).date_from == "2020-01-01"


def test_relative_period_needs_a_newest_date() -> None:
    assert period("What happened last year?", "") is None
    assert period("What happened in 2016?", "") is not None


@pytest.mark.parametrize("question, follow", [
    ("And when were they imposed?", True),
    ("What about Russia?", True),
    ("Why?", True),
    ("How much did it cost?", True),
    ("Why did the US sanction Turkey?", False),
    ("How many people died in the earthquake in central Italy?", False),
    ("When did Theresa May trigger Article 50?", False),
])
def test_follow_up_detection(question: str, follow: bool) -> None:
    assert is_follow_up(question) is follow


def test_retrieval_query_goes_back_to_the_standalone_question() -> None:
    history = [
        {"role": "user", "content": "Why did the US sanction Turkey?"},
        {"role": "assistant", "content": "Because of the S-400."},
        {"role": "user", "content": "When were they imposed?"},
        {"role": "assistant", "content": "On 14 December."},
    ]
    assert retrieval_query("Who do they target?", history) == (
        "Why did the US sanction Turkey? When were they imposed? Who do they target?")
    assert retrieval_query("What did NATO say about Patriot missiles?", history) == (
        "What did NATO say about Patriot missiles?")


def test_message_text_reads_gradio_and_openai_shapes() -> None:
    assert message_text("plain") == "plain"
    assert message_text([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "a b"
    assert message_text({"text": "x"}) == "x"
    assert message_text(None) == ""


def test_validate() -> None:
    assert validate("  Why   did\tit happen?\n") == "Why did it happen?"
    for bad in ("", "  \n", "\x00\x01"):
        with pytest.raises(ValueError, match="empty"):
            validate(bad)
    with pytest.raises(ValueError, match=str(MAX_QUESTION_CHARS)):
        validate("a" * (MAX_QUESTION_CHARS + 1))
    with pytest.raises(ValueError, match="text"):
        validate(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("question, parts", [
    ("Where is Harward based, and when did he work at the NSC?",
     ["Where is Harward based?", "when did he work at the NSC?"]),
    ("What makes the appointment historic, and by how much does the ban cut admissions?",
     ["What makes the appointment historic?", "by how much does the ban cut admissions?"]),
    ("Where is the new plant? When will it open?", ["Where is the new plant?", "When will it open?"]),
    ("Which unit were the soldiers serving in, and until when will the state of emergency remain?",
     ["Which unit were the soldiers serving in?", "until when will the state of emergency remain?"]),
    ("Who runs the firm, and since when has it been in court?", ["Who runs the firm?", "since when has it been in court?"]),
    ("Why did the US sanction Turkey?", ["Why did the US sanction Turkey?"]),
    ("Who are Tom and Jerry?", ["Who are Tom and Jerry?"]),  # "and" between names joins no questions
    ("Salt and pepper, and what else?", ["Salt and pepper, and what else?"]),  # a part too short to ask
])
def test_question_parts(question: str, parts: list[str]) -> None:
    assert question_parts(question) == parts


@pytest.mark.parametrize("noisy, clean", [
    ("<img src=x onerror=alert(1)> what happened in Aleppo?", "what happened in Aleppo?"),
    ("<script>alert(1)</script>What happened in Aleppo?", "What happened in Aleppo?"),
    ("What happened in Aleppo? https://example.com/story?id=1", "What happened in Aleppo?"),
    ("Why did the US sanction Turkey &amp; when?", "Why did the US sanction Turkey & when?"),
    (">>>>> What happened in Aleppo? ###", "What happened in Aleppo?"),
])
def test_markup_links_and_symbol_runs_are_stripped_from_a_question(noisy: str, clean: str) -> None:
    assert validate(noisy) == clean


def test_a_question_of_only_markup_is_refused_with_an_example() -> None:
    with pytest.raises(ValueError, match="only markup"):
        validate("<b></b> https://example.com")


def test_a_comparison_is_not_taken_for_markup() -> None:
    assert validate("Is 5 < 6 and 7 > 3?") == "Is 5 < 6 and 7 > 3?"


@pytest.mark.parametrize("question", [
    "How did markets react the day after the March 2017 vote?",
    "What happened after the March 2017 vote was held?",
])
def test_a_period_that_dates_an_event_keeps_the_event(question: str) -> None:
    """'after the March 2017 vote' is relative to the vote, which was in March: not 'since 1 April'."""
    assert period(question, NEWEST) == Filters(date_from="2017-03-01")


@pytest.mark.parametrize("question", [
    "What did the company announce by the end of that week?",
    "What did the court rule the day after?",
    "What did the court rule the following month?",
])
def test_a_relative_phrase_naming_no_period_is_not_a_date_filter(question: str) -> None:
    assert period(question, NEWEST) is None


def test_a_follow_up_naming_no_subject_keeps_the_conversations_subject() -> None:
    history = [{"role": "user", "content": "Why did the US sanction Turkey?"},
               {"role": "assistant", "content": "Because Ankara bought the Russian S-400 [1]."}]
    query = retrieval_query("When were the sanctions imposed?", history)
    assert query.startswith("Why did the US sanction Turkey?")
    assert query.endswith("When were the sanctions imposed?")


def test_a_follow_up_about_someone_only_the_answer_named_carries_the_name() -> None:
    history = [{"role": "user", "content": "Who was the suspect in the Berlin attack?"},
               {"role": "assistant", "content": "Police named Anis Amri, born in Tunisia, as the suspect [1]."}]
    query = retrieval_query("Where was he killed?", history)
    assert "Anis Amri" in query and "Berlin" in query


def test_a_standalone_question_ignores_the_earlier_answer() -> None:
    history = [{"role": "user", "content": "Who was the suspect in the Berlin attack?"},
               {"role": "assistant", "content": "Police named Anis Amri as the suspect [1]."}]
    assert retrieval_query("What is the capital of Australia?", history) == "What is the capital of Australia?"


SOURCES = ["aljazeera.com", "tass.com", "abcnews.go.com", "rte.ie", "dw.com", "huffingtonpost.com",
           "europe.chinadaily.com.cn", "bbc.co.uk", "cnn.com"]


@pytest.mark.parametrize("question, outlet", [
    ("According to TASS, how much will the firm invest?", "tass.com"),
    ("How did the BBC describe the crash?", "bbc.co.uk"),
    ("What did Al Jazeera report about Aleppo?", "aljazeera.com"),
    ("Where did HuffPost say the footprint was found?", "huffingtonpost.com"),
    ("According to RTÉ, how many subscribers were there?", "rte.ie"),
    ("According to Deutsche Welle, who resigned?", "dw.com"),
    ("What did ABC News say about the house?", "abcnews.go.com"),
    ("What does China Daily say about the smog?", "europe.chinadaily.com.cn"),
])
def test_an_outlet_the_question_attributes_the_answer_to_is_found_among_the_sources(question: str,
                                                                                    outlet: str) -> None:
    assert outlets_named(question, SOURCES) == (outlet,)


@pytest.mark.parametrize("question", [
    "Why did Trump attack CNN?",  # the outlet is the subject, not the teller
    "What did Europe decide about China?",  # "europe" and "china" are parts of a domain, not outlets
    "According to police, who died in the crash?",
])
def test_a_name_that_is_no_attribution_to_a_known_outlet_filters_nothing(question: str) -> None:
    assert outlets_named(question, SOURCES) == ()


def test_as_of_a_date_reads_up_to_that_date() -> None:
    assert period("As of 1 March 2017, which tournaments had granted her wildcards?", NEWEST) == Filters(
        date_to="2017-03-01")
