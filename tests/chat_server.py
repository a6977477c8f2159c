"""A local HTTP server standing in for the chat services (Teams, Slack,
Mattermost, a JSON webhook): Apprise posts to it. It binds port 0 (the system
picks) and records what it received; ``status`` is what it answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class ChatServer:
    port: int = 0
    status: int = 200
    posts: list[Post] = field(default_factory=list)
    refused: int = 0  # posts answered with an error
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, scheme: str = "json", path: str = "/hooks/s3cr3t-T0KEN-abcdef") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [post.body for post in self.posts]


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with server.lock:
                status = server.status
                if status < 300:
                    server.posts.append(
                        Post(self.path, dict(self.headers), json.loads(raw or b"{}"))
                    )
                else:
                    server.refused += 1
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "down"}')

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    state = ChatServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
