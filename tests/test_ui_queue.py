"""Every chat handler called as an attacker would: by fn_index over Gradio's queue, with hostile inputs.

`api_visibility="private"` keeps a handler out of the API page and gradio_client's view, but the
browser calls handlers by fn_index over /gradio_api/queue/join, and so can anyone. These tests
speak that protocol with raw HTTP against a real app on 127.0.0.1 and check that no input
changes the shared index, reads a server file, leaks a traceback, or stops the app answering.
"""

from __future__ import annotations

import json
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_ui import POISON, SAMPLE_ID, SANCTION_QUESTION, UI_DATA, poison_file, snapshot

from newsqa import NewsQA
from newsqa.ui import MAX_FILE_MB, MAX_HISTORY_MESSAGES, create_app

TIMEOUT_S = 60  # the longest one call may take (a first answer loads the model)
HOSTILE = [None, 12345, -1.5, True, "x" * 200_000, {"path": "/etc/passwd"}, [[[["deep"]]]], {"__class__": "x"}]


@pytest.fixture(scope="module")
def served(small_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, NewsQA]]:
    shared = tmp_path_factory.mktemp("queue") / "index"
    shutil.copytree(small_index, shared, ignore=shutil.ignore_patterns(".lock"))
    qa = NewsQA.open(shared)
    qa.embedder  # noqa: B018 - loaded before the first call
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = create_app(qa)
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=port, ssr_mode=False,
                max_file_size=f"{MAX_FILE_MB}mb")
    try:
        yield f"http://127.0.0.1:{port}/", demo, qa
    finally:
        demo.close()
FERRY_WORDS = ("Nordvik", "Skarsund", "hull", "fjord")  # tests/data/ui/ferry.txt's own words


def handlers(demo: Any) -> dict[str, list[int]]:
    """fn_index of each handler, by the handler's name ("<lambda>" for the small ones)."""
    found: dict[str, list[int]] = {}
    for index, fn in demo.fns.items():
        found.setdefault(getattr(fn.fn, "__name__", "?"), []).append(index)
    return found


def call(url: str, fn_index: int, data: list[Any], session: str | None = None) -> dict[str, Any]:
    """One event through the queue, as the browser sends it: the last message, or the HTTP refusal."""
    session = session or uuid.uuid4().hex[:11]
    with httpx.Client(timeout=TIMEOUT_S) as client:
        joined = client.post(f"{url}gradio_api/queue/join", json={
            "data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None})
        if joined.status_code != 200:
            return {"msg": "refused", "status": joined.status_code, "text": joined.text}
        with client.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        return message
    raise AssertionError(f"fn_index {fn_index} never completed")


def uploaded(url: str, path: Path) -> dict[str, Any]:
    """A file through Gradio's upload route, as the browser sends it first: its FileData for a call."""
    with httpx.Client(timeout=TIMEOUT_S) as client, path.open("rb") as f:
        response = client.post(f"{url}gradio_api/upload", files={"files": (path.name, f)})
    response.raise_for_status()
    return {"path": response.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def output(message: dict[str, Any]) -> list[Any]:
    assert message.get("success") is True, message
    return message["output"]["data"]


def last_chat(message: dict[str, Any]) -> str:
    chat = output(message)[0]
    content = chat[-1]["content"]
    return content if isinstance(content, str) else json.dumps(content)


def assert_harmless(message: dict[str, Any]) -> None:
    text = json.dumps(message)
    assert "Traceback" not in text and "root:x:0:0" not in text and 'File "/' not in text, text[:500]


def test_every_handler_survives_hostile_inputs(served: tuple[str, Any, NewsQA]) -> None:
    url, demo, qa = served
    files = snapshot(qa.index_dir)
    assert sum(len(v) for v in handlers(demo).values()) == len(demo.fns) >= 13
    for index, fn in demo.fns.items():
        for value in HOSTILE:
            message = call(url, index, [value] * len(fn.inputs))
            assert_harmless(message)
        assert_harmless(call(url, index, []))  # too few inputs
        assert_harmless(call(url, index, ["a"] * (len(fn.inputs) + 3)))  # too many
    assert snapshot(qa.index_dir) == files
    assert "S-400" in last_chat(call(url, handlers(demo)["respond"][0], [SANCTION_QUESTION, [], None, None, None,
                                                                          None, None]))


def test_ask_handler_checks_history_dates_and_outlets(served: tuple[str, Any, NewsQA]) -> None:
    url, demo, _ = served
    respond = handlers(demo)["respond"][0]
    long_chat = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}] * (MAX_HISTORY_MESSAGES + 1)
    assert "cannot be continued" in last_chat(call(url, respond, [SANCTION_QUESTION, long_chat, None, None, None,
                                                                  None, None]))
    text = last_chat(call(url, respond, [SANCTION_QUESTION, [], "2017-01-01' OR 1=1 --", None, None, None, None]))
    assert "'Published from' takes a date like 2017-03-29" in text
    refused = call(url, respond, [SANCTION_QUESTION, [], None, None, ["No such outlet"], None, None])
    assert refused.get("success") is False  # Gradio's dropdown refuses a value it did not offer
    reply = call(url, respond, ["Why " + "x" * 50_000, [], None, None, None, None, None])
    assert "50004 characters long; the limit is 2000" in last_chat(reply)
    assert len(json.dumps(output(reply))) < 10_000  # the chat does not echo the whole question back


def test_upload_handler_reads_only_uploaded_files_into_the_callers_copy(served: tuple[str, Any, NewsQA],
                                                                        tmp_path: Path,
                                                                        capfd: pytest.CaptureFixture[str]) -> None:
    url, demo, qa = served
    upload = handlers(demo)["upload"][0]
    files, articles = snapshot(qa.index_dir), qa.info()["articles"]
    database = next(qa.index_dir.glob("*.sqlite"))
    for path in ("/etc/passwd", str(database), str(UI_DATA / "ferry.txt"), "../../../../etc/passwd"):
        message = call(url, upload, [[{"path": path, "orig_name": Path(path).name,
                                       "meta": {"_type": "gradio.FileData"}}], None])
        assert_harmless(message)
        assert message.get("success") is False, (path, message)
        assert "because it was not uploaded by a user" in capfd.readouterr().err  # Gradio's own check refused it

    session = uuid.uuid4().hex[:11]
    poison = uploaded(url, poison_file(tmp_path))
    report = output(call(url, upload, [[poison, uploaded(url, UI_DATA / "ferry.txt")], None], session))[0]
    assert report.startswith("Added 1,") and f"id '{SAMPLE_ID}' already exists in the index" in report
    assert "for this session only" in report
    respond = handlers(demo)["respond"][0]
    mine = last_chat(call(url, respond, ["Why was the Nordvik ferry out of service?", [], None, None, None, None, None],
                          session))
    assert any(word in mine for word in FERRY_WORDS), mine  # the uploader's own session reads its copy
    others = last_chat(call(url, respond, ["Why was the Nordvik ferry out of service?", [], None, None, None,
                                           None, None]))
    assert not any(word in others for word in FERRY_WORDS) or others.startswith("⚠️")  # another session does not
    assert POISON not in last_chat(call(url, respond, [SANCTION_QUESTION, [], None, None, None, None, None], session))
    assert snapshot(qa.index_dir) == files and qa.info()["articles"] == articles
