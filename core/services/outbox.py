"""The outbox: every email is a row first, sent later by a Celery task.

Life of a row: ``PENDING`` -> claimed as ``SENDING`` (attempts + 1, a lease in
``next_attempt_at``) -> ``SENT`` (its body dropped); on an SMTP error back to ``PENDING`` with an
exponential backoff, or ``FAILED`` after ``EMAIL_MAX_ATTEMPTS`` (the admin can
resend it).

Delivery is at-least-once by design, and the window is one email wide: a claimed
batch goes over one connection of Django's email backend (``get_connection()``,
kept open for the whole call: the handshake, not the message, is what costs),
and each email the server accepted is marked ``SENT`` at once. A worker killed
between the server's "250 OK" and that UPDATE resends that one email once the
lease (the sending task's hard time limit) runs out, with the same Message-ID, so
clients can tell. Losing an alert is worse than a rare duplicate. A sender told
to stop (the task's soft time limit) finishes the email in hand, records its
batch and gives the rows it did not try back at once
(``core.services.outbox_queue``).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable

from django.db import transaction

from core.models import OutboundEmail, User
from core.services import outbox_queue
from core.services.email_rendering import RenderedEmail, build_message
from core.services.outbox_bookkeeping import MailConnection, is_permanent
from core.services.outbox_queue import (
    Bookkeeping,
    OutboxQueue,
    SendResult,
    requeue,
    retry_delay,
    send_batches,
    sending_lease,
)
from core.signals import emails_queued

__all__ = ["SendResult", "retry_delay", "send_pending", "sending_lease"]

logger = logging.getLogger(__name__)

Status = OutboundEmail.Status

DEFAULT_BATCH_SIZE = 100
EMAILS = OutboxQueue(
    model=OutboundEmail,
    max_attempts_setting="EMAIL_MAX_ATTEMPTS",
    timeout_setting="EMAIL_TIMEOUT",
    cleared_when_sent=("body_text", "body_html"),
    noun="Email",
    queued=emails_queued,
)


# --- Queueing ----------------------------------------------------------------


def new_row(
    email: RenderedEmail,
    *,
    recipient: User,
    kind: str,
    dedup_key: str | None = None,
) -> OutboundEmail:
    """An unsaved outbox row for ``recipient`` (for ``enqueue_many``)."""
    return OutboundEmail(
        kind=kind,
        recipient=recipient,
        to_address=recipient.email,
        subject=email.subject,
        body_text=email.body_text,
        body_html=email.body_html,
        headers=email.headers,
        dedup_key=dedup_key,
    )


def new_secret_row(*, recipient: User, kind: str, subject: str) -> OutboundEmail:
    """An unsaved row for an email that carries a secret: who, which kind and the
    subject only. The sender renders the body, and mints the secret, at send time
    (``email_rendering.build_message``)."""
    row = OutboundEmail(kind=kind, recipient=recipient, to_address=recipient.email, subject=subject)
    if not row.carries_secret:
        raise ValueError(f"{kind} emails store their body: use new_row()")
    return row


def enqueue(row: OutboundEmail) -> OutboundEmail:
    """Save one row in the caller's transaction; the sender starts after commit."""
    row.save()
    dispatch_sender()
    return row


def enqueue_many(rows: list[OutboundEmail], *, batch_size: int = 500) -> None:
    """Insert-or-ignore on ``dedup_key``: a row already queued (by an earlier or a
    concurrent run) is silently kept as it is."""
    if not rows:
        return
    OutboundEmail.objects.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)
    dispatch_sender(expected=len(rows))


def dispatch_sender(*, expected: int = 1) -> None:
    """Announce rows written in this transaction (``outbox_queue.announce``)."""
    outbox_queue.announce(EMAILS, expected=expected)


# --- Sending -----------------------------------------------------------------


def send_pending(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int = 50,
    now: datetime.datetime | None = None,
    should_stop: Callable[[], bool] = outbox_queue.never,
) -> SendResult:
    """Send due rows, batch after batch, over one SMTP connection kept open.

    ``should_stop`` is polled before each email: once it answers true (the task's
    soft time limit, a worker shutting down), the sender takes no more work, and
    the rows it claimed but did not send go back to PENDING at once.
    """
    with MailConnection() as connection:
        return send_batches(
            EMAILS,
            lambda rows: _send_batch(rows, connection=connection, now=now, should_stop=should_stop),
            batch_size=batch_size,
            max_batches=max_batches,
            now=now,
            should_stop=should_stop,
        )


def claim_batch(*, batch_size: int, now: datetime.datetime) -> list[OutboundEmail]:
    """Take up to ``batch_size`` due emails for this worker only
    (``outbox_queue.claim_batch``)."""
    return outbox_queue.claim_batch(EMAILS, batch_size=batch_size, now=now)


def _send_batch(
    rows: list[OutboundEmail],
    *,
    connection: MailConnection,
    now: datetime.datetime | None,
    should_stop: Callable[[], bool],
) -> SendResult:
    """Send each row in turn over ``connection`` (``Bookkeeping.deliver_each``); an
    SMTP refusal of the email itself fails it for good (``is_permanent``)."""
    return Bookkeeping(EMAILS, rows, now=now).deliver_each(
        lambda row: connection.send(build_message(row)),
        lambda exc: (f"{type(exc).__name__}: {exc}", is_permanent(exc)),
        should_stop=should_stop,
    )


# --- Administration ------------------------------------------------------------


def resend(*, ids: Iterable[int]) -> int:
    """Put failed (or waiting) rows back in the queue now, with fresh attempts."""
    with transaction.atomic():
        count = requeue(EMAILS, ids=ids)
        if count:
            dispatch_sender(expected=count)
    return count
