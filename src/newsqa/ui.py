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
import re
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from .answer.chat import public_name  # noqa: E402
from .indexing import BuildReport  # noqa: E402
from .ingest import SUPPORTED, load_paths  # noqa: E402
from .qa import NewsQA  # noqa: E402
from .question import MAX_QUESTION_CHARS, message_text  # noqa: E402
from .store import StoreError  # noqa: E402
from .types import Answer, Article, Citation, Problem  # noqa: E402

EXAMPLES = [
    "Why did the US sanction Turkey?",
    "What did Theresa May's letter to the EU start?",
    "Why did the Oscars announce the wrong best picture?",
    "How many people were killed in the attack on the Sehwan shrine?",
]
MAX_FILES = 20
MAX_FILE_MB = 10
# Inputs a browser sends, bounded for clients that send anything: a long chat in the page holds
# about 2 x 100 messages of under 2,000 characters each; the date pickers send YYYY-MM-DD.
MAX_HISTORY_MESSAGES = 400
MAX_HISTORY_CHARS = 1_000_000
MAX_SOURCES = 200
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Each uploading session holds a copy of the index (37 MB for the demo index) until it expires.
MAX_SESSION_COPIES = 50
ALLOW_WRITES_VARIABLE = "NEWSQA_ALLOW_WRITES"
TOKEN_VARIABLE = "NEWSQA_OPERATOR_TOKEN"
MIN_TOKEN_CHARS = 16  # a token a visitor could guess in the time a server runs is no token
_ID_BATCH = 500  # ids per SQL query (under SQLite's limit on parameters)
UPLOAD_NOTE = ("Articles you add are for this session only: other visitors do not see them, and an article "
               "already in the index is never replaced.")
UPLOAD_NOTE_WRITES = ("Articles you add are for this session only, unless you give the operator token: then "
                      "they go into the index every visitor reads. An article already in the index is never "
                      "replaced.")
log = logging.getLogger("newsqa.ui")
CSS = """
.nq-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px; margin-bottom: 10px;}
.nq-card .nq-num {font-weight: 700; margin-right: 4px;}
.nq-card .nq-meta {color: var(--body-text-color-subdued); font-size: 0.9em; margin: 2px 0 6px;}
.nq-card blockquote {margin: 0 0 6px; padding-left: 10px; border-left: 3px solid var(--border-color-primary);}
.nq-card mark {background: #fff3a3; color: inherit; padding: 0 1px;}
.nq-abstained {border: 1px dashed #b26b00; border-radius: 8px; padding: 10px 12px; background: #fff8ec; color: #5c3700;}
.nq-empty {color: var(--body-text-color-subdued);}
.nq-notice {border-left: 3px solid #b26b00; padding: 4px 10px; margin-bottom: 10px; font-size: 0.9em;}
"""
WRITING = ("<div class='nq-empty'>The model is writing; each of its sentences is checked against the articles "
           "it cites before it is shown as the answer.</div>")
THEME = gr.themes.Soft(font=[gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "sans-serif"])


# ------------------------------------------------------------------ rendering (pure functions)


def safe_url(url: str) -> str:
    return url if url.lower().startswith(("http://", "https://")) else ""


def citations_html(answer: Answer | None) -> str:
    """Cards for the citations: number, title (linked), outlet and date, the quote highlighted in context."""
    if answer is None:
        return "<div class='nq-empty'>Sources of the answer appear here.</div>"
    notice = _notice_html(answer)
    if answer.abstained:
        return (f"{notice}<div class='nq-abstained'><b>No supporting sentences.</b> "
                f"{html.escape(answer.text)}</div>")
    by_article: dict[int, list[Citation]] = {}
    for c in answer.citations:
        by_article.setdefault(c.number, []).append(c)
    cards = []
    for number, quotes in by_article.items():
        first = quotes[0]
        title = html.escape(first.title or first.article_id)
        url = safe_url(first.url)
        link = (f"<a href='{html.escape(url, quote=True)}' target='_blank' rel='noopener noreferrer nofollow'>"
                f"{title}</a>") if url else title
        meta = " · ".join(html.escape(x) for x in (first.source, first.published) if x)
        body = "".join(f"<blockquote>{passage}</blockquote>" for passage in _passages(quotes))
        cards.append(f"<div class='nq-card'><div><span class='nq-num'>[{number}]</span>{link}</div>"
                     f"<div class='nq-meta'>{meta}</div>{body}</div>")
    return notice + "".join(cards)


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
    text = _escape_text(answer.text)
    text = f"⚠️ {text}" if answer.abstained else text
    return f"{text}\n\n({_escape_text(answer.notice)})" if answer.notice else text


def _escape_text(text: str) -> str:
    """Escape for element content only: the copy button copies the raw string, so `'` must not become `&#x27;`."""
    return html.escape(text, quote=False)


def stats_line(qa: NewsQA) -> str:
    info = qa.info()
    first, last = info["date_range"]
    dates = f", {first} to {last}" if first else ""
    answerer = public_name(qa.settings.generation)
    writer = f" · answers by {html.escape(answerer)}, verified" if answerer != "extractive" else ""
    return (f"{info['articles']:,} articles from {info['sources']} outlets{dates} · {info['chunks']:,} passages · "
            f"{html.escape(info['model'])}{writer}")


# ------------------------------------------------------------------ the app


class UploadRefused(Exception):
    """An upload that adds nothing; the message is its upload report."""


class ChatApp:
    """Handlers bound to one shared `NewsQA`; each session that uploads holds its own overlay copy of it."""

    def __init__(self, qa: NewsQA, allow_writes: bool = False, operator_token: str = "") -> None:
        if allow_writes and len(operator_token) < MIN_TOKEN_CHARS:
            raise ValueError(f"writing to the shared index from the chat needs an operator token of at least "
                             f"{MIN_TOKEN_CHARS} characters in {TOKEN_VARIABLE}; make one with "
                             "python -c 'import secrets; print(secrets.token_urlsafe())'")
        self.qa = qa
        self.allow_writes = allow_writes
        self._token = operator_token.encode("utf-8", "surrogateescape")  # as os.environ decoded it
        self._copies: set[Path] = set()  # the sessions' overlay copies on disk
        self._copies_lock = threading.Lock()

    def session_qa(self, overlay: NewsQA | None) -> NewsQA:
        return overlay or self.qa

    def refresh(self) -> tuple[str, Any]:
        """On page load: a page opened after an upload shows the index as it is now, not as it was at launch."""
        return stats_line(self.qa), gr.update(choices=self.qa.sources())

    # -- asking

    def respond(self, message: str, history: list[dict[str, Any]], date_from: str | None, date_to: str | None,
                sources: list[str] | None, overlay: NewsQA | None) -> Iterator[tuple[Any, ...]]:
        try:
            earlier = _conversation(history)
        except ValueError as exc:  # not a conversation this page could have sent: start afresh
            yield [{"role": "assistant", "content": f"⚠️ {_escape_text(str(exc))}"}], citations_html(None), ""
            return
        history = list(history or [])
        history.append({"role": "user", "content": _escape_text(_shown(message))})
        history.append({"role": "assistant", "content": "Searching the articles…"})
        yield history, "<div class='nq-empty'>Searching the articles…</div>", ""
        answer, draft = None, ""
        try:
            filters = _filters(date_from, date_to, sources)
            for event in self.session_qa(overlay).ask_stream(message, history=earlier, filters=filters):
                if isinstance(event, Answer):
                    answer = event
                    continue
                checking = gr.skip() if draft else WRITING
                draft += event
                history[-1]["content"] = _escape_text(draft)
                yield history, checking, ""
        except ValueError as exc:
            history[-1]["content"] = f"⚠️ {_escape_text(str(exc))}"
            yield history, citations_html(None), ""
            return
        assert answer is not None
        if draft:  # the model's unchecked draft gives way to the verified answer at once
            history[-1]["content"] = chat_text(answer)
            yield history, citations_html(answer), ""
            return
        # Stream the composed answer sentence by sentence, then show its sources.
        shown = ""
        for part in _sentences_of(chat_text(answer)):
            shown = f"{shown} {part}".strip()
            history[-1]["content"] = shown
            yield history, gr.skip(), ""
        yield history, citations_html(answer), ""

    def api_ask(self, question: str) -> dict[str, Any]:
        """The public `/ask` endpoint: the answer and its citations as JSON."""
        try:
            return self.qa.ask(question).to_dict()
        except ValueError as exc:
            raise gr.Error(str(exc)) from None

    # -- adding articles

    def upload(self, files: list[str] | None, overlay: NewsQA | None,
               progress: gr.Progress = gr.Progress()) -> tuple[str, NewsQA | None, Any, str]:  # noqa: B008
        """Files into this session's overlay (see `_upload`)."""
        return self._upload(files, overlay, None, progress)

    def operator_upload(self, files: list[str] | None, overlay: NewsQA | None, token: str | None,
                        progress: gr.Progress = gr.Progress()) -> tuple[str, NewsQA | None, Any, str]:  # noqa: B008
        """With writes allowed: files into the shared index when `token` is the operator's, else as `upload`."""
        return self._upload(files, overlay, token, progress)

    def _upload(self, files: object, overlay: NewsQA | None, token: object,
                progress: gr.Progress) -> tuple[str, NewsQA | None, Any, str]:
        """Files into this session's overlay, or with the operator token (writes allowed) into the shared index.
        No record replaces an article of the shared index: one with the id of such an article is skipped."""
        try:
            paths = _upload_paths(files)
            shared = self._writes_shared(token)
            progress(0, desc="Reading files")
            articles, problems = self._fresh_articles(paths)
            if shared:
                qa = self.qa
            elif articles:
                qa = overlay = self._session_index(overlay, progress)
            else:  # nothing to add: no copy is made
                qa = overlay or self.qa
        except UploadRefused as exc:
            return str(exc), overlay, gr.skip(), gr.skip()
        try:
            report = qa.add(articles, on_progress=lambda done, total: progress((done, total), desc="Embedding")) \
                if articles else BuildReport()
        except (StoreError, OSError) as exc:
            log.warning("upload to %s failed: %s", qa.index_dir, exc)
            return "Nothing was added: the server could not write the index (its log says why).", overlay, \
                gr.skip(), gr.skip()
        report.problems[:0] = problems
        lines = [f"Added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
                 f"duplicates {report.duplicates}, skipped {report.skipped}; "
                 f"{report.chunks} passages embedded in {report.seconds:.1f} s."]
        lines += [f"Skipped {_display(str(p))}" for p in report.problems]
        if report.added or report.updated:
            lines.append("Written to the shared index: every visitor now reads these articles." if shared else
                         "Kept for this session only: other visitors do not see these articles.")
        return "\n".join(lines), overlay, gr.update(choices=qa.sources()), stats_line(qa)

    def _writes_shared(self, token: object) -> bool:
        """True when writes are allowed and the operator's token came with the upload; a wrong one refuses it."""
        if not self.allow_writes or token is None or token == "":
            return False
        given = token.encode("utf-8", "replace") if isinstance(token, str) else b""
        if not hmac.compare_digest(given, self._token):
            raise UploadRefused("Wrong operator token: nothing was added. Leave the token empty to add the files "
                                "for this session only.")
        return True

    def _fresh_articles(self, paths: list[str]) -> tuple[list[Article], list[Problem]]:
        """The uploaded articles, less those whose id the shared index holds (an upload never replaces one);
        and what was skipped, why."""
        ingested = load_paths(paths)
        taken = _existing_ids(self.qa, [a.id for a in ingested.articles])
        refused = [Problem(a.origin or a.id, f"id {a.id!r} already exists in the index; an upload never replaces "
                                             "an article") for a in ingested.articles if a.id in taken]
        return [a for a in ingested.articles if a.id not in taken], [*ingested.problems, *refused]

    def _session_index(self, overlay: NewsQA | None, progress: gr.Progress) -> NewsQA:
        """This session's own copy of the shared index, made on its first upload."""
        if overlay is not None:
            return overlay
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
            text = html.unescape(message_text(message.get("content")))
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


def _filters(date_from: object, date_to: object, sources: object) -> dict[str, Any]:
    if sources is not None and (not isinstance(sources, list) or len(sources) > MAX_SOURCES
                                or not all(isinstance(s, str) for s in sources)):
        raise ValueError(f"the outlets filter takes at most {MAX_SOURCES} outlet names")
    return {"date_from": _date(date_from, "Published from"), "date_to": _date(date_to, "Published to"),
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


def _existing_ids(qa: NewsQA, ids: list[str]) -> set[str]:
    """Which of `ids` the index holds."""
    found: set[str] = set()
    for start in range(0, len(ids), _ID_BATCH):
        batch = ids[start:start + _ID_BATCH]
        marks = ",".join("?" * len(batch))
        found.update(row[0] for row in qa.reader.db.execute(f"SELECT id FROM articles WHERE id IN ({marks})", batch))
    return found


def writes_allowed(value: str | None) -> bool:
    """NEWSQA_ALLOW_WRITES: 1, true, yes or on allow the chat to write the shared index (with the token)."""
    setting = (value or "").strip().lower()
    if setting in ("", "0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{ALLOW_WRITES_VARIABLE}={value!r}: use 1 to allow writes to the shared index, or 0")


def _sentences_of(text: str) -> list[str]:
    parts, current = [], []
    for word in text.split(" "):
        current.append(word)
        if word.startswith("[") and word.endswith("]"):
            parts.append(" ".join(current))
            current = []
    if current:
        parts.append(" ".join(current))
    return parts


def _display(problem: str) -> str:
    """Gradio's temporary upload folders are noise in a message: keep the file name."""
    return Path(problem.split(":", 1)[0]).name + (":" + problem.split(":", 1)[1] if ":" in problem else "")



def _copy_index(index_dir: Path) -> Path:
    """A writable copy: copytree keeps permission bits, and a read-only index would give a read-only copy."""
    target = Path(tempfile.mkdtemp(prefix="newsqa-session-")) / "index"
    shutil.copytree(index_dir, target, ignore=shutil.ignore_patterns(".lock"))
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target



def create_app(qa: NewsQA, allow_writes: bool = False, operator_token: str = "") -> gr.Blocks:
    """The chat. With `allow_writes`, an upload that comes with `operator_token` goes into the shared index."""
    app = ChatApp(qa, allow_writes, operator_token)
    atexit.register(app.drop_all)
    with gr.Blocks(title="newsqa: ask the news") as demo:
        # A plain function, not the bound method: Gradio puts the callback in the page config and deep-copies
        # that config on every page load (GET /config), and a bound method's copy is a copy of its ChatApp,
        # index and models included: 385 MB and a second or more per visitor (21.9 GB with 50 arriving).
        overlay = gr.State(None, delete_callback=lambda state: app.drop_overlay(state))
        gr.Markdown("## newsqa · ask questions of the news, every sentence cited")
        stats = gr.Markdown(stats_line(qa), elem_id="nq-stats")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(height=480, label="Answers", render_markdown=False, sanitize_html=True,
                                  elem_id="nq-chat", buttons=["copy"])
                question = gr.Textbox(placeholder="Ask about the articles, e.g. Why did the US sanction Turkey?",
                                      show_label=False, elem_id="nq-question", max_lines=4)
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="nq-ask")
                    clear = gr.Button("Clear", elem_id="nq-clear")
                gr.Markdown("Examples", elem_classes="nq-examples-label")
                with gr.Row():
                    examples = [gr.Button(text, size="sm", elem_classes="nq-example") for text in EXAMPLES]
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                cards = gr.HTML(citations_html(None), elem_id="nq-citations")
                with gr.Accordion("Filters", open=False):
                    date_from = gr.DateTime(label="Published from", include_time=False, type="string")
                    date_to = gr.DateTime(label="Published to", include_time=False, type="string")
                    sources = gr.Dropdown(qa.sources(), multiselect=True, label="Outlets", elem_id="nq-sources")
                with gr.Accordion("Add articles", open=False):
                    gr.Markdown(UPLOAD_NOTE_WRITES if allow_writes else UPLOAD_NOTE, elem_id="nq-upload-note")
                    token = [gr.Textbox(label="Operator token", type="password", elem_id="nq-token",
                                        placeholder="empty: for this session only")] if allow_writes else []
                    files = gr.File(file_count="multiple", file_types=list(SUPPORTED), elem_id="nq-upload",
                                    label=f"Articles ({', '.join(SUPPORTED)}; up to {MAX_FILES} files, "
                                          f"{MAX_FILE_MB} MB each)")
                    upload_status = gr.Textbox(label="Upload report", interactive=False, lines=3,
                                               elem_id="nq-upload-status")
        api_question = gr.Textbox(visible=False)
        api_answer = gr.JSON(visible=False)

        inputs = [question, chat, date_from, date_to, sources, overlay]
        for trigger in (question.submit, ask.click):
            trigger(app.respond, inputs, [chat, cards, question], api_visibility="private",
                    concurrency_id="ask", concurrency_limit=4)
        for button, text in zip(examples, EXAMPLES):  # an example asks at once
            button.click(lambda t=text: t, None, question, api_visibility="private").then(
                app.respond, inputs, [chat, cards, question], api_visibility="private",
                concurrency_id="ask", concurrency_limit=4)
        clear.click(lambda: ([], citations_html(None), ""), None, [chat, cards, question], api_visibility="private")
        chat.clear(lambda: citations_html(None), None, cards, api_visibility="private")  # the chat's own trash icon
        demo.load(app.refresh, None, [stats, sources], api_visibility="private")
        files.upload(app.operator_upload if allow_writes else app.upload, [files, overlay, *token],
                     [upload_status, overlay, sources, stats],
                     api_visibility="private", concurrency_id="upload", concurrency_limit=1)
        api_question.submit(app.api_ask, api_question, api_answer, api_name="ask",
                            concurrency_id="ask", concurrency_limit=4)
    demo.queue(default_concurrency_limit=4, max_size=256)
    return demo


def launch(index_dir: str | os.PathLike[str], answerer: str | None = None, answer_model: str | None = None,
           allow_writes: bool = False, **kwargs: Any) -> None:
    """Open the index and serve the chat (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are honoured).
    `answerer` and `answer_model` choose a generative answerer (see `NewsQA.open`). Uploads write the shared
    index only when `allow_writes` (or NEWSQA_ALLOW_WRITES=1) and with the token in NEWSQA_OPERATOR_TOKEN."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        allow_writes = allow_writes or writes_allowed(os.environ.get(ALLOW_WRITES_VARIABLE))
        qa = NewsQA.open(index_dir, answerer=answerer, answer_model=answer_model)
        demo = create_app(qa, allow_writes, os.environ.get(TOKEN_VARIABLE, ""))
    except (StoreError, ValueError) as exc:
        raise SystemExit(f"newsqa: {exc}") from None
    qa.embedder  # noqa: B018 - load the model before the first visitor, not during their question
    demo.launch(theme=THEME, css=CSS, max_file_size=f"{MAX_FILE_MB}mb", show_error=False, **kwargs)
