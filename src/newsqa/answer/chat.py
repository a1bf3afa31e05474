"""The chat models a generative answerer writes with: their protocol, how one is named in public,
loaded, and how its failures are reported (a summary for the answer, the detail for the log).

Apart from generative.py so that the model back ends (openai_server.py, local_model.py) import
this and not the answerer that imports them.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from ..config import ANSWERERS, GenerationSettings
from ..redact import mask

log = logging.getLogger("newsqa.answer")


class GenerationError(Exception):
    """The model gave no usable answer. The message completes "<answerer> ...", e.g. "did not answer within 30 s"."""


class ChatModel(Protocol):
    """What the answerer needs of a model: its name, how many prompt tokens it takes, and a text stream."""

    name: str  # its public name, e.g. "openai (llama3.2)" (see public_name)
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


def public_name(generation: GenerationSettings) -> str:
    """The answerer as answers name it: "openai (<model>)" or "transformers (<model>)". Never the server's
    URL (it may carry user:password) nor a local model's folder."""
    kind, _, target = generation.answerer.partition(":")
    if kind == "openai":
        return f"openai ({generation.model or 'default'})"
    if kind == "transformers":
        local = target.startswith(("/", ".", "~")) or Path(target).exists()
        return f"transformers ({Path(target).name if local else target})"
    return generation.answerer


def logged_failure(name: str, summary: str, exc: BaseException) -> str:
    """`summary` for the answer; the exception's detail and traceback for the log, credentials masked."""
    log.warning("%s %s: %s", name, summary, mask("".join(traceback.format_exception(exc)).rstrip()))
    return summary


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
        summary = f"could not be loaded ({type(exc).__name__})"
        raise GenerationError(logged_failure(public_name(generation), summary, exc)) from exc
