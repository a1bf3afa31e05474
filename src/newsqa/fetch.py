"""Polite, bounded HTTP fetching of article pages and feeds.

One `Fetcher` per build: it names newsqa in its User-Agent, reads each site's robots.txt once,
asks at most `per_host` things of one host at a time, retries 429 and 5xx answers with backoff
(honouring Retry-After up to a limit), follows redirects up to a limit, stops reading a page past
the size limit, accepts only HTML and feed content types, and sends the ETag and Last-Modified it
was given last time, so an unchanged page comes back as 304 and costs nothing. Every failure is a
`FetchError` whose message is the reason, printed as `url: reason`.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from . import __version__
from .config import FetchSettings

USER_AGENT = f"newsqa/{__version__} (news question answering)"
ROBOTS_AGENT = "newsqa"  # the token robots.txt rules name
PAGE_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
_RETRIED = {429, 500, 502, 503, 504}
_REDIRECTS = {301, 302, 303, 307, 308}
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A URL that could not be fetched; the message is the reason, `status` the HTTP status if one came."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Validators:
    """What a server said identifies a version of a page, sent back to ask "changed since?"."""

    etag: str = ""
    last_modified: str = ""

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True)
class Page:
    """A fetched URL: `url` is where it ended up after redirects; `content` is empty when not modified."""

    url: str
    content: bytes
    media_type: str  # the Content-Type without parameters, lower case ("" when the server sent none)
    validators: Validators
    not_modified: bool = False

    @property
    def is_feed_type(self) -> bool:
        return self.media_type in FEED_TYPES


class Fetcher:
    """Fetches URLs within the limits of `settings`; use as a context manager (it holds connections)."""

    def __init__(self, settings: FetchSettings | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings or FetchSettings()
        self._sleep = sleep
        timeout = httpx.Timeout(self.settings.read_timeout, connect=self.settings.connect_timeout)
        self._client = httpx.Client(headers={"User-Agent": USER_AGENT}, timeout=timeout, follow_redirects=False)
        self._lock = threading.Lock()
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | str | None] = {}
        self._robots_locks: dict[str, threading.Lock] = {}

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def fetch(self, url: str, validators: Validators | None = None) -> Page:
        """The page at `url`, following redirects; FetchError with the reason if it cannot be had."""
        seen = [url]
        current = url
        while True:
            self._check_allowed(current)
            with self._host_slot(current):  # held until the body is read: a slot is a request the host serves
                response = self._get(current, validators or Validators())
                if response.status_code not in _REDIRECTS:
                    return self._page(current, response)
                response.close()
            target = response.headers.get("Location", "")
            if not target:
                raise FetchError(f"HTTP {response.status_code} redirect without a Location")
            current = urljoin(current, target)
            if current in seen:
                raise FetchError(f"redirect loop ({' -> '.join([*seen[seen.index(current):], current])})")
            seen.append(current)
            if len(seen) > self.settings.max_redirects + 1:
                raise FetchError(f"more than {self.settings.max_redirects} redirects")

    def fetch_many(self, requests: Sequence[tuple[str, Validators | None]]) -> list[Page | FetchError]:
        """Each URL fetched (in parallel, within the per-host limit); a failure in its place as a FetchError."""

        def one(request: tuple[str, Validators | None]) -> Page | FetchError:
            try:
                return self.fetch(*request)
            except FetchError as exc:
                return exc

        if len(requests) <= 1:
            return [one(r) for r in requests]
        pool = ThreadPoolExecutor(max_workers=min(self.settings.workers, len(requests)))
        try:
            return list(pool.map(one, requests))
        finally:  # on Ctrl-C, the requests not yet started are dropped, not all made first
            pool.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ one request

    def _get(self, url: str, validators: Validators) -> httpx.Response:
        """The response to one GET (body not yet read), after retrying 429 and 5xx answers."""
        for attempt in range(self.settings.retries + 1):
            response = self._send(url, validators.headers())
            if response.status_code not in _RETRIED:
                return response
            response.close()
            wait = self._retry_wait(response, attempt)
            if attempt == self.settings.retries:
                break
            self._sleep(wait)
        raise FetchError(f"HTTP {response.status_code} {response.reason_phrase} after {self.settings.retries + 1} "
                         "tries; try again later", response.status_code)

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float:
        """Seconds to wait before the next try: what Retry-After asks, else exponential backoff."""
        asked = retry_after(response.headers.get("Retry-After", ""))
        if asked is None:
            return self.settings.backoff * 2 ** attempt
        if asked > self.settings.max_retry_after:
            raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}: the server asks to wait "
                             f"{asked:.0f} s, over the {self.settings.max_retry_after:g} s limit; try again later",
                             response.status_code)
        return asked

    def _send(self, url: str, headers: dict[str, str]) -> httpx.Response:
        try:
            response = self._client.send(self._client.build_request("GET", url, headers=headers), stream=True)
        except httpx.HTTPError as exc:
            raise FetchError(network_reason(exc, self.settings)) from None
        except ValueError as exc:  # a URL httpx cannot even build a request for
            raise FetchError(f"not a valid http(s) URL ({exc})") from None
        if response.status_code >= 400 and response.status_code not in _RETRIED:
            response.close()
            raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}", response.status_code)
        return response

    def _page(self, url: str, response: httpx.Response) -> Page:
        try:
            validators = Validators(response.headers.get("ETag", ""), response.headers.get("Last-Modified", ""))
            if response.status_code == 304:
                return Page(url, b"", "", validators, not_modified=True)
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if media_type and media_type not in PAGE_TYPES + FEED_TYPES:
                raise FetchError(f"not a web page or feed (content type {media_type}); newsqa reads HTML pages "
                                 "and RSS or Atom feeds")
            return Page(url, self._body(response), media_type, validators)
        finally:
            response.close()

    def _body(self, response: httpx.Response) -> bytes:
        """The body, decompressed, read to at most the size limit (so a gzip bomb stops there too), within the
        connect and read timeouts overall (a server that trickles bytes never trips the per-read timeout)."""
        limit = self.settings.max_page_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(_too_large(int(declared), limit))
        allowed = self.settings.connect_timeout + self.settings.read_timeout
        deadline = time.monotonic() + allowed
        body = bytearray()
        try:
            for chunk in response.iter_bytes(_CHUNK):
                body += chunk
                if len(body) > limit:
                    raise FetchError(_too_large(len(body), limit, at_least=True))
                if time.monotonic() > deadline:
                    raise FetchError(f"timed out: the page took over {allowed:g} s to arrive")
        except httpx.HTTPError as exc:
            raise FetchError(network_reason(exc, self.settings)) from None
        return bytes(body)

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            slot = self._hosts.get(host)
            if slot is None:
                slot = self._hosts[host] = threading.BoundedSemaphore(self.settings.per_host)
        return slot

    # ------------------------------------------------------------------ robots.txt

    def _check_allowed(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("not an http(s) URL")
        if self.settings.public_only and not is_public_host(parts.hostname):  # each hop: a redirect may go inward
            raise FetchError(PRIVATE_HOST)
        robots = self._robots_for(f"{parts.scheme}://{parts.netloc}")
        if isinstance(robots, str):
            raise FetchError(robots)
        if robots is not None and not robots.can_fetch(ROBOTS_AGENT, url):
            raise FetchError("robots.txt disallows fetching this page")

    def _robots_for(self, origin: str) -> urllib.robotparser.RobotFileParser | str | None:
        """The site's robots.txt rules, read once per site: None when no rules apply, or why the whole
        site is off limits."""
        with self._lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:  # one read per site, however many pages of it are fetched at once
            if origin not in self._robots:
                self._robots[origin] = self._read_robots(origin)
            return self._robots[origin]

    def _read_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | str | None:
        parser = urllib.robotparser.RobotFileParser(f"{origin}/robots.txt")
        try:
            with self._host_slot(origin):
                response = self._get(f"{origin}/robots.txt", Validators())
                try:
                    if response.status_code != 200:  # a redirect or other oddity: read as no rules
                        return None
                    text = self._body(response).decode("utf-8", "replace")
                finally:
                    response.close()
        except FetchError as exc:
            if exc.status is not None and exc.status >= 500:  # RFC 9309: take the whole site as disallowed
                return (f"the site's robots.txt answered HTTP {exc.status}, which means no page may be fetched "
                        "(RFC 9309); try again later")
            return None  # none (4xx: RFC 9309 allows all), or unreachable: the page's own fetch says why
        parser.parse(text.splitlines())
        return parser


def retry_after(value: str) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date); None if absent or unreadable."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def network_reason(exc: httpx.HTTPError, settings: FetchSettings) -> str:
    """One line for a request that got no answer: DNS, refused, timed out."""
    text = str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out connecting (no connection in {settings.connect_timeout:g} s)"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out (no answer in {settings.read_timeout:g} s)"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "not an http(s) URL"
    if isinstance(exc, httpx.ConnectError):
        if any(s in text for s in ("Name or service not known", "nodename nor servname", "name resolution",
                                   "No address associated", "getaddrinfo failed")):
            return "cannot find the host (DNS lookup failed); check the address"
        return f"cannot connect ({text or 'connection failed'})"
    return f"network error ({type(exc).__name__}: {text[:200]})"


def _too_large(size: int, limit: int, at_least: bool = False) -> str:
    """Why a page was skipped for its size: the size it declared, or (none declared) where reading stopped."""
    shown = f"larger than the {limit / 1e6:g} MB limit" if at_least else (
        f"{size / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit")
    return f"page is {shown}; skipped (raise the limit with --max-page-mb)"


PRIVATE_HOST = "on this server's own machine or a private network; not fetched"


def is_public_host(host: str) -> bool:
    """Whether every address `host` resolves to is a public one. A name that does not resolve counts as
    public: fetching it fails, and the report says so as for any other failure. (The name is resolved
    again to connect, so a DNS server that answers differently the second time is not stopped.)"""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return True
    return all(ipaddress.ip_address(info[4][0].split("%", 1)[0]).is_global for info in infos)


def is_url(item: object) -> bool:
    return isinstance(item, str) and item.lower().startswith(("http://", "https://"))


def split_urls(items: Iterable[object]) -> tuple[list[str], list[object]]:
    """(URLs, everything else), each in the given order."""
    urls, rest = [], []
    for item in items:
        (urls if is_url(item) else rest).append(item)
    return urls, rest
