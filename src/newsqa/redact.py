"""Credentials out of text bound for a log: user:password in URLs, API keys, bearer tokens.

An answer server's error body, an exception's message or a URL can carry the key the
server rejected. Such text goes to the server log only (never to a public answer), and
through `mask` first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

MASK = "***"
KEY_VARIABLES = ("NEWSQA_API_KEY", "OPENAI_API_KEY")
MIN_SECRET_CHARS = 4  # a shorter "secret" would mask ordinary words and numbers in the text
_PATTERNS = (
    # scheme://user:password@host -> scheme://***@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@"), rf"\g<1>{MASK}@"),
    # Authorization: Bearer <token> / Basic <credentials>
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+"), rf"\g<1>\g<2>{MASK}"),
    # "api_key": "...", api-key=..., token: ..., password=... (JSON, query strings, headers)
    (re.compile(r"(?i)([\"']?\b(?:api[_-]?key|x-api-key|key|access[_-]?token|token|secret|password)[\"']?"
                r"\s*[:=]\s*[\"']?)[^\s\"',&}]+"), rf"\g<1>{MASK}"),
    # OpenAI-style keys quoted on their own ("Incorrect API key provided: sk-...")
    (re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"), f"sk-{MASK}"),
)


def known_secrets(extra: Iterable[str | None] = ()) -> list[str]:
    """The API keys in the environment and any `extra` secret, longest first (a key may contain another)."""
    values = [os.environ.get(name) for name in KEY_VARIABLES] + list(extra)
    return sorted({v for v in values if v and len(v) >= MIN_SECRET_CHARS}, key=len, reverse=True)


def mask(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every known secret and every credential-shaped part replaced by ***."""
    for secret in known_secrets(secrets):
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
