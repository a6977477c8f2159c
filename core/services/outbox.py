"""The outbox: every email is a row first, sent later by a Celery task.

Life of a row: ``PENDING`` -> claimed as ``SENDING`` (attempts + 1, a lease in
``next_attempt_at``) -> ``SENT`` (its body dropped); on an SMTP error back to ``PENDING`` with an
exponential backoff, or ``FAILED`` after ``EMAIL_MAX_ATTEMPTS`` (the admin can
resend it).

Delivery is at-least-once by design. Each row is marked ``SENT`` right after the
SMTP server accepted it, so in normal operation nothing is sent twice. At the
edge, a worker killed between the server's "250 OK" and that UPDATE leaves the
row ``SENDING``; once its lease expires it is sent again (same Message-ID, so
clients can tell). Losing an alert is worse than a rare duplicate.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.models import OutboundEmail, User
from core.services.email_rendering import RenderedEmail, build_message
from core.signals import emails_queued

logger = logging.getLogger(__name__)

Status = OutboundEmail.Status

DEFAULT_BATCH_SIZE = 100
# A row left SENDING longer than this was abandoned by a dead worker.
SENDING_LEASE = datetime.timedelta(minutes=15)
RETRY_BASE_DELAY = datetime.timedelta(minutes=1)
RETRY_MAX_DELAY = datetime.timedelta(hours=1)


@dataclass
class SendResult:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, other: SendResult) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
        }


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
    """Announce rows written in this transaction; ``core.jobs.dispatch`` starts the
    sender once it commits (a lost start is swept up every minute)."""
    emails_queued.send(sender=OutboundEmail, count=expected)


# --- Sending -----------------------------------------------------------------


def send_pending(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int = 50,
    now: datetime.datetime | None = None,
) -> SendResult:
    """Send due rows, batch after batch, one SMTP connection per batch."""
    result = SendResult()
    for _ in range(max_batches):
        rows = claim_batch(batch_size=batch_size, now=now or timezone.now())
        if not rows:
            break
        result.add(_send_batch(rows, now=now))
        if len(rows) < batch_size:
            break
    return result


def claim_batch(*, batch_size: int, now: datetime.datetime) -> list[OutboundEmail]:
    """Take up to ``batch_size`` due rows for this worker only.

    ``FOR UPDATE SKIP LOCKED`` lets concurrent senders on PostgreSQL take disjoint
    batches; SQLite serialises write transactions, which gives the same guarantee.
    """
    _fail_exhausted_abandoned(now=now)
    with transaction.atomic():
        ids = list(
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(_due(now))
            .order_by("created_at", "id")
            .values_list("id", flat=True)[:batch_size]
        )
        OutboundEmail.objects.filter(id__in=ids).update(
            status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + SENDING_LEASE
        )
    return list(OutboundEmail.objects.filter(id__in=ids).order_by("created_at", "id"))


def _due(now: datetime.datetime) -> Q:
    pending = Q(status=Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(
        status=Status.SENDING,
        next_attempt_at__lte=now,
        attempts__lt=settings.EMAIL_MAX_ATTEMPTS,
    )
    return pending | abandoned


def _fail_exhausted_abandoned(*, now: datetime.datetime) -> None:
    """A row abandoned on its last attempt (worker killed each time) gives up."""
    OutboundEmail.objects.filter(
        status=Status.SENDING,
        next_attempt_at__lte=now,
        attempts__gte=settings.EMAIL_MAX_ATTEMPTS,
    ).update(status=Status.FAILED, last_error="Interrupted while sending (worker lost).")


def _send_batch(rows: list[OutboundEmail], *, now: datetime.datetime | None) -> SendResult:
    result = SendResult(claimed=len(rows))
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:
        # The server is unreachable: every claimed row waits for a later attempt.
        logger.warning("SMTP connection failed, %d email(s) deferred: %s", len(rows), exc)
        for row in rows:
            _record_failure(row, exc, result=result, now=now)
        return result
    try:
        with _fast_commits():
            for row in rows:
                _send_one(row, connection=connection, result=result, now=now)
    finally:
        with suppress(Exception):
            connection.close()
    return result


@contextmanager
def _fast_commits() -> Iterator[None]:
    """On PostgreSQL, do not wait for the disk on each "mark as SENT" commit.

    Each row is committed right after its SMTP "250 OK" (the smallest window for
    a duplicate), and waiting for fsync each time made the sender slower than
    the SMTP server. Without the wait, only a crash of the database server itself
    can forget the last few marks, and those emails are then sent again: still
    at-least-once, never lost.
    """
    if db_connection.vendor != "postgresql" or db_connection.in_atomic_block:
        yield
        return
    with db_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _send_one(
    row: OutboundEmail,
    *,
    connection: BaseEmailBackend,
    result: SendResult,
    now: datetime.datetime | None,
) -> None:
    try:
        connection.send_messages([build_message(row, connection=connection)])
    except Exception as exc:
        _record_failure(row, exc, result=result, now=now)
        # The connection may be broken; the backend reopens it for the next row.
        with suppress(Exception):
            connection.close()
        return
    # A sent row keeps its envelope (who, subject, when), not its body: the body
    # served only delivery (alerts stay in the notification centre).
    OutboundEmail.objects.filter(id=row.id, status=Status.SENDING).update(
        status=Status.SENT,
        sent_at=timezone.now(),
        next_attempt_at=None,
        last_error="",
        body_text="",
        body_html="",
    )
    result.sent += 1


def _record_failure(
    row: OutboundEmail,
    exc: BaseException,
    *,
    result: SendResult,
    now: datetime.datetime | None,
) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= settings.EMAIL_MAX_ATTEMPTS:
        OutboundEmail.objects.filter(id=row.id).update(
            status=Status.FAILED, last_error=error, next_attempt_at=None
        )
        logger.error("Email %s to %s failed for good: %s", row.id, row.to_address, error)
        result.failed += 1
        return
    retry_at = (now or timezone.now()) + retry_delay(row.attempts)
    OutboundEmail.objects.filter(id=row.id).update(
        status=Status.PENDING, last_error=error, next_attempt_at=retry_at
    )
    result.retrying += 1


def retry_delay(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8... minutes after the n-th failed attempt, at most an hour."""
    return min(RETRY_BASE_DELAY * 2 ** max(attempts - 1, 0), RETRY_MAX_DELAY)


# --- Administration ------------------------------------------------------------


def resend(*, ids: Iterable[int]) -> int:
    """Put failed (or waiting) rows back in the queue now, with fresh attempts."""
    with transaction.atomic():
        count = OutboundEmail.objects.filter(
            id__in=list(ids), status__in=[Status.FAILED, Status.PENDING]
        ).update(status=Status.PENDING, attempts=0, next_attempt_at=None, last_error="")
        if count:
            dispatch_sender(expected=count)
    return count
