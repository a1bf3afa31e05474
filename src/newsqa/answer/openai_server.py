"""A chat model behind any OpenAI-compatible server: llama.cpp server, Ollama, vLLM, LM Studio.

It speaks POST {base_url}/chat/completions with httpx, streamed as server-sent events
(`data: {...}` lines, ending with `data: [DONE]`) or as one JSON response. The key,
when the server needs one, comes from NEWSQA_API_KEY or OPENAI_API_KEY; a user:password
in the base URL is sent as HTTP basic auth when there is no key, and kept out of every message. Every failure
(refused, slow, HTTP error, garbled response) becomes a GenerationError whose message
summarizes what happened without the server's address or its words, which may echo a
credential: those go to the server log (logger "newsqa.answer"), credentials masked.

The server's tokenizer is unknown here, so prompt length is estimated at
`chars_per_token` characters a token (3 by default: English text runs nearer 4,
so the estimate over-counts and the prompt stays inside `context_tokens`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx

from ..config import GenerationSettings
from ..redact import mask
from .chat import GenerationError, public_name

log = logging.getLogger("newsqa.answer")
_MESSAGE_OVERHEAD = 8  # tokens a chat template adds around each message (role markers and the like)
_LOGGED_BODY_CHARS = 2000  # of a failing server's response, in the log


class _Failure(GenerationError):
    """A GenerationError whose `detail` (the server's own words) goes to the log, never to an answer."""

    def __init__(self, summary: str, detail: str = "") -> None:
        super().__init__(summary)
        self.detail = detail


class OpenAIServer:
    def __init__(self, base_url: str, settings: GenerationSettings) -> None:
        self.name = public_name(settings)
        url = httpx.URL(base_url.rstrip("/") + "/chat/completions")
        self.auth = httpx.BasicAuth(url.username, url.password) if url.userinfo else None
        self.secrets = [url.password] if url.password else []
        self.url = url.copy_with(userinfo=b"")
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
            with httpx.Client(timeout=httpx.Timeout(s.timeout, connect=s.connect_timeout),
                              auth=None if key else self.auth) as client, \
                    client.stream("POST", self.url, json=body, headers=headers) as response:
                if response.status_code >= 400:
                    raise _Failure(_status_summary(response.status_code), _head(response))
                if "text/event-stream" in response.headers.get("content-type", ""):
                    yield from self._events(response, deadline)
                else:  # asked for no stream, or a server that ignores the request for one
                    yield _content(_json(response.read().decode("utf-8", "replace")), "message")
        except _Failure as exc:
            self._log(exc, exc.detail)
            raise
        except httpx.TimeoutException as exc:
            raise self._log(_Failure(f"did not answer within {s.timeout:g} s"), repr(exc)) from None
        except httpx.ConnectError as exc:
            raise self._log(_Failure("could not be reached"), str(exc)) from None
        except httpx.HTTPError as exc:
            raise self._log(_Failure(f"failed ({type(exc).__name__})"), str(exc)) from None

    def _log(self, failure: GenerationError, detail: str) -> GenerationError:
        """The whole story for the operator: which server, what it said, credentials masked."""
        log.warning("%s at %s %s: %s", self.name, mask(str(self.url), self.secrets), failure,
                    mask(" ".join(detail.split())[:_LOGGED_BODY_CHARS], self.secrets))
        return failure

    def _events(self, response: httpx.Response, deadline: float) -> Iterator[str]:
        got_any = False
        for line in response.iter_lines():
            if time.monotonic() > deadline:
                raise _Failure(f"did not finish within {self.settings.timeout:g} s")
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
            raise _Failure("sent an event stream with no data")


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise _Failure("sent a malformed response (not JSON)", text) from None
    if not isinstance(value, dict):
        raise _Failure("sent a malformed response (not a JSON object)", text)
    if "error" in value:
        raise _Failure("reported an error", text)
    return value


def _content(value: dict[str, Any], part: str) -> str:
    """choices[0].message.content (a whole response) or choices[0].delta.content (a streamed event)."""
    try:
        content = value["choices"][0][part].get("content") if value["choices"] else ""
    except (KeyError, IndexError, TypeError, AttributeError):
        raise _Failure(f"sent a malformed response (no choices[0].{part})", json.dumps(value)) from None
    if content is not None and not isinstance(content, str):
        raise _Failure(f"sent a malformed response ({part}.content is not text)", json.dumps(value))
    return content or ""


def _head(response: httpx.Response) -> str:
    """The start of an error response, for the log: a hostile server's body can be of any size."""
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= _LOGGED_BODY_CHARS:
            break
    return data[:_LOGGED_BODY_CHARS].decode("utf-8", "replace")


def _status_summary(status: int) -> str:
    """An HTTP error status in an answer's words; the body, which may echo a credential, stays in the log."""
    if status < httpx.codes.INTERNAL_SERVER_ERROR:
        return f"rejected the request (HTTP {status})"
    return f"failed with a server error (HTTP {status})"
