"""When and who, in the chat: timelines as dated lists, disagreements and updates flagged, wire copies named, and
the window notice shown with what the articles said before it. Over the made-up articles of tests/data/when
(their questions are test_when's), rendered by the chat's own functions and in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from test_ui import IMG, SCRIPT, SHOTS, WAIT_MS, _open, ask, browser, copied_last_bot, last_bot, served

from newsqa import NewsQA
from newsqa.types import Answer, Conflict
from newsqa.ui import answer_message, citations_html, plain_message

from conftest import DATA

FIXTURES = (browser,)  # test_ui's Chromium
FLOOD = "How did the flooding of the Kessel river in Brannock develop?"
TRUCK = "How many people were killed when the fuel truck exploded in Tamsk?"
MINE = "How many people died in the Orlin coal mine, and how did the toll change?"
RATE = "What did the central bank of Norvania do to its interest rate?"
ELECTION = "Who won the Norvania presidential election?"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> NewsQA:
    qa = NewsQA.build([DATA / "when"], tmp_path_factory.mktemp("ui-when") / "index")
    qa.embedder  # noqa: B018 - loaded here, so the first question is not the one that times out
    return qa


@pytest.fixture(scope="module")
def url(qa: NewsQA) -> Iterator[str]:
    yield from served(qa)


def shown(answer: Answer) -> str:
    """The chat message as a reader reads it (and as the copy button copies it)."""
    return plain_message(answer_message(answer, 1))


# ------------------------------------------------------------------ rendering


def test_a_timeline_shows_as_a_dated_list_in_publication_order(qa: NewsQA) -> None:
    lines = shown(qa.ask(FLOOD)).splitlines()
    assert lines[0] == "How it developed, oldest report first:"
    assert lines[1].startswith("• 1 February 2019 · valleypost.com: The Kessel river burst its banks")
    assert lines[1].endswith("[1]")
    assert lines[2].startswith("• 3 February 2019 · northwire.com: Army engineers") and lines[2].endswith("[2]")
    assert lines[3].startswith("• 9 February 2019 · harbourtimes.co.uk: The water level") and lines[3].endswith("[3]")


def test_a_disagreement_is_flagged_naming_both_outlets_dates_and_figures(qa: NewsQA) -> None:
    answer = qa.ask(TRUCK)
    text = shown(answer)
    assert "Sources disagree on the number dead:\n" in text
    assert "• valleypost.com, 5 March 2019, gave at least 12 [1]" in text
    assert "• northwire.com, 5 March 2019, gave 15 [2]" in text
    assert "Reports differ" not in text  # the library's sentence, replaced by the flag rather than said twice
    panel = citations_html(answer, 1)
    flag = panel[panel.index("nq-report nq-disagree"):panel.index("nq-card")]
    for quote in (c.quote for c in answer.citations):  # both quotes, in the flag itself
        assert quote in flag


def test_a_later_figure_shows_as_a_dated_update_not_a_disagreement(qa: NewsQA) -> None:
    answer = qa.ask(MINE)
    text = shown(answer)
    assert "Updated 12 March 2019: a later report gave a new number dead:" in text
    assert "• valleypost.com, 10 March 2019, gave nine [1]" in text and "• northwire.com, 12 March 2019, gave 14 [2]" in text
    assert "disagree" not in text and "disagree" not in citations_html(answer, 1)
    assert "nq-report nq-update" in citations_html(answer, 1)


def test_a_wire_copy_card_says_which_outlet_also_reported_it(qa: NewsQA) -> None:
    answer = qa.ask(RATE)
    (copy,) = [c for c in answer.citations if c.also_reported_by]
    other = copy.also_reported_by[0]
    assert "Also reported by <a href='" + other["url"] + "'" in citations_html(answer, 1)
    assert f">{other['source']}</a> ({other['published']})</div>" in citations_html(answer, 1)


def test_an_answer_past_the_articles_end_shows_its_notice_and_the_sources_it_cites(qa: NewsQA) -> None:
    answer = qa.ask(ELECTION)
    assert answer.abstained and answer.citations
    panel = citations_html(answer, 1)
    assert "No supporting sentences" not in panel
    assert "The articles end on 10 April 2019, before May 12" in panel
    assert {f"id='nq-a1-c{c.number}'" for c in answer.citations} <= set(re.findall(r"id='nq-a1-c\d+'", panel))
    message = answer_message(answer, 1)
    assert "<a class='nq-cite' href='#nq-a1-c1'>[1]</a>" in message
    assert shown(answer).startswith("⚠️ Before then, the articles reported:")
    assert "(The articles end on 10 April 2019, before May 12" in shown(answer)


def test_markup_in_a_timeline_or_a_disagreement_is_shown_as_text_and_never_runs(browser, qa: NewsQA) -> None:
    """Quotes and outlets are article text: in a timeline line, a flag and a card they stay text."""
    truck, flood = qa.ask(TRUCK), qa.ask(FLOOD)
    hostile = replace(truck.conflicts[0].first, quote=f"{truck.conflicts[0].first.quote} {IMG}", source=SCRIPT)
    truck = replace(truck, conflicts=[Conflict("dead" + IMG, hostile, truck.conflicts[0].second)])
    flood = replace(flood, timeline=[replace(c, quote=f"{c.quote} {IMG}", source=SCRIPT) for c in flood.timeline])
    html = "".join(f"<div>{answer_message(a, n)}</div>{citations_html(a, n)}"
                   for n, a in enumerate((truck, flood), 1))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(f"<html><body>{html}</body></html>", wait_until="load", timeout=WAIT_MS)
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.locator("img").count() == 0 and page.locator("script").count() == 0
        text = page.inner_text("body")
        assert f"{SCRIPT}, 5 March 2019, gave at least 12" in text and IMG in text
        assert f"· {SCRIPT}: The Kessel river burst its banks" in text
    finally:
        context.close()


# ------------------------------------------------------------------ in the browser


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_chat_shows_a_timeline_a_disagreement_the_window_and_a_wire_copy(browser, url: str, viewport: dict[str, int]) -> None:
    context, page, errors, outside = _open(browser, url, viewport)
    try:
        ask(page, FLOOD)
        page.locator("#nq-a1 .nq-card").first.wait_for(state="attached")
        timeline = last_bot(page)
        dated = [line for line in timeline.splitlines() if line.startswith("• ")]
        assert [line.split(" · ")[0] for line in dated] == ["• 1 February 2019", "• 3 February 2019",
                                                            "• 9 February 2019"]
        assert page.locator("#nq-chat [data-testid=bot] .nq-when").count() == 3  # the dates stand out
        page.screenshot(path=str(SHOTS / f"timeline-{viewport['width']}.png"))
        copied = copied_last_bot(page)  # the copy button keeps the list's lines, as text
        assert "\n• 1 February 2019 · valleypost.com: The Kessel river burst its banks" in copied
        assert "<" not in copied and "Sources of answer" not in copied
        ask(page, TRUCK)
        page.locator("#nq-a2 .nq-card").first.wait_for(state="attached")
        flag = page.locator("#nq-chat [data-testid=bot] .nq-flag.nq-disagree").last
        assert flag.inner_text() == "Sources disagree" and flag.is_visible()
        message = last_bot(page)
        assert "valleypost.com, 5 March 2019, gave at least 12 [1]" in message
        assert "northwire.com, 5 March 2019, gave 15 [2]" in message
        page.screenshot(path=str(SHOTS / f"disagreement-{viewport['width']}.png"))
        panel = page.locator("#nq-a2 .nq-report.nq-disagree")
        panel.scroll_into_view_if_needed()
        assert "northwire.com" in panel.inner_text() and "killing 15 people" in panel.inner_text()
        page.screenshot(path=str(SHOTS / f"disagreement-sources-{viewport['width']}.png"))
        ask(page, ELECTION)
        page.locator("#nq-a3 .nq-card").first.wait_for(state="attached")
        assert "The articles end on 10 April 2019" in last_bot(page)
        assert "No supporting sentences" not in page.locator("#nq-a3").inner_text()
        page.locator("#nq-a3 .nq-notice").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"window-{viewport['width']}.png"))
        ask(page, RATE)
        page.locator("#nq-a4 .nq-card").first.wait_for(state="attached")
        also = page.locator("#nq-a4 .nq-also")
        also.scroll_into_view_if_needed()
        assert also.inner_text().startswith("Also reported by ")
        page.screenshot(path=str(SHOTS / f"wire-copy-{viewport['width']}.png"))
    finally:
        context.close()
    assert not errors, errors
    assert not outside, f"requests left 127.0.0.1: {outside}"
