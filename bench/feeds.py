"""Feeds: what a build from an RSS feed costs, and what conditional GETs save on the runs after it.

Run:
  .venv/bin/python bench/feeds.py [--articles 100] [--delay 0.05]
Serves News100's articles as pages (each answering `--delay` seconds late, as a remote site would)
and one RSS feed of them from a local server on 127.0.0.1, then times four builds into a new index:
the first; again unchanged (the feed answers 304); after one new entry (the feed is read, every
known page answers 304, the new one is fetched); after one page's text changed. For each: wall
seconds, requests the server saw (and how many answered 304), articles added/updated, chunks
embedded. Writes bench/results/feeds.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write  # noqa: E402
from local_site import Route, Site, article_page, rss_feed  # noqa: E402

from newsqa import NewsQA  # noqa: E402
from newsqa.corpora import news_records  # noqa: E402
from newsqa.embedding import load_embedder  # noqa: E402

HEAD = "| run | seconds | requests | 304 answers | added | updated | chunks embedded |\n|---|---|---|---|---|---|---|"


def paragraphs(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def serve(site: Site, articles: list, delay: float) -> list[tuple[str, str, dt.date]]:
    """Each article as a page of the site; returns the feed's items."""
    items = []
    for number, article in enumerate(articles):
        path = f"/news/{number}.html"
        published = dt.date.fromisoformat(article.published) if len(article.published) == 10 else dt.date.today()
        page = article_page(article.title, paragraphs(article.text), article.source or "News100", published)
        site.routes[path] = Route(page, delay=delay)
        items.append((article.title, site.url(path), published))
    return items


def run(name: str, site: Site, urls: list[str], index: Path) -> str:
    before = len(site.log)
    started = time.perf_counter()
    report = NewsQA.build(urls, index).last_report
    seconds = time.perf_counter() - started
    asked = site.log[before:]
    not_modified = sum(status == 304 for _, status, _ in asked)
    row = (f"| {name} | {seconds:.1f} | {len(asked)} | {not_modified} | {report.added} | {report.updated} | "
           f"{report.chunks} |")
    print(row, flush=True)
    if report.problems:
        print("\n".join(f"  {p}" for p in report.problems), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100, help="News100 articles served (default 100)")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds each page answers late (default 0.05)")
    args = parser.parse_args()
    articles = [r.article for r in news_records("News100")][: args.articles]
    load_embedder("all-MiniLM-L6-v2")  # loaded before the clock, as a running watch has it loaded
    site = Site()
    try:
        items = serve(site, articles, args.delay)
        site.routes["/rss.xml"] = Route(rss_feed(items, "News100"), content_type="application/rss+xml")
        urls = [site.url("/rss.xml")]
        print(HEAD)
        with tempfile.TemporaryDirectory() as folder:
            index = Path(folder) / "index"
            rows = [run("first build", site, urls, index), run("unchanged", site, urls, index)]
            extra = articles[0]
            site.routes["/news/new.html"] = Route(article_page("A new entry", paragraphs(extra.text)[::-1], "News100",
                                                              dt.date.today()))
            site.routes["/rss.xml"] = Route(rss_feed([*items, ("A new entry", site.url("/news/new.html"),
                                                                dt.date.today())], "News100"),
                                            content_type="application/rss+xml")
            rows.append(run("one new entry", site, urls, index))
            page = site.routes["/news/1.html"]
            page.body = page.body.replace("</article>", "<p>An update added to the story this afternoon.</p>"
                                                        "</article>")
            site.routes["/rss.xml"].body += " "  # a feed changes when a story does (its date, its teaser)
            rows.append(run("one page changed", site, urls, index))
    finally:
        site.close()
    body = (f"`python bench/feeds.py --articles {args.articles} --delay {args.delay}`: News100 articles as pages "
            f"of a local site (each answering {args.delay} s late) and one RSS feed; default FetchSettings "
            "(2 requests at a time per host).\n\n" + HEAD + "\n" + "\n".join(rows) + "\n")
    print(f"wrote {write('feeds', 'Feeds: first build and conditional re-runs', body)}")


if __name__ == "__main__":
    main()
