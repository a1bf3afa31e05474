"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for the tests and bench/generative.py.

Each POST to /v1/chat/completions gets the next scripted `Reply`: its text, streamed as
server-sent events when the request asks for a stream (one event a word, then
`data: [DONE]`) or else sent as one JSON response; or an HTTP error, a body sent as
it is (a malformed response), or a delay (a slow server). Requests are recorded.

    with ScriptedServer() as server:
        server.script("Turkey bought S-400s [1].")
        NewsQA.open("index", answerer=f"openai:{server.url}").ask("...")
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    body: str | None = None  # sent as is instead of a well-formed response
    delay: float = 0.0  # seconds to wait before answering


class ScriptedServer:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                server.requests.append({"path": self.path, "headers": dict(self.headers), **request})
                if not self.path.endswith("/chat/completions"):
                    self._send(404, "application/json", json.dumps({"error": {"message": "not found"}}))
                    return
                reply = server.replies.popleft() if server.replies else Reply(status=500, text="no scripted reply")
                time.sleep(reply.delay)
                try:
                    if reply.body is not None:
                        self._send(reply.status, "application/json", reply.body)
                    elif reply.status >= 400:
                        self._send(reply.status, "application/json", json.dumps({"error": {"message": reply.text}}))
                    elif request.get("stream"):
                        self._stream(reply.text)
                    else:
                        self._send(200, "application/json", json.dumps(
                            {"object": "chat.completion", "choices": [
                                {"index": 0, "message": {"role": "assistant", "content": reply.text},
                                 "finish_reason": "stop"}]}))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def _send(self, status: int, kind: str, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = text.split(" ")
                pieces = [{"role": "assistant"}] + [{"content": w if i == len(words) - 1 else w + " "}
                                                    for i, w in enumerate(words)]
                for delta in pieces:
                    event = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def script(self, *replies: Reply | str) -> None:
        self.replies.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
