"""Nothing about the answer server reaches a public answer: not its URL, not its credentials, not its words.

A real HTTP server on 127.0.0.1 (bench/scripted_server.py) rejects the request and echoes the
API key it was given in its 401 body, as some servers do; the answer, its notice, the chat's
stats line and the public `/ask` JSON must hold none of it, and the server log must hold the
detail with the credentials masked.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

from newsqa import NewsQA
from newsqa.redact import mask

sys.path.insert(0, str(ROOT / "bench"))
from scripted_server import Reply, ScriptedServer

QUESTION = "Why did the US sanction Turkey?"
API_KEY = "sk-live-7f3a9c2e41d0b8e6"
USER, PASSWORD = "operator", "hunter2-secret-pw"


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


def secret_url(server: ScriptedServer) -> str:
    return server.url.replace("http://", f"http://{USER}:{PASSWORD}@")


def rejecting(server: ScriptedServer) -> Reply:
    """The 401 a server that echoes the rejected key sends (OpenAI's own wording)."""
    body = {"error": {"message": f"Incorrect API key provided: {API_KEY}. Authorization: Bearer {API_KEY}",
                      "type": "invalid_request_error", "url": secret_url(server)}}
    return Reply(status=401, body=json.dumps(body))


def leaks(text: str, server: ScriptedServer) -> list[str]:
    return [s for s in (API_KEY, PASSWORD, USER, server.url, "127.0.0.1") if s in text]


def test_rejected_key_is_summarized_in_the_answer_and_masked_in_the_log(
        small_index: Path, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("NEWSQA_API_KEY", API_KEY)
    qa = NewsQA.open(small_index, answerer=f"openai:{secret_url(server)}", answer_model="m")
    server.script(rejecting(server))
    with caplog.at_level(logging.WARNING, logger="newsqa.answer"):
        answer = qa.ask(QUESTION)
    assert answer.answerer == "extractive (fallback: openai (m) rejected the request (HTTP 401))"
    assert answer.notice == "openai (m) rejected the request (HTTP 401); this is the extractive answer."
    assert "S-400" in answer.text  # the extractive answer stands in
    assert not leaks(json.dumps(answer.to_dict()), server)

    request = server.requests[-1]
    assert request["headers"]["Authorization"] == f"Bearer {API_KEY}"  # the key was sent, to the server only
    logged = caplog.text
    assert "HTTP 401" in logged and "Incorrect API key provided: ***" in logged and "Bearer ***" in logged
    assert f"http://***@{server.url.removeprefix('http://')}" in logged  # the URL the server echoed, masked
    assert API_KEY not in logged and PASSWORD not in logged


def test_unreachable_and_malformed_servers_are_summarized(small_index: Path, server: ScriptedServer,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    down = NewsQA.open(small_index, answerer=f"openai:http://{USER}:{PASSWORD}@127.0.0.1:{closed}/v1")
    with caplog.at_level(logging.WARNING, logger="newsqa.answer"):
        answer = down.ask(QUESTION)
    assert answer.notice == "openai (default) could not be reached; this is the extractive answer."
    assert f"http://127.0.0.1:{closed}/v1/chat/completions" in caplog.text and PASSWORD not in caplog.text

    qa = NewsQA.open(small_index, answerer=f"openai:{secret_url(server)}", answer_model="m")
    server.script(Reply(body=f"<html>proxy error for {secret_url(server)} key={API_KEY}</html>"))
    answer = qa.ask(QUESTION)
    assert answer.notice == "openai (m) sent a malformed response (not JSON); this is the extractive answer."
    assert not leaks(json.dumps(answer.to_dict()), server)


def test_public_ask_and_stats_line_name_only_the_kind_and_model(small_index: Path, server: ScriptedServer,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from gradio_client import Client

    from newsqa.ui import create_app, stats_line

    monkeypatch.setenv("NEWSQA_API_KEY", API_KEY)
    qa = NewsQA.open(small_index, answerer=f"openai:{secret_url(server)}", answer_model="m")
    assert "answers by openai (m), verified" in stats_line(qa) and not leaks(stats_line(qa), server)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = create_app(qa)
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=port, ssr_mode=False)
    try:
        server.script(rejecting(server))
        result = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(QUESTION, api_name="/ask")
    finally:
        demo.close()
    assert result["answerer"] == "extractive (fallback: openai (m) rejected the request (HTTP 401))"
    assert not leaks(json.dumps(result), server)


def test_mask_hides_credentials_in_urls_headers_and_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "plain-key-without-prefix")
    assert mask("POST https://me:pw@llm.example/v1 failed") == "POST https://***@llm.example/v1 failed"
    assert mask("Authorization: Bearer abc.def-123") == "Authorization: Bearer ***"
    assert mask('{"api_key": "zzz", "x": 1}') == '{"api_key": "***", "x": 1}'
    assert mask("https://llm.example/v1?key=abc&n=1") == "https://llm.example/v1?key=***&n=1"
    assert mask("rejected plain-key-without-prefix") == "rejected ***"  # the configured key, whatever its shape
    assert mask("bad sk-abcdef123456 given") == "bad sk-*** given"
    assert mask("the monkey: 3 bananas") == "the monkey: 3 bananas"  # ordinary text stays
