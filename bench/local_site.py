"""A web site on 127.0.0.1 for the feed tests and bench/feeds.py: routes by path, ETags, scripted failures.

Each route is a fixed answer (`Route`) or a function that makes one per request. A route with an ETag
answers a matching If-None-Match with 304, as a real server does; `failures` are answers given before
the real one (a 500, a 429 with Retry-After). Every request is logged with its headers, and the most
requests in flight at once is counted (the fetcher's per-host limit).

    site = Site()
    site.routes["/rss.xml"] = Route(feed_xml, content_type="application/rss+xml")
    NewsQA.build([site.url("/rss.xml")], "index")
    site.close()
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    etag: bool = True  # send an ETag (a hash of the body) and answer If-None-Match with 304
    length: bool = True  # send Content-Length; without it the body ends when the connection closes
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # answers before the real one


class Site:
    """A web site on 127.0.0.1: `routes` by path, changed by tests between requests; `log` of what was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | Callable[[], Route]] = {}
        self.log: list[tuple[str, int, dict[str, str]]] = []  # (path, status, request headers)
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                site.answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        route = self.routes.get(path)
        route = route() if callable(route) else route
        status, headers, body = self.respond(route, handler)
        self.log.append((path, status, dict(handler.headers)))
        # Counted from the request's arrival until its answer starts: a client has a request open at least
        # that long. (Counted to the end of the write, a client that has read the whole body and sent its
        # next request could be seen overlapping the handler that is still returning.)
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(route.delay if route is not None else 0)
        finally:
            with self.lock:
                self.in_flight -= 1
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            if route is None or route.length:
                handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout, a page too large)

    @staticmethod
    def respond(route: Route | None, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        if route is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        if route.failures:
            status, headers = route.failures.pop(0)
            return status, headers, b"try later"
        body = route.body.encode() if isinstance(route.body, str) else route.body
        headers = {"Content-Type": route.content_type, **route.headers}
        if route.etag:
            tag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            headers["ETag"] = tag
            if handler.headers.get("If-None-Match") == tag:
                return 304, {"ETag": tag}, b""
        return route.status, headers, body

    def requests(self, path: str) -> list[tuple[int, dict[str, str]]]:
        return [(status, headers) for p, status, headers in self.log if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def article_page(title: str, paragraphs: list[str], site: str, published: dt.date, canonical: str = "") -> str:
    """A news article page as sites make them: site name and date in meta tags, a menu and a footer."""
    title, site = escape(title), escape(site)
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    link = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    return (f"<html><head><title>{title} | {site}</title>{link}<meta property=\"og:site_name\" content=\"{site}\">"
            f"<meta property=\"article:published_time\" content=\"{published.isoformat()}T08:00:00Z\"></head>"
            f"<body><nav><a href=\"/\">Home</a></nav><article><h1>{title}</h1>{body}</article>"
            f"<footer>Copyright {site}</footer></body></html>")


def rss_feed(items: list[tuple[str, str, dt.date]], title: str) -> str:
    """RSS 2.0 with one teaser item per (title, link, date)."""
    entries = "".join(f"<item><title>{escape(t)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
                      f"<pubDate>{format_datetime(dt.datetime(d.year, d.month, d.day, 8, tzinfo=dt.timezone.utc))}"
                      f"</pubDate><description>A short teaser.</description></item>" for t, link, d in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>http://example.test/</link><description>News</description>{entries}</channel></rss>")
