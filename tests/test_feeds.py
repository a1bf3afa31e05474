"""Feeds and article pages over HTTP: `newsqa build URL`, `newsqa watch`, `newsqa remove --before/--source`.

Everything is served by a real HTTP server on 127.0.0.1 started here; no request leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from conftest import ROOT
from filelock import FileLock

from newsqa import NewsQA, Settings
from newsqa.cli import main as cli_main
from newsqa.cli import read_url_list
from newsqa.config import FetchSettings
from newsqa.fetch import USER_AGENT, Fetcher, FetchError, network_reason
from newsqa.store import LOCK
from newsqa.watch import parse_interval, poll_once, watch

sys.path.insert(0, str(ROOT / "bench"))
from local_site import Route, Site, article_page, rss_feed  # noqa: E402

# Short limits, so the bad cases cost a second or two in all: the slow page answers after SLOW seconds.
FAST = FetchSettings(connect_timeout=1.0, read_timeout=0.5, max_page_mb=0.05, backoff=0.05, max_retry_after=2.0,
                     max_redirects=3)
SLOW = 2.0
TODAY = dt.date.today()
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
ENV.pop("NEWSQA_INDEX", None)

TOPICS = {
    "harbour": ("Harbour bridge reopens after repairs", "The harbour bridge reopened to traffic on Monday after "
                "eight months of repairs to its steel cables. Engineers replaced {n} cables and repainted the deck."),
    "library": ("City library extends weekend hours", "The central library will stay open until nine on Saturdays "
                "from next month. The council approved {n} extra staff posts for the change."),
    "rail": ("Night trains return to the northern line", "Night trains will run on the northern line again from "
             "spring, the rail operator said. Tickets for the {n} new services go on sale in March."),
    "orchard": ("Orchard growers report record apple harvest", "Apple growers in the valley picked a record crop "
                "this autumn after a mild spring. Cooperatives counted {n} tonnes by the end of October."),
    "museum": ("Museum returns bronze statues to their city", "The national museum handed back {n} bronze statues "
               "taken from the old city a century ago. A ceremony was held in the restored town hall."),
}


def paragraphs(topic: str, n: int = 12) -> list[str]:
    _, lead = TOPICS[topic]
    return [lead.format(n=n),
            f"Officials said the {topic} project had drawn wide support from residents and local businesses.",
            f"A spokesperson described the {topic} decision as the result of two years of planning and talks.",
            f"Further details about the {topic} plans are expected to be published by the council next week.",
            "READ MORE: Council budget vote delayed again Officials had hoped to settle the matter in June."]


def page_html(topic: str, site: str = "Example News", published: dt.date = TODAY, n: int = 12,
              canonical: str = "") -> str:
    return article_page(TOPICS[topic][0], paragraphs(topic, n), site, published, canonical)


def rss(items: list[tuple[str, str, dt.date]], title: str = "Example News") -> str:
    return rss_feed(items, title)


def atom(entries: list[tuple[str, str, dt.date, str]], title: str = "Atom Times") -> str:
    """Atom entries (title, link, date, full text or "" for a teaser)."""
    body = ""
    for t, link, d, text in entries:
        content = (f'<content type="html">{"".join(f"&lt;p&gt;{p}&lt;/p&gt;" for p in text.split(chr(10)))}'
                   "</content>" if text else "<summary>A teaser only.</summary>")
        body += (f"<entry><title>{t}</title><link href=\"{link}\"/><id>{link}</id>"
                 f"<published>{d.isoformat()}T08:00:00Z</published><updated>{d.isoformat()}T08:00:00Z</updated>"
                 f"{content}</entry>")
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>'
            f'<id>urn:atom-times</id><updated>{TODAY.isoformat()}T08:00:00Z</updated>{body}</feed>')


@pytest.fixture
def site() -> Iterator[Site]:
    site = Site()
    yield site
    site.close()


def news_site(site: Site) -> None:
    """Two feeds: RSS 2.0 whose entries are teasers (their pages are fetched) and Atom with one full-text entry."""
    site.routes["/robots.txt"] = Route("User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    for topic in ("harbour", "library"):
        site.routes[f"/news/{topic}.html"] = Route(page_html(topic, canonical=site.url(f"/news/{topic}")))
    site.routes["/rss.xml"] = Route(rss([(TOPICS[t][0], site.url(f"/news/{t}.html"), TODAY)
                                         for t in ("harbour", "library")]), content_type="application/rss+xml")
    site.routes["/atom/rail.html"] = Route(page_html("rail", site="Atom Times"))
    full = "\n".join(paragraphs("orchard") * 6)  # over FULL_TEXT_MIN_WORDS: the entry is the article
    site.routes["/atom.xml"] = Route(atom([(TOPICS["rail"][0], site.url("/atom/rail.html"), TODAY, ""),
                                           (TOPICS["orchard"][0], site.url("/atom/orchard.html"), TODAY, full)]),
                                     content_type="application/atom+xml")


def settings() -> Settings:
    return Settings(fetch=FAST)


def build(urls: list[str], index: Path, **kwargs: object) -> NewsQA:
    return NewsQA.build(urls, index, settings=settings(), **kwargs)


def stored(index: Path) -> dict[str, dict]:
    with NewsQA.open(index).reader.db as db:
        return {r["url"]: dict(r) for r in db.execute("SELECT * FROM articles")}


# ---------------------------------------------------------------- build from feeds


def test_build_from_an_rss_and_an_atom_feed_stores_each_entry_with_its_metadata(site: Site, tmp_path: Path) -> None:
    news_site(site)
    qa = build([site.url("/rss.xml"), site.url("/atom.xml")], tmp_path / "index")
    report = qa.last_report
    assert report.problems == [] and report.added == 4 and report.urls == 2
    articles = stored(tmp_path / "index")
    harbour = articles[site.url("/news/harbour")]  # the page's canonical URL, not the feed's link
    assert harbour["id"] == site.url("/news/harbour")
    assert harbour["title"] == TOPICS["harbour"][0]
    assert harbour["source"] == "Example News"  # the page's site name
    assert harbour["published"] == TODAY.isoformat()
    assert "eight months of repairs" in harbour["text"] and "Copyright" not in harbour["text"]
    assert "READ MORE" not in harbour["text"]  # cleaned as files are (clean.py)
    orchard = articles[site.url("/atom/orchard.html")]  # full text in the feed: its page was never asked for
    assert orchard["source"] == "Atom Times" and "record crop" in orchard["text"]
    assert site.requests("/atom/orchard.html") == []
    assert articles[site.url("/atom/rail.html")]["source"] == "Atom Times"


def test_every_request_names_newsqa_and_asks_robots_txt_once_per_site(site: Site, tmp_path: Path) -> None:
    news_site(site)
    build([site.url("/rss.xml"), site.url("/atom.xml")], tmp_path / "index")
    assert {headers["User-Agent"] for _, _, headers in site.log} == {USER_AGENT}
    assert "newsqa/" in USER_AGENT
    assert len(site.requests("/robots.txt")) == 1


def test_a_rerun_without_changes_downloads_and_embeds_nothing(site: Site, tmp_path: Path) -> None:
    news_site(site)
    urls = [site.url("/rss.xml"), site.url("/atom.xml")]
    build(urls, tmp_path / "index")
    generation = json.loads((tmp_path / "index" / "manifest.json").read_text())["files"]
    report = build(urls, tmp_path / "index").last_report
    assert (report.added, report.updated, report.chunks) == (0, 0, 0)
    assert report.not_modified == 2  # both feeds answered 304: not even their entries were asked for
    assert [status for status, _ in site.requests("/rss.xml")] == [200, 304]
    assert site.requests("/rss.xml")[1][1]["If-None-Match"]
    assert len(site.requests("/news/harbour.html")) == 1
    assert json.loads((tmp_path / "index" / "manifest.json").read_text())["files"] == generation  # no new write


def test_a_changed_entry_is_re_embedded_and_the_unchanged_ones_are_not(site: Site, tmp_path: Path) -> None:
    news_site(site)
    urls = [site.url("/rss.xml")]
    build(urls, tmp_path / "index")
    site.routes["/news/harbour.html"].body = page_html("harbour", n=40, canonical=site.url("/news/harbour"))
    site.routes["/rss.xml"].body += " "  # the feed changed too (a new ETag), so its entries are revalidated
    report = build(urls, tmp_path / "index").last_report
    assert (report.added, report.updated, report.not_modified) == (0, 1, 1)  # library: 304
    assert report.chunks >= 1
    assert "Engineers replaced 40 cables" in stored(tmp_path / "index")[site.url("/news/harbour")]["text"]


def test_a_page_url_is_read_as_one_article(site: Site, tmp_path: Path) -> None:
    site.routes["/story"] = Route(page_html("museum", site="City Herald"))
    report = build([site.url("/story")], tmp_path / "index").last_report
    assert report.added == 1
    (article,) = stored(tmp_path / "index").values()
    assert (article["source"], article["title"]) == ("City Herald", TOPICS["museum"][0])


def test_a_canonical_link_to_the_home_page_or_another_site_is_not_the_articles_id(site: Site, tmp_path: Path) -> None:
    site.routes["/a"] = Route(page_html("museum", canonical=site.url("/")))
    site.routes["/b"] = Route(page_html("orchard", canonical="https://elsewhere.example/story"))
    build([site.url("/a"), site.url("/b")], tmp_path / "index")
    assert set(stored(tmp_path / "index")) == {site.url("/a"), site.url("/b")}


def test_a_page_without_a_site_name_takes_its_domain_as_the_outlet(site: Site, tmp_path: Path) -> None:
    site.routes["/plain"] = Route(page_html("museum").replace('<meta property="og:site_name" content="Example News">',
                                                              "").replace(" | Example News", ""))
    build([site.url("/plain")], tmp_path / "index")
    (article,) = stored(tmp_path / "index").values()
    assert article["source"] == "127.0.0.1"


# ---------------------------------------------------------------- what goes wrong


def bad_site(site: Site) -> dict[str, str]:
    """A feed whose entries are each a bad case; returns path -> the reason expected, or "" for fetched after all."""
    site.routes["/robots.txt"] = Route("User-agent: newsqa\nDisallow: /private/\n", content_type="text/plain")
    site.routes["/slow.html"] = Route(page_html("harbour"), delay=SLOW)
    site.routes["/flaky.html"] = Route(page_html("library"), failures=[(500, {})])
    site.routes["/busy.html"] = Route(page_html("rail"), failures=[(429, {"Retry-After": "1"})])
    site.routes["/too-busy.html"] = Route(page_html("rail"), failures=[(429, {"Retry-After": "3600"})])
    site.routes["/down.html"] = Route(page_html("rail"), failures=[(503, {})] * 9)
    site.routes["/report.pdf"] = Route(b"%PDF-1.4", content_type="application/pdf")
    site.routes["/loop-a"] = Route(status=302, headers={"Location": "/loop-b"}, etag=False)
    site.routes["/loop-b"] = Route(status=302, headers={"Location": "/loop-a"}, etag=False)
    site.routes["/moved"] = Route(status=301, headers={"Location": "/flaky.html"}, etag=False)
    site.routes["/huge.html"] = Route(page_html("orchard").replace("</article>", "<p>" + "word " * 20_000 + "</p>"
                                                                   "</article>"))
    site.routes["/private/memo.html"] = Route(page_html("museum"))
    site.routes["/empty.html"] = Route("<html><body><nav>Home | About</nav></body></html>")
    expected = {
        "/slow.html": "timed out", "/missing.html": "HTTP 404 Not Found", "/flaky.html": "",
        "/busy.html": "", "/too-busy.html": "asks to wait 3600 s, over the 2 s limit",
        "/down.html": "HTTP 503 Service Unavailable after 4 tries", "/report.pdf": "content type application/pdf",
        "/loop-a": "redirect loop", "/huge.html": "over the 0.05 MB limit",
        "/private/memo.html": "robots.txt disallows", "/empty.html": "no article text",
    }
    site.routes["/bad.xml"] = Route(rss([(p, site.url(p), TODAY) for p in expected]),
                                    content_type="application/rss+xml")
    site.routes["/notes.txt"] = Route("plain notes", content_type="text/plain")
    site.routes["/broken.xml"] = Route('<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title><<<',
                                       content_type="application/rss+xml")
    return expected


def test_each_bad_url_is_reported_with_its_reason_and_the_build_goes_on(site: Site, tmp_path: Path) -> None:
    expected = bad_site(site)
    report = build([site.url("/bad.xml"), site.url("/broken.xml"), site.url("/notes.txt")],
                   tmp_path / "index").last_report
    problems = {p.path: p.reason for p in report.problems}
    for path, reason in expected.items():
        if reason:
            assert reason in problems.pop(site.url(path)), path
    assert "malformed XML" in problems.pop(site.url("/broken.xml"))
    assert "content type text/plain" in problems.pop(site.url("/notes.txt"))
    assert problems == {}
    urls = set(stored(tmp_path / "index"))
    assert urls == {site.url("/flaky.html"), site.url("/busy.html")}  # retried and read
    assert [s for s, _ in site.requests("/flaky.html")] == [500, 200]
    assert site.requests("/private/memo.html") == []  # never asked for


def test_a_feed_that_is_not_well_formed_but_has_entries_is_read_with_a_note(site: Site, tmp_path: Path) -> None:
    news_site(site)
    site.routes["/rss.xml"].body = site.routes["/rss.xml"].body.replace("Example News", "News & Views", 1)
    report = build([site.url("/rss.xml")], tmp_path / "index").last_report
    assert report.added == 2 and report.problems == []
    (note,) = report.notes
    assert note.path == site.url("/rss.xml") and "malformed XML" in note.reason and "read 2 entries" in note.reason


def test_a_site_whose_robots_txt_fails_is_not_crawled(site: Site) -> None:
    site.routes["/robots.txt"] = Route("", failures=[(500, {})] * 9)
    site.routes["/news"] = Route(page_html("museum"))
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="robots.txt answered HTTP 500, which means"):
        fetcher.fetch(site.url("/news"))  # RFC 9309: a robots.txt that answers 5xx means disallow all
    assert site.requests("/news") == []


def test_a_redirect_is_followed_to_the_page(site: Site) -> None:
    bad_site(site)
    with Fetcher(FAST) as fetcher:
        page = fetcher.fetch(site.url("/moved"))
    assert page.url == site.url("/flaky.html") and b"<article>" in page.content


def test_a_page_that_does_not_say_its_size_is_cut_off_at_the_limit(site: Site) -> None:
    site.routes["/endless.html"] = Route("<html><body>" + "<p>news</p>" * 20_000 + "</body></html>", length=False)
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="page is larger than the 0.05 MB limit"):
        fetcher.fetch(site.url("/endless.html"))


def test_a_chain_of_redirects_longer_than_the_limit_is_given_up(site: Site) -> None:
    for hop in range(6):
        site.routes[f"/hop{hop}"] = Route(status=301, headers={"Location": f"/hop{hop + 1}"}, etag=False)
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="more than 3 redirects"):
        fetcher.fetch(site.url("/hop0"))
    assert len(site.requests("/hop3")) == 1 and site.requests("/hop4") == []


def test_a_public_only_fetcher_never_sends_a_request_to_this_machine(site: Site) -> None:
    """The public chat's setting: a host on this machine (or a private network) is refused before any
    request, robots.txt included, as every redirect hop is checked the same way."""
    site.routes["/page.html"] = Route(page_html("harbour"))
    with Fetcher(replace(FAST, public_only=True)) as fetcher, pytest.raises(FetchError, match="private network"):
        fetcher.fetch(site.url("/page.html"))
    assert site.log == []
    with Fetcher(FAST) as fetcher:  # the command line's default: a local site is fine
        assert fetcher.fetch(site.url("/page.html")).content


def test_a_refused_connection_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()  # nothing listens there now
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError, match="cannot connect"):
        fetcher.fetch(f"http://127.0.0.1:{port}/news")


def test_a_host_that_does_not_resolve_is_reported_as_a_dns_failure() -> None:
    # The exception httpx raises when getaddrinfo fails (not provoked here: a lookup would leave the machine)
    reason = network_reason(httpx.ConnectError("[Errno -2] Name or service not known"), FAST)
    assert reason == "cannot find the host (DNS lookup failed); check the address"


def test_no_more_than_two_requests_at_a_time_reach_one_host(site: Site) -> None:
    for number in range(8):
        site.routes[f"/p{number}"] = Route(page_html("museum"), delay=0.1)
    with Fetcher(FAST) as fetcher:
        pages = fetcher.fetch_many([(site.url(f"/p{n}"), None) for n in range(8)])
    assert not any(isinstance(p, FetchError) for p in pages)
    assert site.most_in_flight == 2


# ---------------------------------------------------------------- the command line


def test_build_reads_urls_from_a_file_and_prints_their_failures(site: Site, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    news_site(site)
    listing = tmp_path / "feeds.txt"
    listing.write_text(f"# our feeds\n{site.url('/rss.xml')}\n\n{site.url('/nothing-here')}  # gone\n")
    code = cli_main(["build", "--urls", str(listing), "--index", str(tmp_path / "index"), "--quiet",
                     "--timeout", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "2 URLs" in out and "2 added" in out
    assert f"skipped {site.url('/nothing-here')}: HTTP 404 Not Found" in out


def test_a_url_list_with_a_line_that_is_no_url_names_the_line(tmp_path: Path) -> None:
    listing = tmp_path / "feeds.txt"
    listing.write_text("https://example.org/feed.xml\nexample.org/other\n")
    with pytest.raises(ValueError, match=r"feeds.txt:2: 'example.org/other' is not an http\(s\) URL"):
        read_url_list(str(listing))


def dated_index(site: Site, tmp_path: Path) -> Path:
    """Articles from two outlets, published 200, 40 and 0 days ago."""
    for topic, days, outlet in (("harbour", 200, "Example News"), ("library", 40, "City Herald"),
                                ("rail", 0, "City Herald")):
        site.routes[f"/{topic}"] = Route(page_html(topic, site=outlet, published=TODAY - dt.timedelta(days=days)))
    index = tmp_path / "index"
    build([site.url(f"/{t}") for t in ("harbour", "library", "rail")], index)
    return index


def test_remove_before_a_date_and_from_an_outlet(site: Site, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    index = dated_index(site, tmp_path)
    cutoff = (TODAY - dt.timedelta(days=100)).isoformat()
    assert cli_main(["remove", "--before", cutoff, "--index", str(index)]) == 0
    assert set(stored(index)) == {site.url("/library"), site.url("/rail")}
    assert cli_main(["remove", "--source", "city herald", "--before", TODAY.isoformat(), "--index", str(index)]) == 0
    assert set(stored(index)) == {site.url("/rail")}  # both must hold: the one of today stays
    assert cli_main(["remove", "--source", "City Herald", "--index", str(index)]) == 0
    assert stored(index) == {}
    assert "removed 1 articles" in capsys.readouterr().out


def test_remove_before_something_that_is_not_a_day_is_refused(site: Site, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    index = dated_index(site, tmp_path)
    assert cli_main(["remove", "--before", "last week", "--index", str(index)]) == 2
    assert "--before 'last week' is not a day; write it as YYYY-MM-DD" in capsys.readouterr().err
    assert len(stored(index)) == 3


def test_an_index_from_before_urls_takes_urls_without_a_rebuild(site: Site, tmp_path: Path) -> None:
    index = dated_index(site, tmp_path)
    database = index / json.loads((index / "manifest.json").read_text())["files"]["database"]
    with sqlite3.connect(database) as db:
        db.execute("DROP TABLE fetch_state")  # as an index built before feeds were read
    assert NewsQA.open(index).reader.fetch_state() == {}
    site.routes["/museum"] = Route(page_html("museum"))
    assert build([site.url("/museum")], index).last_report.added == 1
    assert build([site.url("/museum")], index).last_report.not_modified == 1


def test_a_removed_page_is_fetched_whole_again_by_the_next_build(site: Site, tmp_path: Path) -> None:
    index = dated_index(site, tmp_path)
    NewsQA.open(index).remove(source="Example News")
    report = build([site.url("/harbour"), site.url("/rail")], index).last_report
    assert (report.added, report.not_modified) == (1, 1)


# ---------------------------------------------------------------- watch


def test_intervals_read_as_seconds_minutes_and_hours() -> None:
    assert [parse_interval(t) for t in ("15m", "30s", "2h", "90")] == [900, 30, 7200, 90]
    with pytest.raises(ValueError, match="bad interval 'soon'"):
        parse_interval("soon")


def test_watch_adds_an_entry_that_appears_between_two_polls(site: Site, tmp_path: Path) -> None:
    news_site(site)
    qa = build([], tmp_path / "index")
    lines = []

    def log(poll: object) -> None:
        lines.append(poll.line())
        items = [(TOPICS[t][0], site.url(f"/news/{t}.html"), TODAY) for t in ("harbour", "library", "museum")]
        site.routes["/news/museum.html"] = Route(page_html("museum"))
        site.routes["/rss.xml"].body = rss(items)

    assert watch(qa, [site.url("/rss.xml")], every=0.1, polls=2, log=log) == 2
    assert "poll 1: 2 added, 0 updated, 0 removed, 0 failed" in lines[0]
    assert "poll 2: 1 added, 0 updated, 0 removed, 0 failed, 2 unchanged; index holds 3 articles" in lines[1]
    assert len(site.requests("/news/harbour.html")) == 2  # asked again, answered 304


def test_watch_keep_days_drops_old_entries_and_expires_old_articles(site: Site, tmp_path: Path) -> None:
    index = dated_index(site, tmp_path)  # 200, 40 and 0 days old
    site.routes["/feed.xml"] = Route(rss([(TOPICS["museum"][0], site.url("/museum"), TODAY - dt.timedelta(days=60)),
                                          (TOPICS["orchard"][0], site.url("/orchard"), TODAY)]),
                                     content_type="application/rss+xml")
    site.routes["/museum"] = Route(page_html("museum"))
    site.routes["/orchard"] = Route(page_html("orchard"))
    qa = NewsQA.open(index, settings=settings())
    poll = poll_once(qa, [site.url("/feed.xml")], keep_days=30)
    assert (poll.added, poll.removed, poll.total) == (1, 2, 2)
    assert set(stored(index)) == {site.url("/rail"), site.url("/orchard")}
    site.routes["/feed.xml"].body += " "  # a changed feed is read again, and its entries revalidated
    again = poll_once(qa, [site.url("/feed.xml")], keep_days=30)
    assert (again.added, again.removed) == (0, 0)
    assert [status for status, _ in site.requests("/museum")] == [200, 304]  # the old entry is remembered


def test_a_poll_while_another_process_writes_is_a_failure_and_watch_goes_on(site: Site, tmp_path: Path) -> None:
    news_site(site)
    qa = build([], tmp_path / "index")
    with FileLock(str(tmp_path / "index" / LOCK)):
        poll = poll_once(qa, [site.url("/rss.xml")], keep_days=None)
    assert poll.added == 0 and "index is locked" in poll.failures[0].reason
    assert poll_once(qa, [site.url("/rss.xml")], keep_days=None, number=2).added == 2


def start_watch(site: Site, index: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "newsqa.cli", "watch", site.url("/rss.xml"), "--index", str(index),
                             "--every", "0.2s", "--timeout", "1", *extra], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def growing_feed(site: Site) -> None:
    """An RSS feed with a new entry each time it is read: every poll of watch writes to the index."""
    count = iter(range(10_000))

    def feed() -> Route:
        number = next(count)
        for n in range(number + 1):
            site.routes.setdefault(f"/live/{n}", Route(page_html(list(TOPICS)[n % 5], n=n)))
        return Route(rss([(f"Update {n}", site.url(f"/live/{n}"), TODAY) for n in range(number + 1)]),
                     content_type="application/rss+xml")

    site.routes["/rss.xml"] = feed


def wait_for_line(process: subprocess.Popen[str], text: str) -> str:
    for line in process.stdout:
        if text in line:
            return line
    raise AssertionError(f"watch ended without printing {text!r}: {process.stderr.read()}")


def test_sigterm_stops_watch_cleanly_and_a_restarted_watch_carries_on(site: Site, tmp_path: Path) -> None:
    news_site(site)
    process = start_watch(site, tmp_path / "index")
    try:
        wait_for_line(process, "poll 2:")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "stopped after" in err and "the index is complete" in err
    assert NewsQA.open(tmp_path / "index").info()["articles"] == 2
    restarted = start_watch(site, tmp_path / "index", "--polls", "1")
    out, _ = restarted.communicate(timeout=120)
    assert restarted.returncode == 0
    assert "poll 1: 0 added, 0 updated, 0 removed, 0 failed, 1 unchanged; index holds 2 articles" in out
    assert len(site.requests("/news/harbour.html")) == 1  # the state of the first watch: the feed answered 304


def wait_for_unfinished_generation(index: Path, seconds: float = 60) -> str:
    """The name of a database file the manifest does not (yet) name: a write under way; "" if none came."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        named = set(json.loads((index / "manifest.json").read_text())["files"].values())
        for path in index.glob("newsqa-*.sqlite"):
            if path.name not in named:
                return path.name
        time.sleep(0.005)
    return ""


def test_kill_9_during_watch_leaves_an_index_that_opens_and_takes_writes(site: Site, tmp_path: Path) -> None:
    growing_feed(site)
    index = tmp_path / "index"
    process = start_watch(site, index)
    try:
        wait_for_line(process, "poll 2:")
        caught = wait_for_unfinished_generation(index)
    finally:
        process.kill()
        process.wait()
    assert caught, "watch wrote no new generation within the wait"
    manifest = json.loads((index / "manifest.json").read_text())
    assert caught not in manifest["files"].values()  # killed while writing it: the manifest names the one before
    qa = NewsQA.open(index)
    held = qa.info()["articles"]
    assert held >= 2 and qa.search("harbour bridge repairs", k=1)
    with sqlite3.connect(index / manifest["files"]["database"]) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    report = build([site.url("/rss.xml")], index).last_report  # the dead watcher's lock is gone with it
    assert report.problems == [] and report.total_articles > held
    assert not (index / caught).exists()  # the killed write's file was cleared away by the next writer
