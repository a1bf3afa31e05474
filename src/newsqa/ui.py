"""The Gradio chat: it only renders what `NewsQA` returns.

Article text, titles and URLs are untrusted: everything put into HTML goes
through `html.escape`, and only http(s) links become links. Chat messages are
escaped too and shown without Markdown, so an article cannot inject markup.
Where the index directory is read-only (a hosted Space), uploads go into a
per-session copy of the index instead of failing.
"""

from __future__ import annotations

import html
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from .ingest import SUPPORTED  # noqa: E402
from .qa import NewsQA  # noqa: E402
from .store import StoreError  # noqa: E402
from .question import message_text  # noqa: E402
from .types import Answer, Citation  # noqa: E402

EXAMPLES = [
    "Why did the US sanction Turkey?",
    "What did Theresa May's letter to the EU start?",
    "Why did the Oscars announce the wrong best picture?",
    "How many people were killed in the attack on the Sehwan shrine?",
]
MAX_FILES = 20
MAX_FILE_MB = 10
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
    answerer = qa.settings.generation.answerer
    writer = f" · answers by {html.escape(answerer)}, verified" if answerer != "extractive" else ""
    return (f"{info['articles']:,} articles from {info['sources']} outlets{dates} · {info['chunks']:,} passages · "
            f"{html.escape(info['model'])}{writer}")


# ------------------------------------------------------------------ the app


class ChatApp:
    """Handlers bound to one shared `NewsQA`; each browser session may hold its own overlay copy."""

    def __init__(self, qa: NewsQA) -> None:
        self.qa = qa
        self.read_only = not os.access(qa.index_dir, os.W_OK)

    def session_qa(self, overlay: NewsQA | None) -> NewsQA:
        return overlay or self.qa

    def refresh(self) -> tuple[str, Any]:
        """On page load: a page opened after an upload shows the index as it is now, not as it was at launch."""
        return stats_line(self.qa), gr.update(choices=self.qa.sources())

    # -- asking

    def respond(self, message: str, history: list[dict[str, Any]], date_from: str | None, date_to: str | None,
                sources: list[str] | None, overlay: NewsQA | None) -> Iterator[tuple[Any, ...]]:
        history = list(history or [])
        history.append({"role": "user", "content": _escape_text(message or "")})
        history.append({"role": "assistant", "content": "Searching the articles…"})
        yield history, "<div class='nq-empty'>Searching the articles…</div>", ""
        filters = {"date_from": date_from or "", "date_to": date_to or "", "sources": sources or ()}
        earlier = [{"role": m["role"], "content": html.unescape(message_text(m.get("content")))}
                   for m in history[:-2]]
        answer, draft = None, ""
        try:
            for event in self.session_qa(overlay).ask_stream(message or "", history=earlier, filters=filters):
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
        paths = [str(f) for f in files or []]
        if not paths:
            return "No files.", overlay, gr.skip(), gr.skip()
        if len(paths) > MAX_FILES:
            return f"Too many files: {len(paths)}; upload at most {MAX_FILES} at a time.", overlay, gr.skip(), gr.skip()
        too_big = [Path(p).name for p in paths if os.path.getsize(p) > MAX_FILE_MB * 1024 * 1024]
        if too_big:
            return (f"Over {MAX_FILE_MB} MB, not added: {', '.join(too_big)}.", overlay, gr.skip(), gr.skip())
        if self.read_only and overlay is None:
            progress(0, desc="Copying the index for this session")
            overlay = NewsQA.open(_copy_index(self.qa.index_dir), settings=self.qa.settings)
        qa = self.session_qa(overlay)
        progress(0, desc="Reading files")
        report = qa.add(paths, on_progress=lambda done, total: progress((done, total), desc="Embedding"))
        lines = [f"Added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
                 f"duplicates {report.duplicates}, skipped {report.skipped}; "
                 f"{report.chunks} passages embedded in {report.seconds:.1f} s."]
        lines += [f"Skipped {_display(str(p))}" for p in report.problems]
        if overlay is not None:
            lines.append("This index is read-only here: the new articles are kept for this session only.")
        return "\n".join(lines), overlay, gr.update(choices=qa.sources()), stats_line(qa)


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


def _drop_overlay(overlay: NewsQA | None) -> None:
    """Gradio calls this when a session expires: its copy of the index would otherwise stay on disk for good."""
    if overlay is not None and overlay.index_dir.parent.name.startswith("newsqa-session-"):
        shutil.rmtree(overlay.index_dir.parent, ignore_errors=True)


def _copy_index(index_dir: Path) -> Path:
    """A writable copy: copytree keeps permission bits, and a read-only index would give a read-only copy."""
    target = Path(tempfile.mkdtemp(prefix="newsqa-session-")) / "index"
    shutil.copytree(index_dir, target, ignore=shutil.ignore_patterns(".lock"))
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


def create_app(qa: NewsQA) -> gr.Blocks:
    app = ChatApp(qa)
    with gr.Blocks(title="newsqa: ask the news") as demo:
        overlay = gr.State(None, delete_callback=_drop_overlay)
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
        files.upload(app.upload, [files, overlay], [upload_status, overlay, sources, stats],
                     api_visibility="private", concurrency_id="upload", concurrency_limit=1)
        api_question.submit(app.api_ask, api_question, api_answer, api_name="ask",
                            concurrency_id="ask", concurrency_limit=4)
    demo.queue(default_concurrency_limit=4, max_size=256)
    return demo


def launch(index_dir: str | os.PathLike[str], answerer: str | None = None, answer_model: str | None = None,
           **kwargs: Any) -> None:
    """Open the index and serve the chat (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are honoured).
    `answerer` and `answer_model` choose a generative answerer (see `NewsQA.open`)."""
    try:
        qa = NewsQA.open(index_dir, answerer=answerer, answer_model=answer_model)
    except (StoreError, ValueError) as exc:
        raise SystemExit(f"newsqa: {exc}") from None
    qa.embedder  # noqa: B018 - load the model before the first visitor, not during their question
    create_app(qa).launch(theme=THEME, css=CSS, max_file_size=f"{MAX_FILE_MB}mb", show_error=False, **kwargs)
