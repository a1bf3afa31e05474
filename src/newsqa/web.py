"""URLs in: RSS/Atom feeds and article pages, fetched politely (fetch.py), out as `Article`s.

A feed's entries are read with feedparser; each entry's page is fetched and its article extracted
as the HTML loader does (`ingest.extract_page`), unless the entry itself holds the full text. An
article's id is its canonical URL, so a page fetched again with new text updates its article. What
each URL's server said identifies its version (ETag, Last-Modified) is kept in the index
(`store.FetchState`) and sent back next time: an unchanged page or feed is answered 304 and is
neither downloaded nor embedded again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .config import FetchSettings
from .fetch import FEED_TYPES, PAGE_TYPES, Fetcher, FetchError, Page, Validators
from .ingest import SkipRecord, domain, extract_page, make_article
from .normalize import decode
from .storage import FetchState
from .types import Article, Problem

# An entry's own content counts as the full article from this many words; a shorter one is taken for a
# teaser and the page is fetched. The demo corpus's articles have a median of 430 words and 88% have 150
# or more, so a full text below this costs one page fetch, while a long teaser is rarely taken for an article.
FULL_TEXT_MIN_WORDS = 150
# Fewer words than this is what trafilatura keeps of a page that has no article (a menu, a cookie notice).
# It is the demo corpus's 1st percentile of article length; the 36 of its 3,781 articles below it are
# mostly fragments of 2 to 8 words.
MIN_PAGE_WORDS = 30
_SNIFF_BYTES = 2048  # how far into a body without a Content-Type to look for a feed's root element
_FEED_ROOTS = (b"<rss", b"<feed", b"<rdf:RDF")
_BLOCK_TAGS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "section", "article")


@dataclass
class WebResult:
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    state: list[FetchState] = field(default_factory=list)  # validators to remember, one per URL fetched whole
    not_modified: int = 0  # URLs the server said are unchanged since last time


def load_urls(urls: Iterable[str], settings: FetchSettings | None = None,
              state: dict[str, FetchState] | None = None, since: str = "") -> WebResult:
    """Fetch each URL (a feed or an article page) and read its articles. `state` is what the index
    remembers of earlier fetches; articles published before `since` (an ISO date) are left out."""
    result = WebResult()
    with Fetcher(settings) as fetcher:
        loader = _Loader(fetcher, state or {}, since, result)
        for url in dict.fromkeys(urls):
            loader.load(url)
    return result


class _Loader:
    def __init__(self, fetcher: Fetcher, state: dict[str, FetchState], since: str, result: WebResult) -> None:
        self.fetcher = fetcher
        self.state = state
        self.since = since
        self.result = result
        self.now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def validators(self, url: str) -> Validators | None:
        known = self.state.get(url)
        return Validators(known.etag, known.last_modified) if known else None

    def load(self, url: str) -> None:
        try:
            page = self.fetcher.fetch(url, self.validators(url))
        except FetchError as exc:
            self.result.problems.append(Problem(url, str(exc)))
            return
        if page.not_modified:
            self.result.not_modified += 1
        elif is_feed(page):
            self.load_feed(url, page)
        else:
            self.load_page(url, page)

    def load_page(self, url: str, page: Page, entry: dict[str, object] | None = None) -> bool:
        """Read the page's article; False (with the reason reported) if it has none. What the feed said of
        it (`entry`) gives the title and date; the page gives its canonical URL and site name."""
        try:
            record = extract_page(decode(page.content), page.url)
            words = len(str(record["text"]).split())
            if words < MIN_PAGE_WORDS:
                raise ValueError(f"no article text found in the page (only {words} words outside its navigation)")
        except (ValueError, UnicodeDecodeError) as exc:
            self.result.problems.append(Problem(url, str(exc)))
            return False
        entry = entry or {}
        for name in ("title", "published"):
            record[name] = entry.get(name) or record.get(name)
        record["url"] = canonical(str(record.get("url") or ""), page.url)
        record["source"] = record.get("source") or entry.get("source")
        kept = self.add({**record, "id": record["url"]}, url)
        if kept is not None:
            self.remember(url, page.validators, kept)
        return kept is not None

    def load_feed(self, url: str, page: Page) -> None:
        import feedparser  # imported on the first feed

        parsed = feedparser.parse(page.content, response_headers={"content-location": page.url})
        if parsed.bozo and not parsed.entries:
            self.result.problems.append(Problem(url, _feed_error(parsed)))
            return
        if parsed.bozo:
            self.result.notes.append(Problem(url, f"{_feed_error(parsed)}; read {len(parsed.entries)} entries "
                                                  "leniently"))
        outlet = str(parsed.feed.get("title") or "").strip() or domain(str(parsed.feed.get("link") or page.url))
        to_fetch: list[tuple[str, dict[str, object]]] = []
        for entry in parsed.entries:
            meta = _entry_record(entry, outlet)
            text = _entry_text(entry)
            if len(text.split()) >= FULL_TEXT_MIN_WORDS or not meta["url"]:
                self.add({**meta, "text": text, "id": meta["url"] or entry.get("id")}, url)
            else:
                to_fetch.append((str(meta["url"]), meta))
        pages = self.fetcher.fetch_many([(link, self.validators(link)) for link, _ in to_fetch])
        complete = True
        for (link, meta), fetched in zip(to_fetch, pages):
            if isinstance(fetched, FetchError):
                self.result.problems.append(Problem(link, str(fetched)))
                complete = False
            elif fetched.not_modified:
                self.result.not_modified += 1
            else:
                complete = self.load_page(link, fetched, meta) and complete
        if complete:  # a feed with a failed entry is read whole again next time, so the entry is tried again
            self.remember(url, page.validators, "")

    def add(self, record: dict[str, object], origin: str) -> str | None:
        """Keep the record as an article unless it was published before `since`: its id, "" when left
        out for its date, None (with the reason reported) when it is no article."""
        notes: list[str] = []
        try:
            article = make_article(record, origin=origin, notes=notes)
        except SkipRecord as exc:
            self.result.problems.append(Problem(origin, str(exc)))
            return None
        self.result.notes += [Problem(origin, note) for note in notes]
        if self.since and article.published and article.published < self.since:
            return ""  # past the window kept: remembered without an article, so not fetched again while unchanged
        self.result.articles.append(article)
        return article.id

    def remember(self, url: str, validators: Validators, article_id: str) -> None:
        if validators.etag or validators.last_modified:
            self.result.state.append(FetchState(url, validators.etag, validators.last_modified, article_id, self.now))


def canonical(declared: str, fetched: str) -> str:
    """The page's own canonical URL if it names one on the same site and past the home page, else where it
    was fetched from: the URL is the article's id, and a canonical link to the home page (a common
    misconfiguration) or to another site would make many articles one, or one article another's."""
    parts = urlsplit(declared)
    if parts.scheme in ("http", "https") and domain(declared) == domain(fetched) and parts.path.strip("/"):
        return declared
    return fetched


def is_feed(page: Page) -> bool:
    if page.media_type in PAGE_TYPES:
        return False
    if page.media_type in FEED_TYPES:
        return True
    head = page.content[:_SNIFF_BYTES]
    return any(root in head for root in _FEED_ROOTS)


def _feed_error(parsed: object) -> str:
    exc = parsed.get("bozo_exception")  # type: ignore[attr-defined]
    line = getattr(exc, "getLineNumber", lambda: None)()
    where = f" at line {line}" if line else ""
    if exc is not None and type(exc).__name__ == "SAXParseException":
        return f"malformed XML in the feed ({getattr(exc, 'getMessage', lambda: str(exc))()}{where})"
    if not parsed.get("version"):  # type: ignore[attr-defined]
        return "not an RSS or Atom feed (no <rss> or <feed> element)"
    return f"cannot read the feed ({str(exc)[:200]})"


def _entry_record(entry: dict[str, object], outlet: str) -> dict[str, object]:
    """What a feed says of an entry: title, link, date (published, else updated) and the feed's outlet."""
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    published = dt.date(*when[:3]).isoformat() if when else ""  # type: ignore[index]
    return {"title": entry.get("title") or "", "url": entry.get("link") or "", "published": published,
            "source": outlet}


def _entry_text(entry: dict[str, object]) -> str:
    """The entry's own text: its content, else its summary, as plain text with paragraph breaks."""
    contents: list[dict[str, object]] = entry.get("content") or []  # type: ignore[assignment]
    html = " ".join(str(c.get("value") or "") for c in contents) or str(entry.get("summary") or "")
    return fragment_text(html)


def fragment_text(html: str) -> str:
    """Plain text of an HTML fragment, a blank line after each block element."""
    import lxml.html
    from lxml.etree import ParserError

    if "<" not in html:
        return html.strip()
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ParserError, ValueError):
        return ""
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n\n" + (element.tail or "")
    for element in root.iter("br"):
        element.tail = "\n" + (element.tail or "")
    return root.text_content().strip()
