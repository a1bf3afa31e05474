"""`newsqa watch`: poll feeds into an index on a schedule, and let old articles go.

Each poll is one `NewsQA.add` of the feeds (conditional GETs: an unchanged feed costs one request
and no write) and, with `keep_days`, one removal of the articles dated before the window. All that
a poll learns (validators, articles) is in the index, so a restarted watch carries on where the last
one stopped. SIGINT and SIGTERM stop it between polls; a second one stops it at once, and the write
under way is then discarded whole by the store (its generations commit atomically).
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from .qa import NewsQA
from .storage import IndexLocked
from .types import Problem

STOP_LATENCY = 0.25  # seconds between looks at the stop flag while waiting for the next poll
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.I)


def parse_interval(text: str) -> float:
    """`15m` -> 900.0; a bare number is seconds."""
    match = _INTERVAL.match(text or "")
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"bad interval {text!r}: write a positive number with s, m, h or d, e.g. 15m")
    return float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]


@dataclass
class Poll:
    """What one poll did: the line `newsqa watch` logs."""

    number: int
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0  # articles read again unchanged, and pages and feeds not modified
    total: int = 0
    failures: list[Problem] = field(default_factory=list)

    def line(self) -> str:
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        return (f"{now} poll {self.number}: {self.added} added, {self.updated} updated, {self.removed} removed, "
                f"{len(self.failures)} failed, {self.unchanged} unchanged; index holds {self.total} articles")


def poll_once(qa: NewsQA, feeds: Sequence[str], keep_days: int | None, number: int = 1) -> Poll:
    """Fetch the feeds into the index, then remove what is older than `keep_days` days. An index another
    process is writing to (locked) is a failed poll, tried again at the next one."""
    since = (dt.date.today() - dt.timedelta(days=keep_days)).isoformat() if keep_days else ""
    try:
        report = qa.add(feeds, since=since)
    except IndexLocked as exc:
        return Poll(number, total=qa.info()["articles"], failures=[Problem(str(qa.index_dir), str(exc))])
    removed = 0
    try:
        removed = qa.remove(before=since) if since else 0
    except IndexLocked as exc:
        report.problems.append(Problem(str(qa.index_dir), str(exc)))
    return Poll(number, report.added, report.updated, removed, report.unchanged + report.not_modified,
                qa.info()["articles"], report.problems)


def watch(qa: NewsQA, feeds: Sequence[str], every: float, keep_days: int | None = None, polls: int = 0,
          log: Callable[[Poll], None] = print) -> int:
    """Poll every `every` seconds until stopped (or `polls` times, if given); returns the polls made."""
    with _stop_on_signals() as stop:
        number = 0
        while not stop.requested:
            number += 1
            log(poll_once(qa, feeds, keep_days, number))
            if polls and number >= polls:
                break
            stop.wait(every)
    return number


class _Stop:
    """Set by a signal handler: a plain flag, as a handler must not take locks (threading.Event does)."""

    def __init__(self) -> None:
        self.requested = False

    def wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking within STOP_LATENCY of a stop request."""
        deadline = time.monotonic() + seconds
        while not self.requested and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, STOP_LATENCY))


@contextmanager
def _stop_on_signals() -> Iterator[_Stop]:
    """A flag set by the first SIGINT or SIGTERM; a second one raises KeyboardInterrupt (stop now)."""
    stop = _Stop()

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
