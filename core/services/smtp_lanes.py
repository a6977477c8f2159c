"""A few SMTP connections side by side, kept open for the batches of one sending call.

A lane is an open connection with a thread of its own that turns a message into
bytes (``email_wire`` for an outbox email's plain shape, else Django) and talks to
the server. While one lane waits for the server's answer,
another works: a batch goes at the pace of the slower of the CPU and the network,
not of their sum. The messages are built by the caller's thread (building may
read the database; the lanes never touch it), and the caller records outcomes.
"""

from __future__ import annotations

import functools
import re
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address

from core.services.email_wire import wire_bytes

# An address made of these only is its own envelope form (Django's parser is slow).
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


@functools.cache
def envelope_sender(from_email: str) -> str:
    return sanitize_address(from_email, "utf-8")


def envelope_recipient(address: str) -> str:
    """The address as Django's backend gives it to the server."""
    if PLAIN_ADDRESS.fullmatch(address):
        return address
    return sanitize_address(address, "utf-8")


class NoRecipient(Exception):
    """The backend sent nothing: the message has no recipient."""


class Lane:
    def __init__(self) -> None:
        self.connection: BaseEmailBackend = get_connection(fail_silently=False)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtp-lane")
        self.broken = False

    def submit(self, message: EmailMessage) -> Future[None]:
        return self.executor.submit(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        if self.broken:  # the last error may have left the session unusable
            with suppress(Exception):
                self.connection.close()
            self.connection.open()
            self.broken = False
        try:
            self._deliver(message)
        except NoRecipient:
            raise
        except Exception:
            self.broken = True
            raise

    def _deliver(self, message: EmailMessage) -> None:
        backend = self.connection
        if isinstance(backend, SmtpBackend) and (payload := wire_bytes(message)):
            # The envelope as Django's backend gives it, on the backend's open session.
            sender, recipient = envelope_sender(message.from_email), message.to[0]
            session = backend.connection
            assert session is not None  # the lane opened it
            session.sendmail(sender, [envelope_recipient(recipient)], payload)
        elif not backend.send_messages([message]):  # Django writes any other email
            raise NoRecipient("The email has no recipient.")

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        with suppress(Exception):
            self.connection.close()


class Lanes:
    """``count`` open lanes; opening fails as a whole if the server is unreachable."""

    def __init__(self, count: int) -> None:
        self.lanes: list[Lane] = []
        try:
            for _ in range(count):
                lane = Lane()
                self.lanes.append(lane)
                lane.connection.open()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Lanes:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __getitem__(self, index: int) -> Lane:
        return self.lanes[index % len(self.lanes)]

    def close(self) -> None:
        for lane in self.lanes:
            lane.close()
