"""The prompt a generative answerer sends: numbered articles, the conversation, the question.

Passages of one article share a number (an answer's citations number articles), and
each article is headed by its outlet, date and title, so the model can say who
reported what and when. The prompt must fit the model's context: the lowest-ranked
passages are dropped first, then the oldest turns of the conversation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..question import message_text
from ..types import Hit
from .compose import human_date

SYSTEM = (
    "You answer questions about the news using only the numbered articles the user gives you, "
    "never what you know from elsewhere. Answer in at most {sentences} short sentences. End every "
    "sentence with the number of the article it comes from in square brackets, like [1] or [1][3]. "
    "Copy names, numbers and dates exactly as the articles give them. If the articles do not answer "
    "the question, reply only: The articles do not cover this."
)
_MARKERS = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")


class PromptTooLong(ValueError):
    """Even the best passage alone does not fit the model's context."""


@dataclass
class Source:
    """One numbered article of the prompt: its retrieved passages, best first."""

    number: int
    hits: list[Hit]

    @property
    def text(self) -> str:
        """The passages in article order; a gap between them is marked with an ellipsis."""
        return "\n...\n".join(h.text.strip() for h in sorted(self.hits, key=lambda h: h.start))

    def block(self) -> str:
        first = self.hits[0]
        when = human_date(first.published) if first.published else "date unknown"
        return f"[{self.number}] {first.source or 'unknown outlet'}, {when}: {first.title}\n{self.text}"


def sources_of(hits: Sequence[Hit]) -> list[Source]:
    """Hits grouped by article, numbered in the order of each article's best hit."""
    grouped: dict[str, list[Hit]] = {}
    for hit in hits:
        grouped.setdefault(hit.article_id, []).append(hit)
    return [Source(number, group) for number, group in enumerate(grouped.values(), start=1)]


def messages(question: str, history: Sequence[dict[str, Any]], sources: Sequence[Source],
             max_sentences: int) -> list[dict[str, str]]:
    articles = "\n\n".join(s.block() for s in sources)
    return [{"role": "system", "content": SYSTEM.format(sentences=max_sentences)},
            *history,
            {"role": "user", "content": f"Articles:\n\n{articles}\n\nQuestion: {question}"}]


def conversation(history: Sequence[dict[str, Any]] | None, limit: int) -> list[dict[str, str]]:
    """The last `limit` user and assistant messages as plain text, starting with a user's and
    alternating (chat templates insist), without the [n] markers of earlier answers (their
    numbers meant other articles)."""
    turns: list[dict[str, str]] = []
    for m in history or []:
        role = m.get("role") if isinstance(m, dict) else None
        if role not in ("user", "assistant"):
            continue
        text = " ".join(_MARKERS.sub("", message_text(m.get("content"))).split())
        if not text:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n" + text
        else:
            turns.append({"role": role, "content": text})
    turns = turns[-limit:] if limit > 0 else []
    while turns and turns[0]["role"] != "user":
        turns.pop(0)
    if turns and turns[-1]["role"] == "user":
        turns.pop()  # the question comes next, with the articles
    return turns


def fit(question: str, history: list[dict[str, str]], hits: Sequence[Hit], max_sentences: int,
        count: Callable[[list[dict[str, str]]], int], budget: int) -> tuple[list[dict[str, str]], list[Source]]:
    """The messages and the sources they hold, within `budget` tokens as `count` measures them:
    the lowest-ranked passages go first, then the oldest exchanges of the conversation."""
    keep = len(hits)
    while True:
        sources = sources_of(hits[:keep])
        prompt = messages(question, history, sources, max_sentences)
        if count(prompt) <= budget:
            return prompt, sources
        if keep > 1:
            keep -= 1
        elif history:
            history = history[2:]
        else:
            raise PromptTooLong(f"the question and its best passage need {count(prompt)} tokens; "
                                f"the model's budget for a prompt is {budget}")
