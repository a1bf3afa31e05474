"""When and who: answers that know when things were reported, by which outlet, and where outlets disagree,
over small made-up articles with chosen dates and outlets (tests/data/when)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from newsqa import NewsQA
from newsqa.conflicts import compatible, counts
from newsqa.question import outlets_named
from newsqa.timeline import asks_development, asks_outlets
from newsqa.window import asks_outcome, question_dates

from conftest import DATA, ROOT

DEMO_OUTLETS = ["abcnews.go.com", "aljazeera.com", "bbc.co.uk", "cnn.com", "dw.com", "europe.chinadaily.com.cn",
                "huffingtonpost.com", "rte.ie", "tass.com"]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("when") / "index"
    NewsQA.build([DATA / "when"], path)
    return path


@pytest.fixture(scope="module")
def qa(index: Path) -> NewsQA:
    return NewsQA.open(index)


# ------------------------------------------------------------------ the time window

def test_an_outcome_after_the_articles_end_gets_the_window_notice_and_not_a_forecast_as_the_result(qa: NewsQA) -> None:
    """The election coverage ends on 10 April 2019, before the 12 May vote; a 2021 article on another
    subject is the newest in the index and must not hide that."""
    answer = qa.ask("Who won the Norvania presidential election?")
    assert "The articles end on 10 April 2019, before May 12" in answer.notice
    assert answer.abstained  # the articles do not say who won
    assert answer.text.startswith("Before then, the articles reported:")
    assert any("favourite to win" in c.quote or "will be held" in c.quote for c in answer.citations)


def test_an_outcome_of_a_story_still_unfolding_when_the_articles_end_gets_the_notice(qa: NewsQA) -> None:
    """The robbery was reported the day before the articles end, and they never say anyone was arrested."""
    answer = qa.ask("When did police arrest the men who robbed the jewellery shop in Dresk?")
    assert "while the story was still unfolding: they do not say what came of it" in answer.notice
    assert answer.abstained


def test_a_question_about_what_was_expected_is_answered_without_a_notice(qa: NewsQA) -> None:
    answer = qa.ask("Who is the favourite to win the Norvania presidential election?")
    assert not answer.abstained
    assert not answer.notice
    assert "Ana Petrov" in answer.text


def test_a_date_without_a_year_is_the_nearest_one_to_where_the_articles_end() -> None:
    end = dt.date(2017, 3, 30)
    assert question_dates("Who won the May 9 vote?", end) == [("May 9", dt.date(2017, 5, 9))]
    assert question_dates("What happened on December 20?", end) == [("December 20", dt.date(2016, 12, 20))]
    assert question_dates("Who won in September 2017?", end) == [("September 2017", dt.date(2017, 9, 1))]


@pytest.mark.parametrize("question, outcome", [
    ("Who won the French presidential election?", True),
    ("How many years in prison was he sentenced to?", True),
    ("When will the first round of the election be held?", False),  # what was announced: the articles say
    ("Who was expected to win the election?", False),
    ("Why did the court convict him?", False),  # a reason, given as it happens
])
def test_only_a_question_asking_what_came_of_something_is_an_outcome_question(question: str, outcome: bool) -> None:
    assert asks_outcome(question) is outcome


# ------------------------------------------------------------------ timelines

def test_a_development_question_gets_one_dated_sentence_per_report_in_publication_order(qa: NewsQA) -> None:
    """The flood's articles are stored newest first; the timeline runs from the first report to the last."""
    answer = qa.ask("How did the flooding of the Kessel river in Brannock develop?")
    dates = [c.published for c in answer.timeline]
    assert len(dates) >= 2 and dates == sorted(dates)
    assert len({c.article_id for c in answer.timeline}) == len(answer.timeline)  # one sentence per report
    assert [c.number for c in answer.timeline] == list(range(1, len(answer.timeline) + 1))
    assert answer.text.startswith("On 1 February 2019, valleypost.com reported: ")
    assert "On 3 February 2019, northwire.com reported: " in answer.text  # a report the answer alone did not cite
    assert answer.timeline[-1].article_id == "kessel-receding"


@pytest.mark.parametrize("question, development", [
    ("How did the Mosul offensive develop?", True),
    ("What happened first, and what came next?", True),
    ("What did the court decide in February, and what happened by the end of March?", True),  # two moments
    ("How did the police find the suspect?", False),
    ("When did the strike end?", False),
])
def test_a_development_question_is_told_from_a_one_fact_question(question: str, development: bool) -> None:
    assert asks_development(question) is development


# ------------------------------------------------------------------ outlets

@pytest.mark.parametrize("question, listing", [
    ("Which outlets reported the Westminster attack?", True),
    ("What news sites covered the gold coin theft?", True),
    ("Who carried it out?", False),
    ("Which police officers were hurt?", False),
])
def test_only_a_question_asking_which_outlets_reported_is_answered_with_a_list(question: str, listing: bool) -> None:
    assert asks_outlets(question) is listing


def test_an_outlet_named_by_its_common_name_restricts_the_answer_to_it(qa: NewsQA) -> None:
    answer = qa.ask("According to the BBC, how long is the new Volva bridge?")
    assert tuple(answer.filters["sources"]) == ("bbc.co.uk",)
    assert answer.citations and {c.source for c in answer.citations} == {"bbc.co.uk"}
    assert "1,200 metres" in answer.text


@pytest.mark.parametrize("question, outlet", [
    ("According to TASS, what happened?", "tass.com"),
    ("What did the BBC report about the vote?", "bbc.co.uk"),
    ("What did BBC News report about the vote?", "bbc.co.uk"),
    ("According to ABC News, who won?", "abcnews.go.com"),
    ("What did ABC report about the fire?", "abcnews.go.com"),
    ("What was Al Jazeera's account of the raid?", "aljazeera.com"),
    ("In the DW report, who was arrested?", "dw.com"),
    ("According to Deutsche Welle, who was arrested?", "dw.com"),
    ("According to RTÉ, how many died?", "rte.ie"),
    ("According to China Daily, what is the tax?", "europe.chinadaily.com.cn"),
])
def test_common_outlet_names_resolve_to_the_outlets_in_the_index(question: str, outlet: str) -> None:
    assert outlets_named(question, DEMO_OUTLETS) == (outlet,)


@pytest.mark.parametrize("question", ["Why did Trump call CNN fake news?", "What did the Kremlin say about it?"])
def test_an_outlet_that_is_the_subject_is_not_a_filter(question: str) -> None:
    assert outlets_named(question, DEMO_OUTLETS) == ()


def test_which_outlets_reported_gets_one_line_per_outlet(qa: NewsQA) -> None:
    answer = qa.ask("Which outlets reported the opening of the new Volva bridge?")
    lines = answer.text.splitlines()
    assert len(lines) == 2
    assert {line.split(",")[0] for line in lines} == {"bbc.co.uk", "tass.com"}
    assert {c.source for c in answer.citations} == {"bbc.co.uk", "tass.com"}


# ------------------------------------------------------------------ disagreements and updates

def test_same_day_reports_of_different_tolls_are_flagged_as_a_disagreement_naming_both_sides(qa: NewsQA) -> None:
    answer = qa.ask("How many people were killed when the fuel truck exploded in Tamsk?")
    assert len(answer.conflicts) == 1
    conflict = answer.conflicts[0]
    assert conflict.about == "dead"
    sides = {(conflict.first.source, conflict.first.figure), (conflict.second.source, conflict.second.figure)}
    assert sides == {("valleypost.com", "At least 12"), ("northwire.com", "15")}
    assert "Reports differ on the number dead" in answer.text
    assert not answer.updates


def test_a_later_report_with_a_new_toll_is_an_update_not_a_disagreement(qa: NewsQA) -> None:
    answer = qa.ask("How many people died in the Orlin coal mine, and how did the toll change?")
    assert not answer.conflicts
    assert len(answer.updates) == 1
    update = answer.updates[0]
    assert (update.first.published, update.second.published) == ("2019-03-10", "2019-03-12")
    assert (update.first.figure, update.second.figure) == ("Nine", "14")
    assert "Updated on 12 March 2019" in answer.text


@pytest.mark.parametrize("first, second, fits", [
    ("more than 150 people were killed", "killing 154 people", True),
    ("nearly 250 people have died", "246 people were killed", True),
    ("at least 12 people were killed", "killing 15 people", False),
    ("about 400,000 people have been killed", "more than 310,000 people have been killed", False),
])
def test_figures_that_can_both_hold_are_not_a_disagreement(first: str, second: str, fits: bool) -> None:
    (x,), (y,) = counts(first), counts(second)
    assert compatible(x, y) is fits


def test_ages_years_and_durations_are_not_counts() -> None:
    assert counts("Kurt Cochran, 54, died on Wednesday.") == []
    assert counts("In 2016 the law was passed and a 75-year-old man died.") == []
    assert [c.value for c in counts("The death toll in the attack has climbed to 74.")] == [74]


# ------------------------------------------------------------------ wire copies

def test_a_wire_copy_is_cited_once_with_the_other_outlet_named(qa: NewsQA) -> None:
    answer = qa.ask("What did the central bank of Norvania do to its interest rate?")
    assert len({c.article_id for c in answer.citations} & {"rate-valley", "rate-north"}) == 1
    copied = [c for c in answer.citations if "4.5 percent" in c.quote]
    assert len(copied) == 1
    others = {o["source"] for o in copied[0].also_reported_by}
    assert others == {"northwire.com", "valleypost.com"} - {copied[0].source}
    assert f"(also reported by {others.pop()})" in answer.text


# ------------------------------------------------------------------ the fields, through the CLI

def test_the_cli_json_answer_carries_the_new_fields(index: Path) -> None:
    def ask(question: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "newsqa.cli", "ask", question, "--index", str(index), "--json"],
                              capture_output=True, text=True, cwd=ROOT, check=True)
        return json.loads(done.stdout)

    truck = ask("How many people were killed when the fuel truck exploded in Tamsk?")
    assert truck["conflicts"][0]["about"] == "dead"
    assert {truck["conflicts"][0]["first"]["source"], truck["conflicts"][0]["second"]["source"]} == {
        "valleypost.com", "northwire.com"}
    assert truck["updates"] == [] and truck["timeline"] == []
    assert all("also_reported_by" in c for c in truck["citations"])
    election = ask("Who won the Norvania presidential election?")
    assert election["abstained"] and "10 April 2019" in election["notice"]
    flood = ask("How did the flooding of the Kessel river in Brannock develop?")
    assert [c["published"] for c in flood["timeline"]] == sorted(c["published"] for c in flood["timeline"])
