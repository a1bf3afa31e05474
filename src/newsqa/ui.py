"""The Gradio chat: it only renders what `NewsQA` returns.

Article text, titles and URLs are untrusted: everything put into HTML goes
through `html.escape`, and only http(s) links become links. Chat messages are
escaped too and shown without Markdown, so an article cannot inject markup.

Visitors cannot change what others read: uploads go into the uploading session's
own copy of the index (its overlay), and an uploaded record never replaces an
article of the shared index. Writing to the shared index is the operator's
choice (`newsqa serve --allow-writes` or NEWSQA_ALLOW_WRITES=1), and then takes
the operator token (NEWSQA_OPERATOR_TOKEN) typed into the upload panel.

Every handler is reachable over Gradio's queue by its fn_index, as the browser
reaches it, whatever its api_visibility: each checks its inputs' types and sizes.
"""

from __future__ import annotations

import atexit
import hmac
import html
import logging
import os
import queue
import re
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from .answer.chat import public_name  # noqa: E402
from .answer.compose import also_reported, human_date  # noqa: E402
from .indexing import BuildReport  # noqa: E402
from .fetch import is_public_host, is_url  # noqa: E402
from .ingest import SUPPORTED, IngestResult, load_paths  # noqa: E402
from .qa import NewsQA  # noqa: E402
from .question import MAX_QUESTION_CHARS, message_text  # noqa: E402
from .reporting import BEFORE_OUTCOME  # noqa: E402
from .reporting import said_differently, said_later  # noqa: E402
from .storage import StoreError, is_database_url  # noqa: E402
from .types import Answer, Article, Citation, Conflict, Hit, Problem  # noqa: E402
from .web import WebResult, load_urls  # noqa: E402

# Each asked of the demo index answers without abstaining and cites (tests/test_ui.py asks them all).
EXAMPLES = [
    "Why did the US sanction Turkey?",
    "When will Britain trigger Article 50?",
    "Why did the Oscars announce the wrong best picture?",
    "How many people were killed in the attack on the Sehwan shrine?",
]
MAX_FILES = 20
MAX_FILE_MB = 10
# Pasted web addresses at a time: each may be a feed whose every entry is fetched and embedded, and adding
# holds the one upload slot every visitor shares (concurrency_limit=1).
MAX_URLS = 5
MAX_URL_CHARS = 2_000
# Inputs a browser sends, bounded for clients that send anything: a long chat in the page holds
# about 2 x 100 messages of under 2,000 characters each; the date pickers send YYYY-MM-DD.
MAX_HISTORY_MESSAGES = 400
MAX_HISTORY_CHARS = 1_000_000
MAX_SOURCES = 200
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CITE = re.compile(r"\[(\d+)\]")
SHOW_LINK = re.compile(r"<a class=['\"]nq-show['\"][^>]*>[^<]*</a>")
MARKUP = re.compile(r"<[^>]*>")  # only the tags answer_message adds: every other < in a message is escaped
# Each uploading session holds a copy of the index (37 MB for the demo index) until it expires.
MAX_SESSION_COPIES = 50
ASK_CONCURRENCY = 4  # answers computed at once (2 cores; see bench/load.py)
QUEUE_SIZE = 256  # waiting events past which a visitor is told the queue is full
WELCOME_OUTLETS = 4
BUTTON_MIN_WIDTH = 100  # px: Ask and Clear side by side on a 390 px phone (Gradio's 160 stacked them)  # outlets named in the welcome message
TICK_S = 1.0  # how often "Writing the answer… N s" counts up while a model has not begun
ALLOW_WRITES_VARIABLE = "NEWSQA_ALLOW_WRITES"
# The server fetches what a visitor pastes: addresses on its own machine or network (127.0.0.1, 10.x,
# 169.254.169.254) are refused unless the operator serves a private site on purpose (and the tests' site).
FETCH_PRIVATE_VARIABLE = "NEWSQA_FETCH_PRIVATE"
TOKEN_VARIABLE = "NEWSQA_OPERATOR_TOKEN"
MIN_TOKEN_CHARS = 16  # a token a visitor could guess in the time a server runs is no token
UPLOAD_NOTE = ("Articles you add are for this session only: other visitors do not see them, and an article "
               "already in the index is never replaced.")
UPLOAD_NOTE_WRITES = ("Articles you add are for this session only, unless you give the operator token: then "
                      "they go into the index every visitor reads. An article already in the index is never "
                      "replaced.")
log = logging.getLogger("newsqa.ui")
CSS = """
.nq-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px; margin-bottom: 10px;
          scroll-margin: 12px;}
.nq-card .nq-num {font-weight: 700; margin-right: 4px;}
.nq-card .nq-of {float: right; font-size: 0.8em; color: var(--body-text-color-subdued);}
.nq-card .nq-meta {color: var(--body-text-color-subdued); font-size: 0.9em; margin: 2px 0 6px;}
.nq-card blockquote {margin: 0 0 6px; padding-left: 10px; border-left: 3px solid var(--border-color-primary);}
.nq-card mark {background: #fff3a3; color: inherit; padding: 0 1px;}
.nq-card.nq-hl {outline: 3px solid var(--color-accent); outline-offset: 1px;}
.nq-abstained {border: 1px dashed #b26b00; border-radius: 8px; padding: 10px 12px; background: #fff8ec; color: #5c3700;
               margin-bottom: 10px;}
.nq-empty {color: var(--body-text-color-subdued);}
.nq-notice {border-left: 3px solid #b26b00; padding: 4px 10px; margin-bottom: 10px; font-size: 0.9em;}
.nq-answer > summary {cursor: pointer; font-weight: 600; margin-bottom: 8px;}
.nq-answer:not([open]) > summary {color: var(--body-text-color-subdued); font-weight: 400;}
a.nq-cite, a.nq-show {color: var(--color-accent); text-decoration: underline; cursor: pointer;}
a.nq-show {font-size: 0.85em;}
#nq-chat [data-testid=bot] {cursor: pointer;}
#nq-chip {align-self: flex-start; width: auto; min-width: 0;}
#nq-coverage table {font-size: 0.85em; width: auto;}
#nq-coverage th, #nq-coverage td {padding: 2px 8px;}
#nq-chat .message-wrap {padding-top: 12px;}
.nq-flag {display: inline-block; font-weight: 700; font-size: 0.9em; border-radius: 4px; padding: 0 6px;}
.nq-disagree {background: #ffe1dc; color: #8a1c0c;}
.nq-update {background: #dcecff; color: #0b3f7a;}
.nq-when {font-weight: 700;}
.nq-report {border-radius: 8px; padding: 8px 12px; margin-bottom: 10px; font-size: 0.95em;}
.nq-report.nq-disagree, .nq-report.nq-update {background: none; color: inherit;}
.nq-report.nq-disagree {border: 1px solid #d9826f;}
.nq-report.nq-update {border: 1px solid #7fa9d9;}
.nq-report ul {margin: 4px 0 0; padding-left: 18px;}
.nq-card .nq-also {font-size: 0.9em; margin-bottom: 6px;}
"""
# Links in answers ([n], "Sources", the closest articles) open their answer's sources and bring the card into
# view, in the page: no round trip. The chat's copy button copies a message's content, which is HTML here
# (the links): the copy is made plain text again, as the reader sees it.
HEAD = """<script>
(() => {
  const show = (answer, card, where) => {
    const section = document.getElementById('nq-a' + answer);
    if (!section) return;
    section.open = true;
    const target = (card && document.getElementById('nq-a' + answer + '-c' + card)) || section;
    document.querySelectorAll('.nq-hl').forEach(e => e.classList.remove('nq-hl'));
    if (card) target.classList.add('nq-hl');
    target.scrollIntoView({behavior: 'smooth', block: where});
  };
  document.addEventListener('click', e => {
    if (!(e.target instanceof Element)) return;
    const link = e.target.closest('a[href^="#nq-a"]');
    const bot = e.target.closest('#nq-chat [data-testid=bot]');
    const toggle = link || (bot && !e.target.closest('button') && bot.querySelector('a.nq-show'));
    const m = toggle && toggle.getAttribute('href').match(/^#nq-a(\\d+)(?:-c(\\d+))?$/);
    if (!m) return;
    e.preventDefault();
    if (link) e.stopPropagation();
    show(m[1], m[2], link ? 'start' : 'nearest');
  }, true);
  // A new question scrolls the chat to it, even when the reader had scrolled up to an earlier answer
  // (Gradio's autoscroll stops once the reader scrolls, and its scroll-down arrow then covers the last message).
  let rows = 0;
  new MutationObserver(() => {
    const wrap = document.querySelector('#nq-chat .bubble-wrap');
    const n = wrap ? wrap.querySelectorAll('.message-row').length : 0;
    if (n > rows) wrap.scrollTo({top: wrap.scrollHeight});
    rows = n;
  }).observe(document.documentElement, {childList: true, subtree: true});
  const write = navigator.clipboard && navigator.clipboard.writeText.bind(navigator.clipboard);
  if (write) navigator.clipboard.writeText = text => {
    if (!/<a class=.nq-/.test(text)) return write(text);
    const doc = new DOMParser().parseFromString(text, 'text/html');
    doc.querySelectorAll('.nq-show').forEach(e => e.remove());
    return write(doc.body.textContent.trim());
  };
})();
</script>"""
THEME = gr.themes.Soft(font=[gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "sans-serif"])


# ------------------------------------------------------------------ rendering (pure functions)


def safe_url(url: str) -> str:
    return url if url.lower().startswith(("http://", "https://")) else ""


EMPTY_SOURCES = "<div class='nq-empty'>The sources of each answer appear here, its quoted sentences highlighted.</div>"
CLOSEST_SHOWN = 3  # the abstention names this many closest articles (answer/compose.py)
SNIPPET_CHARS = 300  # of a closest article's passage, on its card
# A title past this is cut on its card (the whole shows on hover): indexes built before titles derived from a
# first sentence were kept to 80 characters hold longer ones (the demo's sample article: 147).
CARD_TITLE_MAX = 100


def citations_html(answer: Answer | None, number: int = 1) -> str:
    """The sources of answer `number`: where reports disagree or were updated, then cards with the title (linked),
    outlet, date, other outlets that carried the same text, and the quotes highlighted in context; for an
    abstention without quotes, why, and the closest articles. Card n's id is nq-a<number>-c<n>."""
    if answer is None:
        return EMPTY_SOURCES
    notice = _notice_html(answer)
    if answer.abstained and not answer.citations:
        cards = [_card(number, i, hit.title or hit.article_id, hit.url, hit.source, hit.published,
                       [html.escape(_snippet(hit.text))]) for i, hit in enumerate(_closest(answer), 1)]
        return (f"{notice}<div class='nq-abstained'><b>No supporting sentences.</b> "
                f"{html.escape(answer.text)}</div>" + "".join(cards))
    by_article: dict[int, list[Citation]] = {}
    for c in answer.citations:
        by_article.setdefault(c.number, []).append(c)
    reports = "".join(_report_html(c, number, disagree=True) for c in answer.conflicts) + \
        "".join(_report_html(u, number, disagree=False) for u in answer.updates)
    return notice + reports + "".join(_card(number, n, quotes[0].title or quotes[0].article_id, quotes[0].url,
                                            quotes[0].source, quotes[0].published, _passages(quotes),
                                            quotes[0].also_reported_by)
                                      for n, quotes in by_article.items())


def _card(answer: int, number: int, title: str, url: str, source: str, published: str, passages: list[str],
          also: list[dict[str, str]] | None = None) -> str:
    """One source card; `passages` are HTML already escaped; `also`, the outlets that carried the same text.
    Says which answer it belongs to."""
    full = html.escape(title, quote=True)
    title = html.escape(title if len(title) <= CARD_TITLE_MAX else title[:CARD_TITLE_MAX].rsplit(" ", 1)[0] + "…")
    meta = " · ".join(html.escape(x) for x in (source or "outlet unknown", published) if x)
    body = "".join(f"<blockquote>{passage}</blockquote>" for passage in passages)
    return (f"<div class='nq-card' id='nq-a{answer}-c{number}'><span class='nq-of'>answer {answer}</span>"
            f"<div><span class='nq-num'>[{number}]</span>{_link(url, title, full)}</div>"
            f"<div class='nq-meta'>{meta}</div>{_also_html(also)}{body}</div>")


def _link(url: str, text: str, hover: str = "") -> str:
    """`text` (escaped HTML) linked to `url` when it is http(s), else plain; `hover` (escaped) shows on hover."""
    url = safe_url(url)
    tip = f" title='{hover}'" if hover else ""
    return (f"<a href='{html.escape(url, quote=True)}' target='_blank' rel='noopener noreferrer nofollow'{tip}>"
            f"{text}</a>") if url else f"<span{tip}>{text}</span>"


def _also_html(also: list[dict[str, str]] | None) -> str:
    """"Also reported by" the outlets of a wire copy's other articles, each linked to its article and dated."""
    if not also:
        return ""
    outlets = ", ".join(_link(o.get("url", ""), html.escape(o.get("source") or "another article")) +
                        (f" ({html.escape(o['published'])})" if o.get("published") else "") for o in also)
    return f"<div class='nq-also'>Also reported by {outlets}</div>"


def _report_html(c: Conflict, answer: int, disagree: bool) -> str:
    """A disagreement (same-day reports) or an update (a later report), both sides with outlet, date and quote."""
    sides = "".join(f"<li>{html.escape(_side(f.source, f.published, f.figure))}: “{html.escape(f.quote)}” "
                    f"<a class='nq-cite' href='#nq-a{answer}-c{f.number}'>[{f.number}]</a></li>"
                    for f in (c.first, c.second))
    kind = "nq-disagree" if disagree else "nq-update"
    return f"<div class='nq-report {kind}'>{_flag(c, disagree)}<ul>{sides}</ul></div>"


def _flag(c: Conflict, disagree: bool) -> str:
    """The visible label of a disagreement or an update, and what the figures count."""
    if disagree:
        return f"<b class='nq-flag nq-disagree'>Sources disagree</b> on the number {_escape_text(c.about)}"
    return (f"<b class='nq-flag nq-update'>Updated {_escape_text(human_date(c.second.published))}</b>: "
            f"a later report gave a new number {_escape_text(c.about)}")


def _side(source: str, published: str, figure: str) -> str:
    """"valleypost.com, 5 March 2019, gave at least 12": plain text, for the caller to escape. A figure opens
    its sentence as written ("At least 12", "Nine"): here it is mid-sentence."""
    return f"{source or 'an article'}, {human_date(published) or 'undated'}, gave {figure[:1].lower()}{figure[1:]}"


def _closest(answer: Answer) -> list[Hit]:
    """The closest articles an abstention names, in its order."""
    seen: dict[str, Hit] = {}
    for hit in answer.passages:
        seen.setdefault(hit.article_id, hit)
    return list(seen.values())[:CLOSEST_SHOWN]


def _snippet(text: str) -> str:
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def sources_panel(sections: list[tuple[str, str]]) -> str:
    """Every answer's sources, newest first and open; each earlier one folded under its question."""
    if not sections:
        return EMPTY_SOURCES
    parts = []
    for number in range(len(sections), 0, -1):
        question, body = sections[number - 1]
        opened = " open" if number == len(sections) else ""
        parts.append(f"<details class='nq-answer' id='nq-a{number}'{opened}><summary>Answer {number}: "
                     f"{question}</summary>{body}</details>")
    return "".join(parts)


def answer_message(answer: Answer, number: int) -> str:
    """The answer as the chat shows it: escaped text whose [n] link to card n of answer `number` (the closest
    articles of an abstention without quotes, to theirs), then a link to all its sources."""
    text = chat_text(answer)
    if answer.abstained and not answer.citations:
        for i, hit in enumerate(_closest(answer), 1):
            quoted = f"\"{_escape_text(hit.title)}\""
            text = text.replace(quoted, f"\"<a class='nq-cite' href='#nq-a{number}-c{i}'>{quoted[1:-1]}</a>\"", 1)
        label = f"Closest articles to question {number}"
    else:
        numbers = {c.number for c in answer.citations}
        text = CITE.sub(lambda m: f"<a class='nq-cite' href='#nq-a{number}-c{m[1]}'>{m[0]}</a>"
                        if int(m[1]) in numbers else m[0], text)
        label = f"Sources of answer {number} ({len(numbers)} article{'s' if len(numbers) > 1 else ''})"
    return f"{text}\n\n<a class='nq-show' href='#nq-a{number}'>{label} ↓</a>"


def plain_message(content: str) -> str:
    """A chat message's text without the links `answer_message` added (every other `<` in it is escaped)."""
    return html.unescape(MARKUP.sub("", SHOW_LINK.sub("", content))).strip()


def _notice_html(answer: Answer) -> str:
    """Why a generated answer was replaced, or which of its sentences verification removed."""
    if not answer.notice and not answer.unsupported:
        return ""
    removed = "".join(f"<li>{html.escape(u.text)} <i>({html.escape(u.reason)})</i></li>" for u in answer.unsupported)
    details = (f"<details><summary>Removed from the generated answer ({len(answer.unsupported)})</summary>"
               f"<ul>{removed}</ul></details>") if removed else ""
    return f"<div class='nq-notice'>{html.escape(answer.notice)}{details}</div>"


def _passages(quotes: list[Citation]) -> list[str]:
    """The quotes of one article in their context, overlapping contexts merged so no sentence shows twice."""
    merged: list[tuple[int, str, list[Citation]]] = []  # (start in article, text, quotes inside)
    for c in sorted(quotes, key=lambda c: c.context_start):
        if merged and c.context_start <= merged[-1][0] + len(merged[-1][1]):
            start, text, inside = merged[-1]
            text += c.context[start + len(text) - c.context_start:]
            merged[-1] = (start, text, [*inside, c])
        else:
            merged.append((c.context_start, c.context, [c]))
    out = []
    for start, text, inside in merged:
        parts, at = [], 0
        for c in sorted(inside, key=lambda c: c.start):
            begin, end = c.start - start, c.end - start
            parts += [html.escape(text[at:begin]), f"<mark>{html.escape(text[begin:end])}</mark>"]
            at = end
        out.append("".join(parts) + html.escape(text[at:]))
    return out


def chat_text(answer: Answer) -> str:
    """The answer's text, escaped: a timeline as a dated list, then each disagreement and update flagged, then
    the notice."""
    text = _timeline_text(answer) if answer.timeline else _escape_text(_without_reports(answer))
    text = f"⚠️ {text}" if answer.abstained else text
    reports = [*(_chat_report(c, True) for c in answer.conflicts), *(_chat_report(u, False) for u in answer.updates)]
    text = "\n\n".join([text, *reports])
    return f"{text}\n\n({_escape_text(answer.notice)})" if answer.notice else text


def _without_reports(answer: Answer) -> str:
    """The answer's text less the sentences saying reports differ or were updated: the chat flags those itself."""
    text = answer.text
    for sentence in [*map(said_differently, answer.conflicts), *map(said_later, answer.updates)]:
        text = text.replace(f" {sentence}", "", 1)
    return text


def _timeline_text(answer: Answer) -> str:
    """One line per report, oldest first: its date, outlet, quote and [n] (and who else carried it)."""
    lines = [f"• <span class='nq-when'>{_escape_text(human_date(c.published) or 'Undated')}</span> · "
             f"{_escape_text(c.source or 'outlet unknown')}: {_escape_text(c.quote)} [{c.number}]"
             f"{_escape_text(also_reported(c))}" for c in answer.timeline]
    head = BEFORE_OUTCOME if answer.text.startswith(BEFORE_OUTCOME) else "How it developed, oldest report first:"
    return "\n".join([head, *lines])


def _chat_report(c: Conflict, disagree: bool) -> str:
    """A disagreement or an update in the chat: its label, then both sides with outlet, date, figure and [n] (the
    quotes are in the answer above it, and on the sources panel)."""
    sides = [f"• {_escape_text(_side(f.source, f.published, f.figure))} [{f.number}]" for f in (c.first, c.second)]
    return "\n".join([_flag(c, disagree) + ":", *sides])


def _escape_text(text: str) -> str:
    """Escape for element content only: the copy button copies the raw string, so `'` must not become `&#x27;`."""
    return html.escape(text, quote=False)


def stats_line(qa: NewsQA) -> str:
    """How many articles, from which outlets and when: the outlets' dates apart from those of articles
    without an outlet (the demo's one 2020 article would otherwise stretch the range by four years)."""
    info = qa.info()
    named = [o for o in info["outlets"] if o["outlet"]]
    parts = [f"{info['articles']:,} articles"]
    if named:
        parts.append(f"{sum(o['articles'] for o in named):,} from {len(named)} outlets{_span(named)}")
    unnamed = [o for o in info["outlets"] if not o["outlet"]]
    if unnamed:
        parts.append(f"{unnamed[0]['articles']:,} without an outlet{_span(unnamed)}")
    answerer = public_name(qa.settings.generation)
    writer = f" · answers by {html.escape(answerer)}, verified" if answerer != "extractive" else ""
    return (f"{parts[0]}: {'; '.join(parts[1:])} · {info['chunks']:,} passages · "
            f"{html.escape(info['model'])}{writer}")


def _span(outlets: list[dict[str, Any]]) -> str:
    oldest = min((o["oldest"] for o in outlets if o["oldest"]), default="")
    newest = max((o["newest"] for o in outlets if o["newest"]), default="")
    if not oldest:
        return ""
    return f", {oldest}" if oldest == newest else f", {oldest} to {newest}"


def coverage_markdown(qa: NewsQA) -> str:
    """The outlets with their article counts and dates, and the oldest and newest article."""
    info = qa.info()
    rows = [f"| {_escape_markdown(o['outlet']) or '*outlet unknown*'} | {o['articles']:,} | {o['oldest'] or '?'} "
            f"| {o['newest'] or '?'} |" for o in info["outlets"]]
    dates = (f"Oldest article {info['oldest']}, newest {info['newest']}." if info["oldest"] else
             "No article has a date.")
    return "\n".join([dates, "", "| outlet | articles | from | to |", "|---|--:|---|---|", *rows])


def _escape_markdown(text: str) -> str:
    """An outlet name as table text: no markup, no column breaks."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~])", r"\\\1", html.escape(text, quote=False))


def weeks_frame(qa: NewsQA) -> pd.DataFrame:
    """Articles per week, for the coverage plot (weeks as labels: the demo's lone 2020 week would leave a
    four-year gap on a time axis, its bars hairlines)."""
    weeks = qa.info()["weeks"]
    return pd.DataFrame({"week": [w["week"] for w in weeks], "articles": [w["articles"] for w in weeks]})


def filter_chip(date_from: object, date_to: object, sources: object, bounds: tuple[str, str]) -> Any:
    """The chip above the input naming the filters in force; hidden when none is."""
    try:
        active = _filters(date_from, date_to, sources, bounds)
    except ValueError:
        return gr.update(visible=False)
    dates = [f"from {active['date_from']}" if active["date_from"] else "",
             f"to {active['date_to']}" if active["date_to"] else ""]
    parts = [" ".join(d for d in dates if d), ", ".join(active["sources"])]
    shown = "; ".join(x for x in parts if x)
    return gr.update(value=f"Filtered: {shown}  ✕", visible=bool(shown))


# ------------------------------------------------------------------ the app


class UploadRefused(Exception):
    """An upload that adds nothing; the message is its upload report."""


class ChatApp:
    """Handlers bound to one shared `NewsQA`; each session that uploads holds its own overlay copy of it."""

    def __init__(self, qa: NewsQA, allow_writes: bool = False, operator_token: str = "",
                 fetch_private: bool = False) -> None:
        if allow_writes and len(operator_token) < MIN_TOKEN_CHARS:
            raise ValueError(f"writing to the shared index from the chat needs an operator token of at least "
                             f"{MIN_TOKEN_CHARS} characters in {TOKEN_VARIABLE}; make one with "
                             "python -c 'import secrets; print(secrets.token_urlsafe())'")
        self.qa = qa
        self.allow_writes = allow_writes
        self.fetch_private = fetch_private  # whether a pasted address may be on this machine or its network
        self._token = operator_token.encode("utf-8", "surrogateescape")  # as os.environ decoded it
        self._copies: set[Path] = set()  # the sessions' overlay copies on disk
        self._copies_lock = threading.Lock()

    def session_qa(self, overlay: NewsQA | None) -> NewsQA:
        return overlay or self.qa

    def bounds(self) -> tuple[str, str]:
        """The shared index's oldest and newest dates: the date filter's defaults, which filter nothing."""
        info = self.qa.info()
        return info["oldest"], info["newest"]

    def refresh(self) -> tuple[Any, ...]:
        """On page load: a page opened after an upload shows the index as it is now, not as it was at launch."""
        oldest, newest = self.bounds()
        return (*self.coverage(self.qa), oldest or None, newest or None)

    @staticmethod
    def coverage(qa: NewsQA) -> tuple[Any, ...]:
        """What shows what `qa` covers: the outlets filter, the stats line, the outlets table, the weekly plot."""
        return gr.update(choices=qa.sources()), stats_line(qa), coverage_markdown(qa), weeks_frame(qa)

    def chip(self, date_from: object, date_to: object, sources: object) -> Any:
        return filter_chip(date_from, date_to, sources, self.bounds())

    def unfilter(self) -> tuple[Any, ...]:
        """The chip's ✕: dates back to the index's range, no outlet chosen."""
        oldest, newest = self.bounds()
        return oldest or None, newest or None, [], gr.update(visible=False)

    # -- asking

    def respond(self, message: str, history: list[dict[str, Any]], date_from: str | None, date_to: str | None,
                sources: list[str] | None, overlay: NewsQA | None,
                sections: list[tuple[str, str]] | None = None) -> Iterator[tuple[Any, ...]]:
        """The answer, as few updates as show progress: a status, the model's draft as it is written (a
        generative answerer), then the answer with its citations linked and its sources added to the panel.
        Every update resends the whole chat, so an extractive answer (60 ms) is not streamed piece by piece."""
        sections = list(sections) if isinstance(sections, list) else []
        try:
            earlier = _conversation(history)
        except ValueError as exc:  # not a conversation this page could have sent: start afresh
            yield [{"role": "assistant", "content": f"⚠️ {_escape_text(str(exc))}"}], EMPTY_SOURCES, "", []
            return
        qa = self.session_qa(overlay)
        history = list(history or [])
        history.append({"role": "user", "content": _escape_text(_shown(message))})
        history.append({"role": "assistant", "content": f"Searching {qa.info()['articles']:,} articles…"})
        yield history, gr.skip(), "", gr.skip()
        answer = None
        try:
            filters = _filters(date_from, date_to, sources, self.bounds())
            for event in self._events(qa, message, earlier, filters):
                if isinstance(event, Answer):
                    answer = event
                else:
                    history[-1]["content"] = event
                    yield history, gr.skip(), "", gr.skip()
        except ValueError as exc:
            history[-1]["content"] = f"⚠️ {_escape_text(str(exc))}"
            yield history, gr.skip(), "", gr.skip()
            return
        assert answer is not None
        number = len(sections) + 1
        history[-1]["content"] = answer_message(answer, number)
        sections.append((_escape_text(_shown(message)), citations_html(answer, number)))
        yield history, sources_panel(sections), "", sections

    def _events(self, qa: NewsQA, message: str, earlier: list[dict[str, str]],
                filters: dict[str, Any]) -> Iterator[Answer | str]:
        """The Answer, after what the chat shows meanwhile: for a generative answerer, the draft so far as it
        is written, or while the model has not begun, "Writing the answer… N s" every TICK_S seconds."""
        stream = qa.ask_stream(message, history=earlier, filters=filters)
        if public_name(qa.settings.generation) == "extractive":
            yield from stream
            return
        started, draft = time.monotonic(), ""
        for event in _ticking(stream, TICK_S):
            if event is None:
                if not draft:
                    yield f"Writing the answer… {time.monotonic() - started:.0f} s"
            elif isinstance(event, Answer):
                yield event
            else:
                draft += event
                yield f"{_escape_text(draft)}\n\n(draft: each sentence is checked against the articles before " \
                      "it is shown as the answer)"

    def api_ask(self, question: str) -> dict[str, Any]:
        """The public `/ask` endpoint: the answer and its citations as JSON."""
        try:
            return self.qa.ask(question).to_dict()
        except ValueError as exc:
            raise gr.Error(str(exc)) from None

    # -- adding articles

    def upload(self, files: list[str] | None, overlay: NewsQA | None,
               progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Files into this session's overlay (see `_upload`)."""
        return self._upload(files, overlay, None, progress)

    def operator_upload(self, files: list[str] | None, overlay: NewsQA | None, token: str | None,
                        progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """With writes allowed: files into the shared index when `token` is the operator's, else as `upload`."""
        return self._upload(files, overlay, token, progress)

    def add_urls(self, text: str | None, overlay: NewsQA | None,
                 progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Pasted feed or article addresses into this session's overlay (see `_add`)."""
        return self._add(lambda: _pasted_urls(text, self.fetch_private), self._fetched, overlay, None, progress)

    def operator_add_urls(self, text: str | None, overlay: NewsQA | None, token: str | None,
                          progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """With writes allowed: pasted addresses into the shared index when `token` is the operator's."""
        return self._add(lambda: _pasted_urls(text, self.fetch_private), self._fetched, overlay, token, progress)

    def _upload(self, files: object, overlay: NewsQA | None, token: object, progress: gr.Progress) -> tuple[Any, ...]:
        """Files into this session's overlay, or with the operator token into the shared index (see `_add`)."""
        return self._add(lambda: _upload_paths(files), self._read_files, overlay, token, progress)

    def _read_files(self, paths: list[str], progress: gr.Progress) -> IngestResult:
        progress(0, desc="Reading files")
        return load_paths(paths)

    def _fetched(self, urls: list[str], progress: gr.Progress) -> WebResult:
        progress(0, desc=f"Fetching {len(urls)} address{'es' if len(urls) > 1 else ''}")
        fetched = load_urls(urls, replace(self.qa.settings.fetch, public_only=not self.fetch_private))
        return fetched if self.fetch_private else from_public_hosts(fetched)

    def _add(self, given: Callable[[], list[str]], read: Callable[[list[str], gr.Progress], IngestResult | WebResult],
             overlay: NewsQA | None, token: object, progress: gr.Progress) -> tuple[Any, ...]:
        """What `given` names (files or addresses, checked; UploadRefused says what is wrong), read by `read`,
        into this session's overlay, or with the operator token (writes allowed) into the shared index.
        No record replaces an article of the shared index: one with the id of such an article is skipped.
        Returns the report, the session's overlay, and what shows the coverage (see `coverage`)."""
        unchanged = (gr.skip(),) * 4
        try:
            items = given()
            shared = self._writes_shared(token)
            articles, problems = self._fresh_articles(read(items, progress))
            if shared:
                qa = self.qa
            elif articles:
                qa = overlay = self._session_index(overlay, progress)
            else:  # nothing to add: no copy is made
                qa = overlay or self.qa
        except UploadRefused as exc:
            return str(exc), overlay, *unchanged
        held = qa.reader.existing_ids([a.id for a in articles])
        try:
            report = qa.add(articles, on_progress=lambda done, total: progress((done, total), desc="Embedding")) \
                if articles else BuildReport()
        except (StoreError, OSError) as exc:
            log.warning("upload to %s failed: %s", qa.index_dir, exc)
            return "Nothing was added: the server could not write the index (its log says why).", overlay, \
                *unchanged
        report.problems[:0] = problems
        now = qa.reader.existing_ids([a.id for a in articles])
        added = [a for a in articles if a.id in now and a.id not in held]
        return _upload_report(report, added, qa, shared), overlay, *self.coverage(qa)

    def _writes_shared(self, token: object) -> bool:
        """True when writes are allowed and the operator's token came with the upload; a wrong one refuses it."""
        if not self.allow_writes or token is None or token == "":
            return False
        given = token.encode("utf-8", "replace") if isinstance(token, str) else b""
        if not hmac.compare_digest(given, self._token):
            raise UploadRefused("Wrong operator token: nothing was added. Leave the token empty to add the files "
                                "for this session only.")
        return True

    def _fresh_articles(self, ingested: IngestResult | WebResult) -> tuple[list[Article], list[Problem]]:
        """The articles read, less those whose id the shared index holds (an upload never replaces one);
        and what was skipped, why."""
        taken = self.qa.reader.existing_ids([a.id for a in ingested.articles])
        refused = [Problem(a.origin or a.id, f"id {a.id!r} already exists in the index; an upload never replaces "
                                             "an article") for a in ingested.articles if a.id in taken]
        return [a for a in ingested.articles if a.id not in taken], [*ingested.problems, *refused]

    def _session_index(self, overlay: NewsQA | None, progress: gr.Progress) -> NewsQA:
        """This session's own copy of the shared index, made on its first upload."""
        if overlay is not None:
            return overlay
        if is_database_url(self.qa.index_dir):  # a session's copy is a directory copy of a directory index
            raise UploadRefused("This chat's articles are in a shared database, which cannot be copied for one "
                                "session: nothing was added. Ask the operator to add them.")
        with self._copies_lock:
            if len(self._copies) >= MAX_SESSION_COPIES:
                raise UploadRefused("Too many visitors are adding articles at the moment: nothing was added. "
                                    "Try again later.")
            progress(0, desc="Copying the index for this session")
            copy = _copy_index(self.qa.index_dir)
            self._copies.add(copy)
        return NewsQA.open(copy, settings=self.qa.settings)

    def drop_overlay(self, overlay: NewsQA | None) -> None:
        """Gradio calls this when a session expires: its copy of the index would otherwise stay on disk for good."""
        if overlay is None:
            return
        with self._copies_lock:
            if overlay.index_dir not in self._copies:
                return
            self._copies.discard(overlay.index_dir)
        shutil.rmtree(overlay.index_dir.parent, ignore_errors=True)

    def drop_all(self) -> None:
        """Every session's copy, when the app stops: Gradio drops a session's state only when it expires."""
        with self._copies_lock:
            copies, self._copies = self._copies, set()
        for copy in copies:
            shutil.rmtree(copy.parent, ignore_errors=True)


# ------------------------------------------------------------------ checking what a client sends


def _conversation(history: object) -> list[dict[str, str]]:
    """The chat so far as plain messages, or ValueError for anything the page does not send."""
    refused = ValueError(f"This conversation cannot be continued (at most {MAX_HISTORY_MESSAGES} messages of "
                         "text); press Clear to start a new one.")
    if history is None:
        return []
    if not isinstance(history, list) or len(history) > MAX_HISTORY_MESSAGES:
        raise refused
    messages, chars = [], 0
    for message in history:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise refused
        try:
            text = plain_message(message_text(message.get("content")))
        except RecursionError:
            raise refused from None
        chars += len(text)
        if chars > MAX_HISTORY_CHARS:
            raise refused
        messages.append({"role": message["role"], "content": text})
    return messages


def _shown(message: object) -> str:
    """The question as the chat echoes it: text, and no longer than a question may be."""
    text = message if isinstance(message, str) else ""
    return text if len(text) <= MAX_QUESTION_CHARS else text[:MAX_QUESTION_CHARS] + "…"


def _filters(date_from: object, date_to: object, sources: object, bounds: tuple[str, str] = ("", "")) -> dict[str, Any]:
    """The filters in force. A date at its end of the index's range (`bounds`, the pickers' defaults) filters
    nothing, so it leaves in what a session adds beyond the range: a newer upload."""
    if sources is not None and (not isinstance(sources, list) or len(sources) > MAX_SOURCES
                                or not all(isinstance(s, str) for s in sources)):
        raise ValueError(f"the outlets filter takes at most {MAX_SOURCES} outlet names")
    first, last = _date(date_from, "Published from"), _date(date_to, "Published to")
    return {"date_from": "" if first == bounds[0] else first, "date_to": "" if last == bounds[1] else last,
            "sources": sources or ()}


def _date(value: object, label: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str) and DATE.fullmatch(value.strip()):
        return value.strip()
    shown = repr(value)[:40]
    raise ValueError(f"'{label}' takes a date like 2017-03-29, not {shown}")


def _upload_paths(files: object) -> list[str]:
    """The uploaded files' paths, or UploadRefused saying what is wrong with the upload."""
    if files is None or files == []:
        raise UploadRefused("No files.")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise UploadRefused("Nothing was added: upload files.")
    if len(files) > MAX_FILES:
        raise UploadRefused(f"Too many files: {len(files)}; upload at most {MAX_FILES} at a time.")
    not_files = [Path(p).name for p in files if not os.path.isfile(p)]
    if not_files:
        raise UploadRefused(f"Not files, not added: {', '.join(not_files)}.")
    too_big = [Path(p).name for p in files if os.path.getsize(p) > MAX_FILE_MB * 1024 * 1024]
    if too_big:
        raise UploadRefused(f"Over {MAX_FILE_MB} MB, not added: {', '.join(too_big)}.")
    return files


def _pasted_urls(text: object, fetch_private: bool = False) -> list[str]:
    """The web addresses pasted (one or more, separated by spaces or lines), or UploadRefused saying what is
    wrong. Unless `fetch_private`, an address whose host is this machine or a private network is refused."""
    if not isinstance(text, str) or not text.strip():
        raise UploadRefused("No address: paste a feed's or an article's address, starting with https://.")
    urls = list(dict.fromkeys(text.split()))
    if len(urls) > MAX_URLS:
        raise UploadRefused(f"Too many addresses: {len(urls)}; paste at most {MAX_URLS} at a time.")
    for url in urls:
        shown = url if len(url) <= 80 else url[:80] + "…"
        if len(url) > MAX_URL_CHARS or not is_url(url) or not urlsplit(url).hostname:
            raise UploadRefused(f"Not a web address, nothing was added: {shown} (paste one starting with "
                                "http:// or https://).")
        if not fetch_private and not is_public_host(urlsplit(url).hostname or ""):
            raise UploadRefused(f"Not fetched, nothing was added: {shown} is on this server's own machine or a "
                                "private network; paste a public address.")
    return urls


def from_public_hosts(fetched: WebResult) -> WebResult:
    """`fetched` less the articles that name a private host: a second guard behind `FetchSettings.public_only`
    (which refuses such a host before any request), for a public feed whose entry holds its full text but
    links to one."""
    public: dict[str, bool] = {}
    kept, refused = [], []
    for article in fetched.articles:
        hosts = {urlsplit(u).hostname or "" for u in (article.origin, article.id, article.url) if is_url(u)} - {""}
        if all(public.setdefault(host, is_public_host(host)) for host in hosts):
            kept.append(article)
        else:
            refused.append(Problem(article.origin or article.id, "on this server's own machine or a private "
                                                                 "network; not added"))
    return replace(fetched, articles=kept, problems=[*fetched.problems, *refused])


def writes_allowed(value: str | None) -> bool:
    """NEWSQA_ALLOW_WRITES: 1, true, yes or on allow the chat to write the shared index (with the token)."""
    return _switch(value, ALLOW_WRITES_VARIABLE, "allow writes to the shared index")


def private_fetches_allowed(value: str | None) -> bool:
    """NEWSQA_FETCH_PRIVATE: 1, true, yes or on let visitors' pasted addresses be on this machine or its network."""
    return _switch(value, FETCH_PRIVATE_VARIABLE, "fetch addresses on this machine or its private network")


def _switch(value: str | None, variable: str, meaning: str) -> bool:
    setting = (value or "").strip().lower()
    if setting in ("", "0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{variable}={value!r}: use 1 to {meaning}, or 0")


def _ticking(events: Iterator[Any], seconds: float) -> Iterator[Any]:
    """`events`, read in a thread of their own, with None whenever `seconds` pass without one; an exception
    raised by `events` is raised here. Stops reading when this generator is closed (the visitor left)."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def read() -> None:
        try:
            for event in events:
                box.put(("event", event))
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, who raises it
            box.put(("error", exc))

    threading.Thread(target=read, daemon=True, name="newsqa-answer").start()
    try:
        while True:
            try:
                kind, value = box.get(timeout=seconds)
            except queue.Empty:
                yield None
                continue
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()


def _display(problem: str) -> str:
    """Gradio's temporary upload folders are noise in a message: keep the file name. An address is kept whole."""
    if is_url(problem):
        return problem
    return Path(problem.split(":", 1)[0]).name + (":" + problem.split(":", 1)[1] if ":" in problem else "")


def _upload_report(report: BuildReport, added: list[Article], qa: NewsQA, shared: bool) -> str:
    """The counts, then each added article as the index holds it (title, date, outlet: what a reader checks
    was read right), then each skipped file with why."""
    lines = [f"Added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
             f"duplicates {report.duplicates}, skipped {report.skipped}; "
             f"{report.chunks} passages embedded in {report.seconds:.1f} s."]
    for article in added:
        stored = qa.article(article.id) or article
        lines.append(f"Added \"{stored.title or stored.id}\" · {stored.published or 'date unknown'} · "
                     f"{stored.source or 'outlet unknown'}")
    lines += [f"Skipped {_display(str(p))}" for p in report.problems]
    if report.added or report.updated:
        lines.append("Written to the shared index: every visitor now reads these articles." if shared else
                     "Kept for this session only: other visitors do not see these articles.")
    return "\n".join(lines)


def _copy_index(index_dir: Path) -> Path:
    """A writable copy: copytree keeps permission bits, and a read-only index would give a read-only copy."""
    target = Path(tempfile.mkdtemp(prefix="newsqa-session-")) / "index"
    shutil.copytree(index_dir, target, ignore=shutil.ignore_patterns(".lock"))
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


def welcome(qa: NewsQA) -> str:
    """The empty chat's message: what the articles cover, how to ask, and that answers are quoted and cited."""
    info = qa.info()
    named = [o for o in info["outlets"] if o["outlet"]]
    outlets = ", ".join(html.escape(o["outlet"]) for o in named[:WELCOME_OUTLETS])
    more = f" and {len(named) - WELCOME_OUTLETS} more" if len(named) > WELCOME_OUTLETS else ""
    return (f"**Ask the news.** {info['articles']:,} articles from {outlets}{more}{_span(named)} "
            "(see *What the articles cover*).\n\n"
            "Ask a question about an event in them: who, what, when, why. Every sentence of an answer is quoted "
            "from an article and cited, like [1]: click it to read the sentence in its article. When the "
            "articles don't say, the answer says so and names the closest ones. Try one:")


def create_app(qa: NewsQA, allow_writes: bool = False, operator_token: str = "",
               fetch_private: bool = False) -> gr.Blocks:
    """The chat. With `allow_writes`, an upload that comes with `operator_token` goes into the shared index.
    With `fetch_private`, a pasted address may be on this machine or its private network."""
    app = ChatApp(qa, allow_writes, operator_token, fetch_private)
    atexit.register(app.drop_all)
    oldest, newest = app.bounds()
    with gr.Blocks(title="newsqa: ask the news") as demo:
        # A plain function, not the bound method: Gradio puts the callback in the page config and deep-copies
        # that config on every page load (GET /config), and a bound method's copy is a copy of its ChatApp,
        # index and models included: 385 MB and a second or more per visitor (21.9 GB with 50 arriving).
        overlay = gr.State(None, delete_callback=lambda state: app.drop_overlay(state))
        sections = gr.State([])  # each answer's (question, sources), for the panel
        gr.Markdown("## newsqa · ask questions of the news, every sentence cited", elem_id="nq-title")
        stats = gr.Markdown(stats_line(qa), elem_id="nq-stats")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(height=520, show_label=False, render_markdown=False, sanitize_html=True,
                                  elem_id="nq-chat", buttons=["copy"], placeholder=welcome(qa),
                                  examples=[{"text": text} for text in EXAMPLES])
                chip = gr.Button("", visible=False, size="sm", elem_id="nq-chip")
                question = gr.Textbox(placeholder="Ask about the articles…", show_label=False,
                                      elem_id="nq-question", max_lines=4)
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="nq-ask", min_width=BUTTON_MIN_WIDTH)
                    clear = gr.Button("Clear", elem_id="nq-clear", min_width=BUTTON_MIN_WIDTH)
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                cards = gr.HTML(EMPTY_SOURCES, elem_id="nq-citations")
                with gr.Accordion("Filters", open=False):
                    date_from = gr.DateTime(oldest or None, label="Published from", include_time=False,
                                            type="string", elem_id="nq-from")
                    date_to = gr.DateTime(newest or None, label="Published to", include_time=False, type="string",
                                          elem_id="nq-to")
                    sources = gr.Dropdown(qa.sources(), multiselect=True, label="Outlets", elem_id="nq-sources")
                with gr.Accordion("What the articles cover", open=True, elem_id="nq-coverage-box"):
                    coverage = gr.Markdown(coverage_markdown(qa), elem_id="nq-coverage")
                    weeks = gr.BarPlot(weeks_frame(qa), x="week", y="articles", x_title="week from Monday",
                                       y_title="articles", y_lim=[0, None], x_label_angle=-60, height=240,
                                       elem_id="nq-weeks",
                                       label="Articles per week", show_label=True)
                with gr.Accordion("Add articles", open=False):
                    gr.Markdown(f"{UPLOAD_NOTE_WRITES if allow_writes else UPLOAD_NOTE} Files: "
                                f"{', '.join(SUPPORTED)}; up to {MAX_FILES} at a time, {MAX_FILE_MB} MB each. "
                                f"Or paste up to {MAX_URLS} RSS/Atom feed or article addresses.",
                                elem_id="nq-upload-note")
                    token = [gr.Textbox(label="Operator token", type="password", elem_id="nq-token",
                                        placeholder="empty: for this session only")] if allow_writes else []
                    files = gr.File(file_count="multiple", file_types=list(SUPPORTED), elem_id="nq-upload",
                                    label="Articles")
                    # One under the other: side by side, a 390 px phone squeezed the address to 150 px.
                    pasted = gr.Textbox(label="Or a feed's or article's address", max_lines=1,
                                        placeholder="https://example.com/rss.xml", elem_id="nq-url")
                    fetch = gr.Button("Fetch and add", elem_id="nq-add-url", size="md")
                    upload_status = gr.Textbox(label="Upload report", interactive=False, lines=4,
                                               elem_id="nq-upload-status")
        api_question = gr.Textbox(visible=False)
        api_answer = gr.JSON(visible=False)

        inputs = [question, chat, date_from, date_to, sources, overlay, sections]
        answered = [chat, cards, question, sections]
        asking = {"api_visibility": "private", "concurrency_id": "ask", "concurrency_limit": ASK_CONCURRENCY,
                  "show_progress": "minimal"}  # queue position and time, no overlay: the chat shows its own status
        for trigger in (question.submit, ask.click):
            trigger(app.respond, inputs, answered, **asking)
        chat.example_select(pick_example, None, question, api_visibility="private").then(app.respond, inputs,
                                                                                         answered, **asking)
        clear.click(lambda: ([], EMPTY_SOURCES, "", []), None, [chat, cards, question, sections],
                    api_visibility="private")
        chat.clear(lambda: (EMPTY_SOURCES, []), None, [cards, sections], api_visibility="private")  # its trash icon
        shown = [sources, stats, coverage, weeks]
        demo.load(app.refresh, None, [*shown, date_from, date_to], api_visibility="private")
        for changed in (date_from.change, date_to.change, sources.change):
            changed(app.chip, [date_from, date_to, sources], chip, api_visibility="private", show_progress="hidden")
        chip.click(app.unfilter, None, [date_from, date_to, sources, chip], api_visibility="private")
        adding = {"show_progress_on": [upload_status], "api_visibility": "private", "concurrency_id": "upload",
                  "concurrency_limit": 1}
        files.upload(app.operator_upload if allow_writes else app.upload, [files, overlay, *token],
                     [upload_status, overlay, *shown], **adding)
        for trigger in (pasted.submit, fetch.click):
            trigger(app.operator_add_urls if allow_writes else app.add_urls, [pasted, overlay, *token],
                    [upload_status, overlay, *shown], **adding)
        api_question.submit(app.api_ask, api_question, api_answer, api_name="ask",
                            concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY)
    demo.queue(default_concurrency_limit=ASK_CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def pick_example(event: gr.SelectData) -> str:
    """The example clicked in the empty chat, as the question: only one of EXAMPLES."""
    value = getattr(event, "value", None)
    text = value.get("text") if isinstance(value, dict) else None
    return text if text in EXAMPLES else ""


def launch(index_dir: str | os.PathLike[str], answerer: str | None = None, answer_model: str | None = None,
           allow_writes: bool = False, **kwargs: Any) -> None:
    """Open the index and serve the chat (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are honoured).
    `answerer` and `answer_model` choose a generative answerer (see `NewsQA.open`). Uploads write the shared
    index only when `allow_writes` (or NEWSQA_ALLOW_WRITES=1) and with the token in NEWSQA_OPERATOR_TOKEN."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        allow_writes = allow_writes or writes_allowed(os.environ.get(ALLOW_WRITES_VARIABLE))
        fetch_private = private_fetches_allowed(os.environ.get(FETCH_PRIVATE_VARIABLE))
        qa = NewsQA.open(index_dir, answerer=answerer, answer_model=answer_model)
        demo = create_app(qa, allow_writes, os.environ.get(TOKEN_VARIABLE, ""), fetch_private)
    except (StoreError, ValueError) as exc:
        raise SystemExit(f"newsqa: {exc}") from None
    qa.embedder  # noqa: B018 - load the model before the first visitor, not during their question
    demo.launch(theme=THEME, css=CSS, head=HEAD, max_file_size=f"{MAX_FILE_MB}mb", show_error=False, **kwargs)
