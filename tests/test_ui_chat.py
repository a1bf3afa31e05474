"""The chat as a reader checks it, in a real browser: linked citations, every answer's sources, what the
index covers, filters, the phone layout, the examples. The app, Chromium and fixtures are test_ui's."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from test_ui import ROOT, SANCTION_QUESTION, SHOTS, UI_DATA, WAIT_MS, _open, ask, browser, page, qa, upload, url

from newsqa import NewsQA
from newsqa.ui import EXAMPLES, ChatApp, _ticking, plain_message

FIXTURES = (browser, page, qa, url)  # test_ui's: its app over a small index, its Chromium, a fresh page
BREXIT_QUESTION = "When did Theresa May trigger Article 50?"
PHONE = {"width": 390, "height": 844}


def wait_for_answer(page, number: int) -> None:
    """Answer `number` is complete once its sources are in the panel."""
    page.locator(f"#nq-a{number} .nq-card").first.wait_for()


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= size["height"]


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


# ------------------------------------------------------------------ citations and sources


def test_clicking_a_citation_brings_its_card_into_view_highlighted(page) -> None:
    ask(page, SANCTION_QUESTION)
    wait_for_answer(page, 1)
    ask(page, BREXIT_QUESTION)
    wait_for_answer(page, 2)
    assert page.locator("#nq-a1").get_attribute("open") is None  # the earlier answer's sources folded
    first = page.locator("#nq-chat [data-testid=bot]").first.locator("a.nq-cite", has_text="[1]").first
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the card is out of view
    first.click()
    card = page.locator("#nq-a1-c1")
    page.wait_for_function("document.querySelector('#nq-a1-c1').classList.contains('nq-hl')", timeout=WAIT_MS)
    page.wait_for_function("""() => { const r = document.querySelector('#nq-a1-c1').getBoundingClientRect();
                                      return r.top >= 0 && r.top < innerHeight; }""", timeout=WAIT_MS)
    assert page.locator("#nq-a1").get_attribute("open") is not None
    assert "answer 1" in card.inner_text() and "S-400" in card.inner_text()
    assert page.locator(".nq-hl").count() == 1
    page.screenshot(path=str(SHOTS / "cite-clicked-desktop.png"))


def test_an_earlier_answers_sources_can_be_shown_again(page) -> None:
    ask(page, SANCTION_QUESTION)
    wait_for_answer(page, 1)
    ask(page, BREXIT_QUESTION)
    wait_for_answer(page, 2)
    assert not page.locator("#nq-a1 .nq-card").first.is_visible()
    assert "Article 50" in page.locator("#nq-a2 .nq-card").first.inner_text()
    page.locator("#nq-chat [data-testid=bot]").first.locator("a.nq-show").click()  # its "Sources" link
    page.locator("#nq-a1 .nq-card").first.wait_for(state="visible")
    assert "S-400" in page.locator("#nq-a1 .nq-card").first.inner_text()
    page.locator("#nq-a1 > summary").click()  # folded again, then opened by a click on the answer itself
    page.locator("#nq-a1 .nq-card").first.wait_for(state="hidden")
    page.locator("#nq-chat [data-testid=bot]").first.click(position={"x": 20, "y": 10})
    page.locator("#nq-a1 .nq-card").first.wait_for(state="visible")
    assert page.locator("#nq-a2 .nq-card").first.is_visible()  # the newer answer's sources stay open


def test_copied_answer_is_its_text_without_the_links(page) -> None:
    ask(page, SANCTION_QUESTION)
    wait_for_answer(page, 1)
    page.locator("#nq-chat [data-testid=bot]").last.hover()
    page.locator("#nq-chat button[aria-label='Copy message']").last.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "[1]" in copied and "S-400" in copied
    assert "<a" not in copied and "Sources" not in copied and "&" not in copied.replace(" & ", "")


def test_abstention_links_the_closest_articles_to_their_cards(page) -> None:
    ask(page, "Who won the 2016 Super Bowl?")
    page.locator("#nq-a1 .nq-abstained").wait_for()
    links = page.locator("#nq-chat [data-testid=bot]").last.locator("a.nq-cite")
    assert links.count() >= 1
    title = links.first.inner_text()
    links.first.click()
    page.wait_for_function("document.querySelector('#nq-a1-c1').classList.contains('nq-hl')", timeout=WAIT_MS)
    assert title in page.locator("#nq-a1-c1").inner_text()


# ------------------------------------------------------------------ coverage and filters


def test_coverage_shows_outlets_dates_and_one_bar_series_of_weeks(page, qa: NewsQA) -> None:
    info = qa.info()
    table = page.locator("#nq-coverage").inner_text()
    assert f"Oldest article {info['oldest']}, newest {info['newest']}" in table
    for outlet in info["outlets"]:
        assert (outlet["outlet"] or "outlet unknown") in table
    page.locator("#nq-weeks").scroll_into_view_if_needed()  # the plot is drawn once in view
    series = page.locator("#nq-weeks svg g.mark-rect")
    series.first.wait_for(state="attached")  # an SVG group has no box of its own: "hidden" to Playwright
    assert series.count() == 1  # one bar series
    assert series.first.locator("path").count() == len(info["weeks"]) > 1
    stats = page.locator("#nq-stats").inner_text()  # the one undated-outlet article does not stretch the range
    named = [o for o in info["outlets"] if o["outlet"]]
    assert f"from {len(named)} outlets, {min(o['oldest'] for o in named)} to {max(o['newest'] for o in named)}" \
        in stats


def test_coverage_updates_after_an_upload(page, qa: NewsQA) -> None:
    report = upload(page, [UI_DATA / "hostile.jsonl"])
    assert report.startswith("Added 1,")
    page.wait_for_function("n => document.querySelector('#nq-coverage').innerText.includes(n)",
                           arg="Harbour", timeout=WAIT_MS)


def test_date_picker_opens_within_the_index_range(page, qa: NewsQA) -> None:
    oldest = qa.info()["oldest"]
    page.get_by_text("Filters", exact=True).click()
    assert page.locator("#nq-from input").input_value() == oldest
    page.locator("#nq-from button.calendar").click()
    month = time.strftime("%B %Y", time.strptime(oldest, "%Y-%m-%d"))
    page.locator("#nq-from").get_by_text(month, exact=True).wait_for()


def test_a_filter_shows_as_a_chip_that_removes_it(page) -> None:
    assert not page.locator("#nq-chip").is_visible()
    page.get_by_text("Filters", exact=True).click()
    page.locator("#nq-sources input").click()
    page.get_by_role("option", name="BBC").click()
    chip = page.locator("#nq-chip")
    chip.wait_for(state="visible")
    assert "BBC" in chip.inner_text()
    ask(page, BREXIT_QUESTION)
    wait_for_answer(page, 1)
    assert all("BBC" in m for m in page.locator("#nq-a1 .nq-meta").all_inner_texts())
    chip.click()
    chip.wait_for(state="hidden")
    assert page.locator("#nq-sources .token").count() == 0  # the outlet is no longer chosen


# ------------------------------------------------------------------ the phone and the layout


def test_on_a_phone_the_newest_answers_sources_are_one_tap_away(browser, url: str) -> None:
    context, page, errors, outside = _open(browser, url, PHONE)
    try:
        ask(page, SANCTION_QUESTION)
        wait_for_answer(page, 1)
        ask(page, BREXIT_QUESTION)
        wait_for_answer(page, 2)
        show = page.locator("#nq-chat [data-testid=bot]").last.locator("a.nq-show")
        page.wait_for_function("""() => { const a = [...document.querySelectorAll('#nq-chat a.nq-show')].pop();
            const r = a.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }""", timeout=WAIT_MS)
        assert page.locator("#nq-chat .example").count() == 0  # no examples between the answer and its sources
        show.click()
        page.wait_for_function("""() => { const r = document.querySelector('#nq-a2').getBoundingClientRect();
                                          return r.top >= 0 && r.top < innerHeight; }""", timeout=WAIT_MS)
        page.screenshot(path=str(SHOTS / "sources-phone.png"))
    finally:
        context.close()
    assert not errors and not outside, (errors, outside)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, PHONE], ids=["desktop", "phone"])
def test_nothing_covers_the_chat_text(browser, url: str, viewport: dict[str, int]) -> None:
    context, page, errors, outside = _open(browser, url, viewport)
    try:
        for number, question in enumerate((SANCTION_QUESTION, BREXIT_QUESTION, SANCTION_QUESTION), 1):
            page.evaluate("document.querySelector('#nq-chat .bubble-wrap')?.scrollTo({top: 0})")  # reading back
            ask(page, question)
            wait_for_answer(page, number)
        page.wait_for_timeout(500)  # the chat's own scrolling settles
        chat = page.locator("#nq-chat").bounding_box()
        messages = [m.bounding_box() for m in page.locator("#nq-chat .message").all()]
        badges = page.locator("#nq-chat [data-testid=block-label], #nq-chat .scroll-down-arrow").all()
        for badge in badges:
            if badge.is_visible():
                assert not any(overlaps(badge.bounding_box(), m) for m in messages if m)
        for button in page.locator("#nq-chat button[aria-label='Copy message']").all():
            box = button.bounding_box()
            if box and box["y"] + box["height"] > chat["y"] and box["y"] < chat["y"] + chat["height"]:
                assert box["y"] >= chat["y"], "a copy button clipped at the chat's top edge"
        last = page.locator("#nq-chat .message").last.bounding_box()  # scrolled to the newest answer
        assert last["y"] + last["height"] <= chat["y"] + chat["height"] + 1
        placeholder = page.locator("#nq-question textarea")
        assert placeholder.evaluate("e => e.scrollWidth <= e.clientWidth")
        page.screenshot(path=str(SHOTS / f"layout-{viewport['width']}.png"), full_page=True)
    finally:
        context.close()
    assert not errors and not outside, (errors, outside)


# ------------------------------------------------------------------ the examples, the upload report, progress


def test_every_example_gets_an_answer_that_cites_over_the_demo_index() -> None:
    app = ChatApp(NewsQA.open(ROOT / "index"))
    for example in EXAMPLES:
        *_, (history, panel, _, sections) = app.respond(example, [], None, None, None, None)
        message = history[-1]["content"]
        assert not message.startswith("⚠️"), (example, message)
        assert "class='nq-cite' href='#nq-a1-c1'>[1]</a>" in message, (example, message)
        assert "id='nq-a1-c1'" in panel and "<mark>" in panel, example
        assert "[1]" in plain_message(message) and "<a" not in plain_message(message)


def test_upload_report_lists_each_articles_title_date_and_outlet(qa: NewsQA, tmp_path: Path) -> None:
    app = ChatApp(qa)
    broken = tmp_path / "empty.txt"
    broken.write_text("   \n")
    report, overlay, *_ = app.upload([str(UI_DATA / "ferry.txt"), str(UI_DATA / "hostile.jsonl"), str(broken)], None)
    try:
        lines = report.splitlines()
        assert '"Nordvik ferry back after six weeks" · date unknown · outlet unknown' in report, report
        assert sum(line.startswith("Added \"") for line in lines) == 2, report
        assert any(line.startswith("Skipped empty.txt:") for line in lines), report
    finally:
        app.drop_overlay(overlay)


def test_a_slow_answer_shows_the_seconds_while_it_is_written() -> None:
    def slow() -> object:
        time.sleep(0.35)
        yield "draft"
        raise ValueError("the model failed")

    seen = []
    with pytest.raises(ValueError, match="the model failed"):
        for event in _ticking(slow(), 0.1):
            seen.append(event)
    assert seen[:2] == [None, None] and seen[-1] == "draft"  # ticks while nothing came, then the draft


def test_a_generative_answer_shows_the_seconds_until_the_model_writes(small_index: Path) -> None:
    """Over a real HTTP model server that waits before its first word: the chat counts the seconds, then shows
    the draft, then the verified answer."""
    sys.path.insert(0, str(ROOT / "bench"))
    from scripted_server import Reply, ScriptedServer

    with ScriptedServer() as server:
        server.script(Reply("Washington imposed sanctions against Ankara due to Russian S-400 [1].", delay=2.5))
        app = ChatApp(NewsQA.open(small_index, answerer=f"openai:{server.url}", answer_model="m"))
        shown = [history[-1]["content"] for history, *_ in app.respond(SANCTION_QUESTION, [], None, None, None, None)]
    assert shown[0].startswith("Searching") and "articles…" in shown[0]
    waits = [text for text in shown if text.startswith("Writing the answer…")]
    assert waits and waits[-1].endswith(" s") and int(waits[-1].split()[-2]) >= 1, shown
    assert any("(draft:" in text for text in shown)
    assert "[1]</a>" in shown[-1] and "(draft:" not in shown[-1]
