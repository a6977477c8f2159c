"""The outbox: every email is a row first, sent later by a Celery task.

Life of a row: ``PENDING`` -> claimed as ``SENDING`` (attempts + 1, a lease in
``next_attempt_at``) -> ``SENT`` (its body dropped); on an SMTP error back to ``PENDING`` with an
exponential backoff, or ``FAILED`` after ``EMAIL_MAX_ATTEMPTS`` (the admin can
resend it).

Delivery is at-least-once by design. The rows the SMTP server accepted are
marked ``SENT`` together at the end of their batch, in one UPDATE (per-email
commits cost more than the reused connection saved). At the edge, a worker killed
between the server's "250 OK" and that UPDATE leaves its rows ``SENDING``; once
their lease expires they are sent again (same Message-ID, so clients can tell).
Losing an alert is worse than a rare duplicate. A sender told to stop (the task's
soft time limit) finishes the email in hand, records its batch and gives the
rows it did not try back at once (``core.services.outbox_bookkeeping``).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.models import OutboundEmail, User
from core.services.email_rendering import RenderedEmail, build_message
from core.services.outbox_bookkeeping import (
    SENDING_LEASE,
    Bookkeeping,
    SendResult,
    is_permanent,
    retry_delay,
)
from core.services.smtp_lanes import Lanes
from core.signals import emails_queued

__all__ = ["SENDING_LEASE", "SendResult", "retry_delay", "send_pending"]

logger = logging.getLogger(__name__)

Status = OutboundEmail.Status

DEFAULT_BATCH_SIZE = 100
# SMTP connections of one sender, side by side: at most 4 x 3 = 12 connections to
# the server (Exchange accepts 20 per client by default, Postfix 50).
SMTP_LANES = 3


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
    senders once it commits (a lost start is swept up every minute)."""
    emails_queued.send(sender=OutboundEmail, count=expected)


# --- Sending -----------------------------------------------------------------


def _never() -> bool:
    return False


def send_pending(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int = 50,
    now: datetime.datetime | None = None,
    should_stop: Callable[[], bool] = _never,
) -> SendResult:
    """Send due rows, batch after batch, over a few SMTP connections kept open.

    ``should_stop`` is polled before each email: once it answers true (the task's
    soft time limit, a worker shutting down), the sender takes no more work, and
    the rows it claimed but did not send go back to PENDING at once.
    """
    result = SendResult()
    _fail_exhausted_abandoned(now=now or timezone.now())
    lanes: Lanes | None = None  # opened for the first batch, kept for the next ones
    # At most two batches: while the lanes send one, the next is claimed and queued
    # behind it, so the server never waits for the database.
    in_flight: list[Batch] = []
    try:
        for _ in range(max_batches):
            if should_stop():
                result.stopped = True
                break
            rows = claim_batch(batch_size=batch_size, now=now or timezone.now())
            if not rows:
                break
            try:
                lanes = lanes or Lanes(min(SMTP_LANES, len(rows)))
            except Exception as exc:
                result.add(_defer_all(rows, exc, now=now))
            else:
                in_flight.append(_start_batch(rows, lanes=lanes, now=now, should_stop=should_stop))
            if len(in_flight) == 2:
                result.add(_finish_batch(in_flight.pop(0), should_stop=should_stop))
            if result.stopped or len(rows) < batch_size:
                break
        while in_flight:
            result.add(_finish_batch(in_flight.pop(0), should_stop=should_stop))
    finally:
        if lanes is not None:
            lanes.close()  # after an exception: no email left half-sent
        for batch in in_flight:  # an exception stopped the worker: what is known
            batch.book.flush()
    return result


def claim_batch(*, batch_size: int, now: datetime.datetime) -> list[OutboundEmail]:
    """Take up to ``batch_size`` due rows for this worker only.

    ``FOR UPDATE SKIP LOCKED`` lets concurrent senders on PostgreSQL take disjoint
    batches; SQLite serialises write transactions, which gives the same guarantee.
    """
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
    """A row abandoned on its last attempt (worker killed each time) gives up.

    Once per call, not per batch: such rows are rare (a lease of 15 minutes must
    have run out), and the scan reads every SENDING row, the batches in flight
    and, until a vacuum, their dead versions."""
    OutboundEmail.objects.filter(
        status=Status.SENDING,
        next_attempt_at__lte=now,
        attempts__gte=settings.EMAIL_MAX_ATTEMPTS,
    ).update(status=Status.FAILED, last_error="Interrupted while sending (worker lost).")


def _defer_all(
    rows: list[OutboundEmail], exc: Exception, *, now: datetime.datetime | None
) -> SendResult:
    """The server is unreachable: every claimed row waits for a later attempt."""
    logger.warning("SMTP connection failed, %d email(s) deferred: %s", len(rows), exc)
    book = Bookkeeping(rows, now=now)
    book.fail_all(exc)
    book.flush()
    return book.result


@dataclass
class Batch:
    """Claimed rows queued on the lanes, and the record of their outcomes."""

    book: Bookkeeping
    handed: list[tuple[OutboundEmail, Future[None]]]


def _start_batch(
    rows: list[OutboundEmail],
    *,
    lanes: Lanes,
    now: datetime.datetime | None,
    should_stop: Callable[[], bool],
) -> Batch:
    book = Bookkeeping(rows, now=now)
    return Batch(book, _hand_to_lanes(rows, lanes=lanes, book=book, should_stop=should_stop))


def _finish_batch(batch: Batch, *, should_stop: Callable[[], bool]) -> SendResult:
    """Wait for the batch's emails; record every outcome whatever happens, an
    exception that stops the worker included (``finally``)."""
    try:
        _collect(batch.handed, book=batch.book, should_stop=should_stop)
    finally:
        batch.book.flush()
    return batch.book.result


def _hand_to_lanes(
    rows: list[OutboundEmail],
    *,
    lanes: Lanes,
    book: Bookkeeping,
    should_stop: Callable[[], bool],
) -> list[tuple[OutboundEmail, Future[None]]]:
    """Build each message here (it may read the database) and queue it on a lane."""
    handed = []
    for index, row in enumerate(rows):
        if should_stop():
            book.result.stopped = True
            break
        lane = lanes[index]
        try:
            message = build_message(row, connection=lane.connection)
        except Exception as exc:  # this email cannot be built: it alone waits
            book.failed(row, f"{type(exc).__name__}: {exc}", permanent=False)
            continue
        handed.append((row, lane.submit(message)))
    return handed


def _collect(
    handed: list[tuple[OutboundEmail, Future[None]]],
    *,
    book: Bookkeeping,
    should_stop: Callable[[], bool],
) -> None:
    """Note each outcome; once told to stop, the emails not yet started stay untried."""
    for row, future in handed:
        while not future.done():
            if should_stop() and not book.result.stopped:
                book.result.stopped = True
                for _row, waiting in handed:
                    waiting.cancel()  # only those no lane has started
            wait([future], timeout=0.2)
        if future.cancelled():
            continue
        error = future.exception()
        if error is None:
            book.sent(row)
        else:
            book.failed(row, f"{type(error).__name__}: {error}", permanent=is_permanent(error))


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
