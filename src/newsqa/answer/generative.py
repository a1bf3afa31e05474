"""Generative answers, verified: a chat model writes, verify.py checks, the extractive answer is the fallback.

The stream protocol (`NewsQA.ask_stream`): zero or more `str` items, each a piece of
the model's text as it is generated (a draft: not yet checked, markers as the
model wrote them), then exactly one `Answer`, the verified answer, as the last
item. An extractive answerer yields only the `Answer`.

The model's answer is replaced by the extractive one, saying why in
`Answer.answerer` and `Answer.notice`, when the model fails (server down, slow,
HTTP error, garbled response), when no sentence survives verification, or when
it says the articles do not cover the question while the extractive answerer
finds an answer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from ..config import ANSWERERS, GenerationSettings, Settings
from ..embedding import Embedder
from ..store import Reader
from ..types import Answer, Hit
from .prompt import PromptTooLong, conversation, fit
from .verify import verify

Event = str | Answer  # what ask_stream yields: draft text, then the final Answer


class GenerationError(Exception):
    """The model gave no usable answer. The message completes "<answerer> ...", e.g. "did not answer within 30 s"."""


class ChatModel(Protocol):
    """What the answerer needs of a model: its name, how many prompt tokens it takes, and a text stream."""

    name: str  # the answerer setting, e.g. "openai:http://localhost:11434/v1"
    budget: int  # tokens a prompt may use (the context less the room kept for the answer)

    def count(self, messages: list[dict[str, str]]) -> int: ...

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """The answer as it is generated; raises GenerationError."""
        ...


def check_answerer(answerer: str) -> str:
    """The answerer setting, or ValueError naming the accepted forms."""
    kind, _, target = answerer.partition(":")
    if answerer == "extractive" or (kind in ("transformers", "openai") and target.strip()):
        return answerer
    raise ValueError(f"unknown answerer {answerer!r}; use one of: {', '.join(ANSWERERS)}")


@functools.lru_cache(maxsize=2)
def load_chat_model(generation: GenerationSettings) -> ChatModel:
    """The model a generative answerer setting names (loaded once per settings: a local model takes seconds)."""
    kind, _, target = check_answerer(generation.answerer).partition(":")
    if kind == "openai":
        from .openai_server import OpenAIServer

        return OpenAIServer(target, generation)
    from .local_model import LocalModel

    try:
        return LocalModel(target, generation)
    except Exception as exc:  # any loading failure becomes the reader's message
        raise GenerationError(f"could not be loaded: {exc}") from exc


class GenerativeAnswerer:
    """Asks a chat model, streams its draft, verifies it, and falls back to the extractive answer."""

    def __init__(self, settings: Settings, reader: Reader, embedder: Embedder) -> None:
        self.settings = settings
        self.name = settings.generation.answerer
        self.reader = reader
        self.embedder = embedder

    def stream(self, question: str, history: Sequence[dict[str, Any]] | None, hits: list[Hit],
               extractive: Callable[[], Answer], lap: Callable[[str], None]) -> Iterator[Event]:
        """Draft pieces, then the final Answer (see the module docstring). `extractive` makes the
        fallback answer; `lap(stage)` records timings."""
        if not hits:
            yield extractive()  # nothing to give the model: the extractive abstention says so
            return
        generation = self.settings.generation
        try:
            model = load_chat_model(generation)
            prompt, sources = fit(question, conversation(history, generation.history_messages), hits,
                                  self.settings.answer.max_sentences, model.count, model.budget)
            pieces: list[str] = []
            for piece in model.stream(prompt):
                pieces.append(piece)
                yield piece
        except (GenerationError, PromptTooLong) as exc:
            yield self._fallback(extractive(), str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a model's failure must not break the question
            yield self._fallback(extractive(), f"failed: {type(exc).__name__}: {exc}")
            return
        generated = "".join(pieces)
        lap("generate")
        verdict = verify(generated, sources, self.reader, generation.support_threshold)
        lap("verify")
        if verdict.kept:
            removed = len(verdict.unsupported)
            notice = (f"{removed} sentence{'s' if removed != 1 else ''} of the generated answer "
                      f"{'were' if removed != 1 else 'was'} removed: not supported by the cited articles."
                      if removed else "")
            yield Answer(question, verdict.text, verdict.citations, answerer=self.name, generated=generated,
                         unsupported=verdict.unsupported, notice=notice)
            return
        fallback = extractive()
        if verdict.declined and fallback.abstained:  # both agree the articles do not say
            fallback.answerer, fallback.generated = self.name, generated
            fallback.unsupported = [u for u in verdict.unsupported if u.reason != "says the articles do not cover it"]
            yield fallback
            return
        reason = ("said the articles do not cover it, but the extractive answerer found an answer"
                  if verdict.declined else "gave no supported sentence")
        answer = self._fallback(fallback, reason)
        answer.generated, answer.unsupported = generated, verdict.unsupported
        yield answer

    def _fallback(self, answer: Answer, reason: str) -> Answer:
        answer.answerer = f"extractive (fallback: {self.name} {reason})"
        answer.notice = f"{self.name} {reason}; this is the extractive answer."
        return answer
