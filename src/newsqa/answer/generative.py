"""Generative answers, verified: a chat model writes, verify.py checks, the extractive answer is the fallback.

The stream protocol (`NewsQA.ask_stream`): zero or more `str` items, each a piece of
the model's text as it is generated (a draft: not yet checked, markers as the
model wrote them), then exactly one `Answer`, the verified answer, as the last
item. An extractive answerer yields only the `Answer`.

The model's answer is replaced by the extractive one, saying why in
`Answer.answerer` and `Answer.notice`, when the model fails (server down, slow,
HTTP error, garbled response), when no sentence survives verification, or when
it says the articles do not cover the question while the extractive answerer
finds an answer. Answers name the answerer by `public_name` (its kind and model, never a
server's address or a local path) and summarize a failure; the detail goes to the log.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..config import Settings
from ..storage import StoreReader
from ..types import Answer
from .chat import GenerationError, load_chat_model, logged_failure, public_name
from .contract import Draft, Event, Request
from .extractive import ExtractiveAnswerer
from .prompt import PromptTooLong, conversation, fit
from .verify import verify


class GenerativeAnswerer:
    """Asks a chat model, streams its draft, verifies it, and falls back to the extractive answer."""

    def __init__(self, settings: Settings, reader: StoreReader, extractive: ExtractiveAnswerer) -> None:
        self.settings = settings
        self.name = public_name(settings.generation)
        self.reader = reader
        self.extractive = extractive  # its answer stands in when the model's does not

    def stream(self, request: Request) -> Iterator[Event]:
        """Draft pieces, then the final Answer (see the module docstring)."""
        if not request.hits:
            yield self.extractive.answer(request)  # nothing to give the model: the extractive abstention says so
            return
        generation = self.settings.generation
        try:
            model = load_chat_model(generation)
            prompt, sources = fit(request.question, conversation(request.history, generation.history_messages),
                                  request.hits, self.settings.answer.max_sentences, model.count, model.budget)
            pieces: list[str] = []
            for piece in model.stream(prompt):
                pieces.append(piece)
                yield Draft(piece)
        except (GenerationError, PromptTooLong) as exc:
            yield self._fallback(request, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a model's failure must not break the question
            yield self._fallback(request, logged_failure(self.name, f"failed ({type(exc).__name__})", exc))
            return
        generated = "".join(pieces)
        request.lap("generate")
        verdict = verify(generated, sources, self.reader, generation.support_threshold)
        request.lap("verify")
        if verdict.kept:
            removed = len(verdict.unsupported)
            notice = (f"{removed} sentence{'s' if removed != 1 else ''} of the generated answer "
                      f"{'were' if removed != 1 else 'was'} removed: not supported by the cited articles."
                      if removed else "")
            yield request.answer(verdict.text, verdict.citations, answerer=self.name, generated=generated,
                                 unsupported=verdict.unsupported, notice=notice)
            return
        if verdict.declined and not request.choice.sentences:  # both agree the articles do not say
            yield self.extractive.answer(request, answerer=self.name, generated=generated, unsupported=[
                u for u in verdict.unsupported if u.reason != "says the articles do not cover it"])
            return
        reason = ("said the articles do not cover it, but the extractive answerer found an answer"
                  if verdict.declined else "gave no supported sentence")
        yield self._fallback(request, reason, generated=generated, unsupported=verdict.unsupported)

    def _fallback(self, request: Request, reason: str, **given: object) -> Answer:
        return self.extractive.answer(request, answerer=f"extractive (fallback: {self.name} {reason})",
                                      notice=f"{self.name} {reason}; this is the extractive answer.", **given)
