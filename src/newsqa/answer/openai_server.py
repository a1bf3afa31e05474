"""A chat model behind any OpenAI-compatible server: llama.cpp server, Ollama, vLLM, LM Studio.

It speaks POST {base_url}/chat/completions with httpx, streamed as server-sent events
(`data: {...}` lines, ending with `data: [DONE]`) or as one JSON response. The key,
when the server needs one, comes from NEWSQA_API_KEY or OPENAI_API_KEY. Every
failure (refused, slow, HTTP error, garbled response) becomes a GenerationError
whose message says what happened.

The server's tokenizer is unknown here, so prompt length is estimated at
`chars_per_token` characters a token (3 by default: English text runs nearer 4,
so the estimate over-counts and the prompt stays inside `context_tokens`).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx

from ..config import GenerationSettings
from .generative import GenerationError

_MESSAGE_OVERHEAD = 8  # tokens a chat template adds around each message (role markers and the like)


class OpenAIServer:
    def __init__(self, base_url: str, settings: GenerationSettings) -> None:
        self.name = f"openai:{base_url}"
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.settings = settings
        self.budget = settings.context_tokens - settings.max_new_tokens

    def count(self, messages: list[dict[str, str]]) -> int:
        chars = sum(len(m["content"]) for m in messages)
        return math.ceil(chars / self.settings.chars_per_token) + _MESSAGE_OVERHEAD * len(messages)

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        s = self.settings
        body = {"model": s.model or "default", "messages": messages, "max_tokens": s.max_new_tokens,
                "temperature": s.temperature, "stream": s.stream}
        key = os.environ.get("NEWSQA_API_KEY") or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        deadline = time.monotonic() + s.timeout
        try:
            with httpx.Client(timeout=httpx.Timeout(s.timeout, connect=s.connect_timeout)) as client, \
                    client.stream("POST", self.url, json=body, headers=headers) as response:
                if response.status_code >= 400:
                    detail = " ".join(response.read().decode("utf-8", "replace").split())[:200]
                    raise GenerationError(f"answered HTTP {response.status_code} from {self.url}: {detail}")
                if "text/event-stream" in response.headers.get("content-type", ""):
                    yield from self._events(response, deadline)
                else:  # asked for no stream, or a server that ignores the request for one
                    yield _content(_json(response.read().decode("utf-8", "replace")), "message")
        except httpx.TimeoutException:
            raise GenerationError(f"did not answer within {s.timeout:g} s") from None
        except httpx.ConnectError as exc:
            raise GenerationError(f"could not be reached at {self.url} ({exc})") from None
        except httpx.HTTPError as exc:
            raise GenerationError(f"failed: {type(exc).__name__}: {exc}") from None

    def _events(self, response: httpx.Response, deadline: float) -> Iterator[str]:
        got_any = False
        for line in response.iter_lines():
            if time.monotonic() > deadline:
                raise GenerationError(f"did not finish within {self.settings.timeout:g} s")
            if not line.startswith("data:"):
                continue  # blank lines, comments (":"), event names
            data = line[5:].strip()
            if data == "[DONE]":
                return
            piece = _content(_json(data), "delta")
            got_any = True
            if piece:
                yield piece
        if not got_any:
            raise GenerationError("sent an event stream with no data")


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise GenerationError(f"sent a malformed response (not JSON): {text[:120]!r}") from None
    if not isinstance(value, dict):
        raise GenerationError(f"sent a malformed response: {text[:120]!r}")
    if "error" in value:
        error = value["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise GenerationError(f"reported an error: {str(message)[:200]}")
    return value


def _content(value: dict[str, Any], part: str) -> str:
    """choices[0].message.content (a whole response) or choices[0].delta.content (a streamed event)."""
    try:
        content = value["choices"][0][part].get("content") if value["choices"] else ""
    except (KeyError, IndexError, TypeError, AttributeError):
        raise GenerationError(f"sent a malformed response (no choices[0].{part}): "
                              f"{json.dumps(value)[:120]}") from None
    if content is not None and not isinstance(content, str):
        raise GenerationError(f"sent a malformed response ({part}.content is not text)")
    return content or ""
