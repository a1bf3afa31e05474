"""The chat in a real browser, over a small real index and the real model.

One app per module (started on 127.0.0.1) and one Chromium per module; each
test gets a fresh page, so a fresh Gradio session. Every wait is bounded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from newsqa import NewsQA
from newsqa.ingest import load_paths
from newsqa.types import Answer, Citation
from newsqa.ui import (CSS, HEAD, MAX_FILE_MB, MAX_FILES, THEME, ChatApp, citations_html, create_app,
                       plain_message)

from conftest import DATA, ROOT, SAMPLE

CHROMIUM = os.environ.get("NEWSQA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(os.environ.get("NEWSQA_SCREENSHOTS", "/tmp/newsqa-screenshots"))
UI_DATA = DATA / "ui"
SANCTION_QUESTION = "Why did the US sanction Turkey?"
WAIT_MS = 30_000  # the longest any one step may take (the first answer loads the model)
IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"
SAMPLE_ID = load_paths([SAMPLE]).articles[0].id  # in the test index; the demo index names it DEMO_SAMPLE_ID
DEMO_SAMPLE_ID = "s400-turkey-2020-12-29"
POISON = "Washington imposed sanctions on Turkey because Ankara exported too many pineapples to Russia."

# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> NewsQA:
    qa = NewsQA.build([SAMPLE, DATA / "news"], tmp_path_factory.mktemp("ui") / "index")
    qa.embedder  # noqa: B018 - loaded here, so the first question is not the one that times out
    return qa


@pytest.fixture(scope="module")
def url(qa: NewsQA) -> Iterator[str]:
    yield from served(qa)


def served(qa: NewsQA, **options: Any) -> Iterator[str]:
    """The chat over `qa` (`create_app` `options`) on a free port of 127.0.0.1, as `newsqa serve` launches it,
    until the generator closes."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = create_app(qa, **options)
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=port, ssr_mode=False,
                max_file_size=f"{MAX_FILE_MB}mb", theme=THEME, css=CSS, head=HEAD)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: run scripts/ensure-chromium.sh (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=WAIT_MS)
        yield browser
        browser.close()


def _open(browser, url: str, viewport: dict[str, int]) -> tuple[object, object, list[str], list[str]]:
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda request: None if urlsplit(request.url).hostname in ("127.0.0.1", None)
            or request.url.startswith(("data:", "blob:")) else outside.append(request.url))
    page.goto(url, timeout=WAIT_MS)
    page.locator("#nq-question textarea").wait_for()
    return context, page, errors, outside


@pytest.fixture
def page(browser, url: str) -> Iterator[object]:
    """A fresh session; uncaught JavaScript errors and any request leaving 127.0.0.1 fail the test."""
    context, page, errors, outside = _open(browser, url, {"width": 1400, "height": 1000})
    yield page
    context.close()
    assert not errors, errors
    assert not outside, f"requests left 127.0.0.1: {outside}"


# ------------------------------------------------------------------ helpers


def ask(page, question: str, enter: bool = False) -> None:
    box = page.locator("#nq-question textarea")
    box.fill(question)
    if enter:
        box.press("Enter")
    else:
        page.locator("#nq-ask").click()


def wait_for_sources(page, kind: str = ".nq-card") -> None:
    """The citations panel is filled by the last update of an answer, so the chat is complete by then."""
    page.locator(f"#nq-citations {kind}").first.wait_for()


def wait_for_bot(page, pattern: str) -> str:
    """The last assistant message, once it matches `pattern` (a regex)."""
    page.wait_for_function(
        "p => { const m = [...document.querySelectorAll('#nq-chat [data-testid=bot]')].pop();"
        " return !!m && new RegExp(p).test(m.innerText); }", arg=pattern, timeout=WAIT_MS)
    return last_bot(page)


def last_bot(page) -> str:
    return page.locator("#nq-chat [data-testid=bot]").last.inner_text()


def copied_last_bot(page) -> str:
    """What the chat's copy button puts on the clipboard for the last answer."""
    page.locator("#nq-chat [data-testid=bot]").last.hover()
    page.locator("#nq-chat button[aria-label='Copy message']").last.click()
    return page.evaluate("navigator.clipboard.readText()")


def no_error_toast(page) -> None:
    assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()
    assert "Traceback" not in page.locator("body").inner_text()


def upload(page, paths: list[Path]) -> str:
    """Files through the browser's file input; returns the upload report once it is shown."""
    page.get_by_text("Add articles", exact=True).click()
    page.locator("#nq-upload-status textarea").wait_for()
    page.locator("#nq-upload input[type=file]").set_input_files([str(p) for p in paths])
    page.wait_for_function("document.querySelector('#nq-upload-status textarea').value.length > 0",
                           timeout=WAIT_MS)
    return page.locator("#nq-upload-status textarea").input_value()


def poison_file(folder: Path, article_id: str = SAMPLE_ID) -> Path:
    """A JSON record that would replace the sample article, if an upload could replace one."""
    path = folder / "poison.json"
    path.write_text(json.dumps({"id": article_id, "title": "Turkey sanctions", "source": "Anonymous",
                                "published": "2020-12-30", "text": f"{POISON} Officials confirmed it on Monday."}))
    return path


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "",
                                      p.stat().st_mtime_ns, p.stat().st_mode)
            for p in sorted([root, *root.rglob("*")])}


# ------------------------------------------------------------------ asking


def test_answer_in_chat_with_cited_sample_sentence(page, qa: NewsQA) -> None:
    ask(page, SANCTION_QUESTION)
    wait_for_sources(page)
    page.screenshot(path="/tmp/ui-answer.png")
    answer = last_bot(page)
    assert "S-400" in answer and "[1]" in answer
    assert page.locator("#nq-question textarea").input_value() == ""  # ready for the next question

    cards = page.locator("#nq-citations .nq-card")
    assert cards.count() >= 1
    first = cards.first
    marks = first.locator("mark").all_inner_texts()
    assert marks
    article_id = qa.ask(SANCTION_QUESTION).citations[0].article_id
    article = qa.article(article_id)
    assert article is not None and Path(article.origin).name == SAMPLE.name
    for mark in marks:
        assert mark.strip() in article.text and mark.strip().endswith("."), mark  # a whole sentence of the article
    assert any("sanctions" in m for m in marks)
    heading = first.locator("div").first.inner_text()
    assert heading.startswith("[1]") and article.title and article.title in heading  # a title, not the hash id
    assert article_id not in heading
    assert f"{qa.info()['articles']:,} articles" in page.locator("#nq-stats").inner_text()

    page.locator("#nq-clear").click()
    page.locator("#nq-citations .nq-empty").wait_for()
    ask(page, SANCTION_QUESTION, enter=True)
    wait_for_sources(page)
    assert "S-400" in last_bot(page)
    assert page.locator("#nq-chat [data-testid=user]").count() == 1
    no_error_toast(page)


def test_unanswerable_question_abstains_visibly(page) -> None:
    ask(page, "Who won the 2016 Super Bowl?")
    wait_for_sources(page, ".nq-abstained")
    text = last_bot(page)
    assert text.startswith("⚠️") and "don't" in text
    assert page.locator("#nq-citations mark").count() == 0  # nothing quoted as support
    assert page.locator("#nq-citations .nq-card").count() >= 1  # the closest articles, as cards
    panel = page.locator("#nq-citations .nq-abstained")
    assert "don't" in panel.inner_text()
    style = panel.evaluate("e => { const s = getComputedStyle(e); return [s.borderTopStyle, s.backgroundColor]; }")
    assert style == ["dashed", "rgb(255, 248, 236)"], style  # the app's CSS is applied: unlike an answer's card
    assert "&#x27;" not in copied_last_bot(page)  # the copy button copies text, not HTML entities


def test_empty_and_overlong_questions_get_a_message_and_the_app_keeps_working(page) -> None:
    page.locator("#nq-ask").click()
    text = wait_for_bot(page, "^⚠️")
    assert "empty" in text and "Why did the US sanction Turkey?" in text
    no_error_toast(page)

    ask(page, "Why " + "x" * 2496)
    text = wait_for_bot(page, "characters long")
    assert "2500" in text and "2000" in text
    no_error_toast(page)
    assert page.locator("#nq-citations .nq-empty").count() == 1

    ask(page, SANCTION_QUESTION)
    wait_for_sources(page)
    assert "S-400" in last_bot(page)


# ------------------------------------------------------------------ adding articles


def test_uploaded_markup_is_shown_as_text_and_answerable(page, browser, url: str, qa: NewsQA) -> None:
    shared = qa.info()["articles"]
    report = upload(page, [UI_DATA / "hostile.jsonl", UI_DATA / "broken.jsonl"])
    assert report.startswith("Added 2,"), report
    assert "broken.jsonl:2: malformed JSON" in report  # the line of the broken record
    assert "/tmp" not in report and "gradio" not in report  # file names, not Gradio's upload folders
    assert "for this session only" in report
    assert qa.info()["articles"] == shared  # the shared index is as it was
    page.wait_for_function("n => document.querySelector('#nq-stats').innerText.includes(n + ' articles')",
                           arg=f"{shared + 2:,}", timeout=WAIT_MS)

    ask(page, "Why did the Zorblax council ban kites?", enter=True)
    wait_for_sources(page)
    card = page.locator("#nq-citations .nq-card").first
    card_text = card.inner_text()
    assert f"Zorblax council {IMG} bans kites {SCRIPT}" in card_text  # the title, literally
    assert f"Harbour {IMG} Gazette" in card_text
    quoted = " ".join(card.locator("mark").all_inner_texts())
    assert IMG in quoted or SCRIPT in quoted  # the quote's markup, shown as the text it is
    assert IMG in last_bot(page) or SCRIPT in last_bot(page)
    page.get_by_text("Filters", exact=True).click()
    page.locator("#nq-sources input").click()
    page.get_by_role("option", name=f"Harbour {IMG} Gazette").wait_for()
    page.wait_for_timeout(300)  # an injected <img onerror> would have fired by now

    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#nq-citations img, #nq-chat img").count() == 0
    assert not page.evaluate("[...document.scripts].some(s => s.textContent.includes('__xss'))")
    assert not page.evaluate(
        "[...document.querySelectorAll('a[href]')].some(a => a.getAttribute('href').trim().toLowerCase()"
        ".startsWith('javascript:'))")

    other = browser.new_page()  # another visitor reads the shared index: the upload is not in it
    try:
        other.goto(url, timeout=WAIT_MS)
        other.wait_for_function("n => document.querySelector('#nq-stats')?.innerText.includes(n + ' articles')",
                                arg=f"{shared:,}", timeout=WAIT_MS)
    finally:
        other.close()


def test_poisoning_upload_changes_no_ones_answer(page, browser, url: str, qa: NewsQA, tmp_path: Path) -> None:
    """A record with the sample article's id and a false reason is skipped, for the uploader too; another
    visitor's answer and the shared index's files stay as they were."""
    assert qa.article(SAMPLE_ID) is not None
    files = snapshot(qa.index_dir)
    report = upload(page, [poison_file(tmp_path)])
    assert report.startswith("Added 0,") and "skipped 1;" in report, report
    assert f"Skipped poison.json: id '{SAMPLE_ID}' already exists in the index" in report
    ask(page, SANCTION_QUESTION)
    wait_for_sources(page)
    assert "S-400" in last_bot(page) and "pineapples" not in last_bot(page)

    context, other, errors, outside = _open(browser, url, {"width": 1400, "height": 1000})
    try:
        ask(other, SANCTION_QUESTION)
        wait_for_sources(other)
        assert "S-400" in last_bot(other) and "pineapples" not in other.locator("body").inner_text()
    finally:
        context.close()
    assert not errors and not outside
    assert snapshot(qa.index_dir) == files
    assert POISON not in qa.article(SAMPLE_ID).text


def test_card_links_only_http_urls() -> None:
    def card(url: str) -> str:
        cite = Citation(1, "a1", "Title", "Outlet", "2021-01-01", url, "Quote.", 0, 6, "Quote.", 0)
        return citations_html(Answer("q?", "Quote. [1]", [cite]))

    for url in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>"):
        assert "<a " not in card(url) and "<script>" not in card(url)
    linked = card("https://news.example/a?x=1&y='\"><script>alert(1)</script>")
    assert "href='https://news.example/a?x=1&amp;y=&#x27;&quot;&gt;&lt;script&gt;" in linked
    assert "<script>" not in linked


def test_upload_limits(page, tmp_path: Path, qa: NewsQA) -> None:
    many = []
    for i in range(MAX_FILES + 1):
        many.append(tmp_path / f"note-{i}.txt")
        many[-1].write_text(f"Note {i}\n\nA short note number {i} about nothing in particular.\n")
    report = upload(page, many)
    assert report == f"Too many files: {MAX_FILES + 1}; upload at most {MAX_FILES} at a time."

    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.write(b"Big headline\n\n")
        f.truncate(MAX_FILE_MB * 1024 * 1024 + 1)
    page.locator("#nq-upload input[type=file]").set_input_files(str(big))
    toast = page.locator(".toast-body").first
    toast.wait_for()
    assert "maximum allowed size" in toast.inner_text() and "big.txt" in toast.inner_text()

    # The handler's own checks, for clients that bypass Gradio's size limit.
    before = qa.info()["articles"]
    app = ChatApp(qa)
    assert app.upload([str(big)], None)[0] == f"Over {MAX_FILE_MB} MB, not added: big.txt."
    assert app.upload([str(p) for p in many], None)[0].startswith(f"Too many files: {MAX_FILES + 1};")
    assert app.upload([], None)[0] == "No files."
    assert qa.info()["articles"] == before


@pytest.mark.parametrize("read_only", [False, True])
def test_uploads_go_into_a_session_copy_even_when_the_index_is_writable(qa: NewsQA, tmp_path: Path,
                                                                         read_only: bool) -> None:
    shared = tmp_path / "shared"
    shutil.copytree(qa.index_dir, shared, ignore=shutil.ignore_patterns(".lock"))
    if read_only:  # a hosted Space: the copy must come out writable all the same
        for path in sorted(shared.rglob("*"), reverse=True) + [shared]:
            path.chmod(0o555 if path.is_dir() else 0o444)
    before = snapshot(shared)
    try:
        app = ChatApp(NewsQA.open(shared))
        question = "Why was the Nordvik ferry out of service?"
        status, overlay, _, stats, *_ = app.upload([str(UI_DATA / "ferry.txt")], None)
        assert status.startswith("Added 1,") and "for this session only" in status, status
        assert isinstance(overlay, NewsQA) and shared not in overlay.index_dir.parents
        assert f"{app.qa.info()['articles'] + 1:,} articles" in stats
        for path in [overlay.index_dir, *overlay.index_dir.rglob("*")]:
            assert path.stat().st_mode & stat.S_IWUSR, path  # writable for a non-root owner too
        answer = overlay.ask(question)
        assert not answer.abstained and "Nordvik" in answer.citations[0].title
        assert all("Nordvik" not in c.title for c in app.qa.ask(question).citations)  # not in the shared index

        again, same, *_ = app.upload([str(UI_DATA / "ferry.txt")], overlay)  # the session keeps its copy
        assert same is overlay and "unchanged 1" in again
        assert snapshot(shared) == before

        app.drop_overlay(overlay)  # what Gradio calls when the session expires
        assert not overlay.index_dir.exists()
    finally:
        for path in [shared, *shared.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_poisoning_upload_through_the_handlers_leaves_other_sessions_alone(tmp_path: Path) -> None:
    """The finding, over the committed demo index (writable here, as in a clone): two sessions' handlers."""
    shared = ROOT / "index"
    app = ChatApp(NewsQA.open(shared))
    before, answer_before = snapshot(shared), app.qa.ask(SANCTION_QUESTION).text
    poison = poison_file(tmp_path, DEMO_SAMPLE_ID)

    status, overlay, *_ = app.upload([str(poison)], None)  # session 1: only the poison
    assert overlay is None, "nothing new: no copy made"
    assert f"Skipped poison.json: id '{DEMO_SAMPLE_ID}' already exists in the index" in status
    status, overlay, *_ = app.upload([str(poison), str(UI_DATA / "ferry.txt")], None)  # with a good file
    assert status.startswith("Added 1,") and "skipped 1;" in status and overlay is not None
    assert "pineapples" not in overlay.ask(SANCTION_QUESTION).text  # not even in the uploader's own copy

    other = [h for h, *_ in app.respond(SANCTION_QUESTION, [], None, None, None, None)][-1]  # session 2
    assert plain_message(other[-1]["content"]) == answer_before and "S-400" in answer_before
    assert app.qa.ask(SANCTION_QUESTION).text == answer_before
    assert snapshot(shared) == before
    app.drop_overlay(overlay)


def test_operator_token_writes_the_shared_index_and_nothing_else_does(qa: NewsQA, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from newsqa.ui import MIN_TOKEN_CHARS, launch, writes_allowed

    shared = tmp_path / "shared"
    shutil.copytree(qa.index_dir, shared, ignore=shutil.ignore_patterns(".lock"))
    token = "operator-secret-0123456789"
    app = ChatApp(NewsQA.open(shared), allow_writes=True, operator_token=token)
    articles = app.qa.info()["articles"]
    ferry = str(UI_DATA / "ferry.txt")

    status, overlay, *_ = app.operator_upload([ferry], None, "not-the-token")
    assert status.startswith("Wrong operator token: nothing was added.") and overlay is None
    status, overlay, *_ = app.operator_upload([ferry], None, "")  # no token: this session only
    assert "for this session only" in status and overlay is not None
    assert app.qa.info()["articles"] == articles
    app.drop_overlay(overlay)

    status, overlay, _, stats, *_ = app.operator_upload([ferry, str(poison_file(tmp_path))], None, token)
    assert "Written to the shared index" in status and overlay is None
    assert f"id '{SAMPLE_ID}' already exists in the index" in status  # not even the operator replaces one
    assert app.qa.info()["articles"] == articles + 1 and f"{articles + 1:,} articles" in stats
    assert "pineapples" not in app.qa.ask(SANCTION_QUESTION).text

    with pytest.raises(ValueError, match=f"at least {MIN_TOKEN_CHARS} characters in NEWSQA_OPERATOR_TOKEN"):
        ChatApp(app.qa, allow_writes=True, operator_token="short")
    plain = ChatApp(app.qa)
    writes_off = plain.upload([str(UI_DATA / "hostile.jsonl")], None)  # always a session copy
    assert "for this session only" in writes_off[0] and writes_off[1].index_dir.exists()
    plain.drop_all()  # what happens when the app stops
    assert not writes_off[1].index_dir.parent.exists()
    monkeypatch.delenv("NEWSQA_OPERATOR_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="needs an operator token"):
        launch(shared, allow_writes=True)
    assert [writes_allowed(v) for v in (None, "", "0", "no", "1", "true", "ON")] == [False] * 4 + [True] * 3
    with pytest.raises(ValueError, match="NEWSQA_ALLOW_WRITES='maybe'"):
        writes_allowed("maybe")


def test_token_field_is_shown_only_when_writes_are_allowed(qa: NewsQA) -> None:
    def elem_ids(demo) -> set[str]:
        return {c.get("props", {}).get("elem_id") for c in demo.config["components"]}

    assert "nq-token" not in elem_ids(create_app(qa))
    writable = create_app(qa, allow_writes=True, operator_token="operator-secret-0123456789")
    token = next(c for c in writable.config["components"] if c.get("props", {}).get("elem_id") == "nq-token")
    assert token["props"]["type"] == "password"


# ------------------------------------------------------------------ the API and clearing


def test_public_api(url: str) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(url, verbose=False)
    api = client.view_api(return_format="dict", print_info=False)
    assert list(api["named_endpoints"]) == ["/ask"] and not api["unnamed_endpoints"]
    result = client.predict(SANCTION_QUESTION, api_name="/ask")
    assert isinstance(result, dict) and result["abstained"] is False
    assert "S-400" in result["text"]
    assert result["citations"] and all(c["quote"] in result["text"] for c in result["citations"])
    with pytest.raises(AppError, match="the question is empty"):
        client.predict("   ", api_name="/ask")


def test_clear_empties_chat_and_sources(page) -> None:
    for clear in ("#nq-clear", "#nq-chat button[aria-label='Clear']"):  # the button, and the chat's trash icon
        ask(page, SANCTION_QUESTION)
        wait_for_sources(page)
        page.locator(clear).click()
        page.locator("#nq-citations .nq-empty").wait_for()
        page.wait_for_function("!document.querySelector('#nq-chat [data-testid=bot]')", timeout=WAIT_MS)
        assert page.locator("#nq-citations .nq-card").count() == 0
        assert re.fullmatch(r"\s*", page.locator("#nq-question textarea").input_value())


def test_example_streams_an_answer_and_the_page_looks_finished(browser, url: str, qa: NewsQA) -> None:
    """Click an example; the answer arrives in steps (placeholder, then text, then sources). Screenshots
    of a desktop and a phone-sized page are kept for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("desktop", {"width": 1400, "height": 1000}), ("phone", {"width": 390, "height": 844})):
        context, page, errors, outside = _open(browser, url, viewport)
        seen: list[str] = []
        page.expose_function("nqSeen", lambda text: seen.append(text))  # noqa: B023 - used within this iteration
        page.evaluate("""() => new MutationObserver(() => {
            const m = [...document.querySelectorAll('#nq-chat [data-testid=bot]')].pop();
            if (m) window.nqSeen(m.innerText); }).observe(document.body, {subtree: true, childList: true,
                                                                          characterData: true})""")
        page.get_by_text(SANCTION_QUESTION, exact=True).first.click()  # the first example
        page.locator("#nq-citations .nq-card").first.wait_for()
        assert "S-400" in last_bot(page)
        assert any(f"Searching {qa.info()['articles']:,} articles" in text for text in seen), seen[:5]
        font = page.evaluate("getComputedStyle(document.querySelector('#nq-chat')).fontFamily")
        assert "Source Sans Pro" in font
        page.screenshot(path=str(SHOTS / f"answer-{name}.png"), full_page=True)
        context.close()
        assert not errors and not outside, (errors, outside)
