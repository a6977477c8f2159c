"""The SMTP side of the email outbox: the connection emails go by, and which
server answers fail an email for good.

The bookkeeping of a batch (leases, backoff, outcomes) is every outbox's:
``core.services.outbox_queue``.

SMTP answers: a permanent refusal (5xx to the recipient or to the message) fails
the row at once with the server's reason; anything else (4xx, a connection
error) is retried with an exponential backoff until ``EMAIL_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.core.mail import EmailMessage, get_connection

from core.services.email_rendering import UndeliverableEmail

logger = logging.getLogger(__name__)


class NoRecipient(Exception):
    """The backend sent nothing: the message has no recipient."""


class MailConnection:
    """One connection of Django's email backend, opened for the first email and
    kept for the whole sending call; after an error it is opened afresh for the
    next email (the session may be unusable: dropped, or mid-transaction)."""

    def __init__(self) -> None:
        self.backend = get_connection(fail_silently=False)
        self.is_open = False

    def __enter__(self) -> MailConnection:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        if not self.is_open:
            self.backend.open()
            self.is_open = True
        try:
            sent = self.backend.send_messages([message])
        except Exception:
            self.close()
            raise
        if not sent:
            raise NoRecipient("The email has no recipient.")

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            try:
                self.backend.close()
            except Exception as exc:  # the session is already gone: nothing to lose
                logger.info("SMTP connection closed with an error: %s", exc)


def is_permanent(exc: BaseException) -> bool:
    """Whether the server refused this email for good (a 5xx about it).

    A refused sender or a failed authentication is about the configuration, not
    the email: retried like a temporary error (and logged) rather than failing
    every email of the queue.
    """
    if isinstance(exc, NoRecipient | UndeliverableEmail):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False
