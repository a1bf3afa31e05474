"""The chat's "Add articles" taking pasted feed and article addresses: fetched from a real site on 127.0.0.1
(bench/local_site.py), read into the session's own copy of the index as uploads are, reported line by line,
and refused with a reason when the address is not one the server should fetch."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from test_ui import SHOTS, WAIT_MS, _open, ask, browser, served, snapshot, wait_for_bot

from newsqa import NewsQA
from newsqa.ingest import make_article
from newsqa.ui import MAX_URLS, MIN_TOKEN_CHARS, ChatApp, from_public_hosts
from newsqa.web import WebResult

from conftest import ROOT


def _bench_module(name: str) -> ModuleType:
    """bench/<name>.py, loaded without putting bench/ on sys.path (its common.py, window.py... would shadow
    other modules of those names for every test collected after this one)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


local_site = _bench_module("local_site")
Route, Site, article_page, rss_feed = local_site.Route, local_site.Site, local_site.article_page, local_site.rss_feed

FIXTURES = (browser,)  # test_ui's Chromium
DAY = dt.date(2019, 5, 6)
BRIDGE = ("Harbour bridge reopens after repairs", [
    "The Kessig harbour bridge reopened to traffic on Monday after eight months of repairs to its steel cables.",
    "Engineers replaced 48 cables and repainted the deck, the city's transport office said.",
    "Ferries that carried commuters across the harbour during the works will stop running next week."])
LIBRARY = ("Kessig library extends weekend hours", [
    "The Kessig central library will stay open until nine on Saturdays from next month.",
    "The council approved six extra staff posts for the change, a spokesperson said.",
    "Readers had asked for longer hours in a survey of 2,000 residents last year."])
TOKEN = "t" * MIN_TOKEN_CHARS


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """A news site: an RSS feed of two article pages and a third entry whose page is missing."""
    site = Site()
    pages = {"/bridge": BRIDGE, "/library": LIBRARY}
    for path, (title, paragraphs) in pages.items():
        site.routes[path] = Route(article_page(title, paragraphs, "Kessig Courier", DAY))
    entries = [(title, site.url(path), DAY) for path, (title, _) in pages.items()]
    site.routes["/rss.xml"] = Route(rss_feed([*entries, ("Gone", site.url("/gone"), DAY)], "Kessig Courier"),
                                    content_type="application/rss+xml")
    yield site
    site.close()


@pytest.fixture
def shared(small_index: Path, tmp_path: Path) -> NewsQA:
    """A copy of the small index every visitor reads, so a test may check that nothing wrote it."""
    path = tmp_path / "index"
    shutil.copytree(small_index, path, ignore=shutil.ignore_patterns(".lock"))
    return NewsQA.open(path)


def test_a_pasted_feed_goes_into_the_sessions_copy_reported_article_by_article(shared: NewsQA, site: Site) -> None:
    app = ChatApp(shared, fetch_private=True)
    before = snapshot(shared.index_dir)
    report, overlay, *_ = app.add_urls(site.url("/rss.xml"), None)
    lines = report.splitlines()
    assert lines[0].startswith("Added 2, updated 0, unchanged 0, duplicates 0, skipped 1;")
    assert f'Added "{BRIDGE[0]}" · {DAY} · Kessig Courier' in lines
    assert f'Added "{LIBRARY[0]}" · {DAY} · Kessig Courier' in lines
    assert any(line.startswith(f"Skipped {site.url('/gone')}: ") and "404" in line for line in lines), lines
    assert lines[-1] == "Kept for this session only: other visitors do not see these articles."
    assert overlay is not None and overlay.index_dir != shared.index_dir
    assert snapshot(shared.index_dir) == before
    question = "How many cables did engineers replace on the Kessig harbour bridge?"
    assert "48 cables" in overlay.ask(question).text
    assert "48 cables" not in shared.ask(question).text
    app.drop_all()


def test_a_pasted_article_address_adds_that_article(shared: NewsQA, site: Site) -> None:
    app = ChatApp(shared, fetch_private=True)
    report, overlay, *_ = app.add_urls(f"  {site.url('/library')}\n", None)
    assert report.startswith("Added 1,") and f'Added "{LIBRARY[0]}" · {DAY} · Kessig Courier' in report
    assert overlay.article(site.url("/library")).source == "Kessig Courier"
    app.drop_all()


@pytest.mark.parametrize("text, message", [
    ("", "No address: paste a feed's or an article's address, starting with https://."),
    (None, "No address: paste a feed's or an article's address, starting with https://."),
    ("ftp://example.com/rss.xml", "Not a web address, nothing was added: ftp://example.com/rss.xml (paste one "
                                  "starting with http:// or https://)."),
    ("https://", "Not a web address, nothing was added: https:// (paste one starting with http:// or https://)."),
    (" ".join(f"https://example.com/{n}" for n in range(MAX_URLS + 1)),
     f"Too many addresses: {MAX_URLS + 1}; paste at most {MAX_URLS} at a time."),
    ("http://169.254.169.254/latest/meta-data/", "Not fetched, nothing was added: http://169.254.169.254/latest/"
                                                 "meta-data/ is on this server's own machine or a private network; "
                                                 "paste a public address."),
    ("http://10.1.2.3/feed", "Not fetched, nothing was added: http://10.1.2.3/feed is on this server's own "
                             "machine or a private network; paste a public address."),
    ("http://[::1]:8080/", "Not fetched, nothing was added: http://[::1]:8080/ is on this server's own machine "
                           "or a private network; paste a public address."),
])
def test_an_address_the_server_should_not_fetch_is_refused_saying_why(shared: NewsQA, text: str | None,
                                                                      message: str) -> None:
    report, overlay, *_ = ChatApp(shared).add_urls(text, None)
    assert (report, overlay) == (message, None)


def test_by_default_the_server_fetches_nothing_on_its_own_machine(shared: NewsQA, site: Site) -> None:
    asked = len(site.log)
    report, overlay, *_ = ChatApp(shared).add_urls(site.url("/rss.xml"), None)
    assert report.endswith("is on this server's own machine or a private network; paste a public address.")
    assert overlay is None and len(site.log) == asked  # not one request reached the site


def test_an_article_fetched_from_a_private_host_through_a_public_feed_is_not_added() -> None:
    """A feed's entry linking to, or a page redirected to, a private address: its text never reaches the index.
    (.invalid names never resolve: taken as public, their fetch fails on its own.)"""
    def article(origin: str, landed: str) -> object:
        return make_article({"id": landed, "url": landed, "title": "T", "text": "Some text here."}, origin=origin)

    fetched = WebResult(articles=[article("https://news.invalid/a", "https://news.invalid/a"),
                                  article("http://169.254.169.254/latest/meta-data/", "http://169.254.169.254/x"),
                                  article("https://news.invalid/b", "http://127.0.0.1:8080/admin")])
    kept = from_public_hosts(fetched)
    assert [a.id for a in kept.articles] == ["https://news.invalid/a"]
    assert [str(p) for p in kept.problems] == [
        "http://169.254.169.254/latest/meta-data/: on this server's own machine or a private network; not added",
        "https://news.invalid/b: on this server's own machine or a private network; not added"]


def test_a_pasted_address_writes_the_shared_index_only_with_the_operator_token(shared: NewsQA, site: Site) -> None:
    app = ChatApp(shared, allow_writes=True, operator_token=TOKEN, fetch_private=True)
    before = shared.info()["articles"]
    wrong, overlay, *_ = app.operator_add_urls(site.url("/bridge"), None, "x" * MIN_TOKEN_CHARS)
    assert wrong.startswith("Wrong operator token: nothing was added.") and overlay is None
    report, overlay, *_ = app.operator_add_urls(site.url("/bridge"), None, TOKEN)
    assert report.startswith("Added 1,") and "Written to the shared index" in report and overlay is None
    assert shared.info()["articles"] == before + 1
    again, overlay, *_ = app.add_urls(site.url("/bridge"), None)  # a visitor's paste of the same page
    assert again.startswith("Added 0,") and f"id '{site.url('/bridge')}' already exists in the index" in again
    assert overlay is None  # nothing to add: no copy made


# ------------------------------------------------------------------ in the browser


@pytest.fixture(scope="module")
def url(small_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("ui-urls") / "index"
    shutil.copytree(small_index, path, ignore=shutil.ignore_patterns(".lock"))
    qa = NewsQA.open(path)
    qa.embedder  # noqa: B018 - loaded before the first question
    yield from served(qa, fetch_private=True)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_a_feed_pasted_in_the_page_is_reported_and_then_answered_from(browser, url: str, site: Site,
                                                                      viewport: dict[str, int]) -> None:
    context, page, errors, outside = _open(browser, url, viewport)
    try:
        paste_and_ask(page, site, viewport["width"])
    finally:
        context.close()
    assert not errors, errors
    assert outside == [], outside


def paste_and_ask(page, site: Site, width: int) -> None:
    page.get_by_text("Add articles", exact=True).click()
    page.locator("#nq-url input").fill(site.url("/rss.xml"))
    page.locator("#nq-add-url").click()
    page.wait_for_function("document.querySelector('#nq-upload-status textarea').value.length > 0",
                           timeout=WAIT_MS)
    report = page.locator("#nq-upload-status textarea").input_value()
    assert report.startswith("Added 2,") and f'Added "{BRIDGE[0]}"' in report
    page.locator("#nq-upload-status").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"add-url-{width}.png"))
    ask(page, "How many cables did engineers replace on the Kessig harbour bridge?")
    assert "48 cables" in wait_for_bot(page, "48 cables")
