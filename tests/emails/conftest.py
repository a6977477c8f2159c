"""A real SMTP server for the email tests: aiosmtpd on localhost, on a port the
system picks."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.smtp import SMTP
from django.urls import resolve


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    peer: Any

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content()

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return part.get_content()


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # 550: the mailbox does not exist
    deferred: set[str] = field(default_factory=set)  # 451: try again later
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        if address in self.deferred:
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, session.peer)
            )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    @property
    def connections(self) -> int:
        return len({r.peer for r in self.received})


class SmtpServer:
    """aiosmtpd's SMTP protocol in a thread, on a socket of its own bound at once to a
    port the system picks: held from the start, so no other program can take it.
    Until ``start()`` it does not listen (connections are refused: a server down);
    ``stop()`` closes it. (aiosmtpd's ``Controller`` cannot be told port 0: it
    connects to its configured port to check it is ready.)"""

    def __init__(self, handler: RecordingHandler | None = None) -> None:
        self.handler = handler or RecordingHandler()
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        loop = self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=loop.run_forever, daemon=True)
        self.thread.start()
        serving = loop.create_server(lambda: SMTP(self.handler, loop=loop), sock=self.socket)
        asyncio.run_coroutine_threadsafe(serving, loop).result(timeout=10)

    def stop(self) -> None:
        """Stop listening and end the sessions in progress."""
        if self.loop is None or self.thread is None:
            self.socket.close()
            return
        asyncio.run_coroutine_threadsafe(_cancel_all(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
        self.socket.close()
        self.loop = self.thread = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received


async def _cancel_all() -> None:
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            task.cancel()


def _use_smtp(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """A running local SMTP server; Django's SMTP backend points at it."""
    server = SmtpServer()
    _use_smtp(settings, server.port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down(settings: Any) -> Iterator[SmtpServer]:
    """Django's SMTP backend points at a port where nothing listens (yet)."""
    server = SmtpServer()
    _use_smtp(settings, server.port)
    yield server
    server.stop()


def assert_link_resolves(url: str, *, site_url: str, view_name: str) -> None:
    """An absolute link of an email: on SITE_URL, and the application serves it."""
    assert url.startswith(site_url + "/"), url
    match = resolve(urlsplit(url).path)
    assert match.view_name == view_name, (url, match.view_name)
