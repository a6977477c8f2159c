"""The bookkeeping every outbox shares: claiming rows, leases, backoff, outcomes.

An outbox (``OutboxQueue``) is a model of ``core.models.outbox.OutboxRow`` plus
the settings it reads when it runs: emails (``core.services.outbox``) and
channel messages (``core.services.channel_delivery``) go the same way.

Life of a row: ``PENDING`` -> claimed as ``SENDING`` (attempts + 1, a lease in
``next_attempt_at``) -> ``SENT`` (its body dropped), marked at once, one UPDATE
by primary key: a worker that dies mid-batch resends at most the row it had in
hand. Failures are noted in memory and written when the batch ends (one UPDATE
per kind of failure, one for the rows it claimed but did not try, when told to
stop), back to ``PENDING`` with an exponential backoff, or ``FAILED`` after the
queue's maximum attempts (the admin can resend it). A row whose sender died
stays ``SENDING`` until its lease, the sending task's hard time limit, runs out;
it is then sent again. A crash can resend one row, never lose one.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone

from core.models.outbox import OutboxRow, OutboxStatus

logger = logging.getLogger(__name__)

Status = OutboxStatus

RETRY_BASE_DELAY = datetime.timedelta(minutes=1)
RETRY_MAX_DELAY = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class OutboxQueue:
    """One outbox: its rows and the settings it reads when it runs."""

    model: type[OutboxRow]
    max_attempts_setting: str  # e.g. "EMAIL_MAX_ATTEMPTS"
    timeout_setting: str  # one delivery's time limit, in seconds (e.g. "EMAIL_TIMEOUT")
    cleared_when_sent: tuple[str, ...]  # the body, dropped once delivered
    noun: str  # in the logs: "Email", "Channel message"
    queued: Signal  # announces rows written (core.signals): core.jobs.dispatch sends them
    # What else makes a row due (a channel switched off holds its messages).
    due_also: Q = field(default_factory=Q)

    @property
    def max_attempts(self) -> int:
        return int(getattr(settings, self.max_attempts_setting))

    @property
    def timeout(self) -> datetime.timedelta:
        return datetime.timedelta(seconds=int(getattr(settings, self.timeout_setting)))

    @property
    def rows(self) -> QuerySet[Any]:
        return self.model._default_manager.all()


@dataclass
class SendResult:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0  # claimed, not tried: back to PENDING at once
    stopped: bool = False  # told to stop before the queue was empty

    def add(self, other: SendResult) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.released += other.released
        self.stopped = self.stopped or other.stopped

    def as_dict(self) -> dict[str, Any]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "released": self.released,
            "stopped": self.stopped,
        }


def sending_lease() -> datetime.timedelta:
    """How long a claimed row stays ``SENDING``. The sender runs as a Celery task
    killed at its hard time limit: a row still ``SENDING`` after it has no live
    sender and goes back to the queue."""
    return datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def retry_delay(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8... minutes after the n-th failed attempt, at most an hour."""
    return min(RETRY_BASE_DELAY * 2 ** max(attempts - 1, 0), RETRY_MAX_DELAY)


def announce(queue: OutboxQueue, *, expected: int = 1) -> None:
    """Announce rows written in this transaction: ``core.jobs.dispatch`` starts the
    senders once it commits (a lost start is swept up every minute)."""
    queue.queued.send(sender=queue.model, count=expected)


def never() -> bool:
    """The default ``should_stop``: a sender runs until its queue is empty."""
    return False


def send_batches(
    queue: OutboxQueue,
    send_batch: Callable[[list[Any]], SendResult],
    *,
    batch_size: int,
    max_batches: int,
    now: datetime.datetime | None,
    should_stop: Callable[[], bool] = never,
) -> SendResult:
    """Claim and send batch after batch until the queue is empty or ``should_stop``."""
    result = SendResult()
    fail_exhausted_abandoned(queue, now=now or timezone.now())
    for _ in range(max_batches):
        if should_stop():
            result.stopped = True
            break
        rows = claim_batch(queue, batch_size=batch_size, now=now or timezone.now())
        if not rows:
            break
        result.add(send_batch(rows))
        if result.stopped or len(rows) < batch_size:
            break
    return result


def claim_batch(queue: OutboxQueue, *, batch_size: int, now: datetime.datetime) -> list[Any]:
    """Take up to ``batch_size`` due rows for this worker only.

    ``FOR UPDATE SKIP LOCKED`` lets concurrent senders on PostgreSQL take disjoint
    batches; SQLite serialises write transactions, which gives the same guarantee.
    """
    with transaction.atomic():
        ids = list(
            # Only the outbox's rows: not those of a table ``due_also`` joins (a
            # channel), which its writers lock.
            queue.rows.select_for_update(skip_locked=True, of=("self",))
            .filter(_due(queue, now))
            .order_by("created_at", "id")
            .values_list("id", flat=True)[:batch_size]
        )
        queue.rows.filter(id__in=ids).update(
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=now + sending_lease(),
            last_attempt_at=now,
        )
    return list(queue.rows.filter(id__in=ids).order_by("created_at", "id"))


def _due(queue: OutboxQueue, now: datetime.datetime) -> Q:
    pending = Q(status=Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(status=Status.SENDING, next_attempt_at__lte=now, attempts__lt=queue.max_attempts)
    return (pending | abandoned) & queue.due_also


def fail_exhausted_abandoned(queue: OutboxQueue, *, now: datetime.datetime) -> None:
    """A row abandoned on its last attempt (worker killed each time) gives up.

    Once per call, not per batch: such rows are rare (a lease must have run out),
    and the scan reads every SENDING row and, until a vacuum, their dead versions."""
    queue.rows.filter(
        status=Status.SENDING, next_attempt_at__lte=now, attempts__gte=queue.max_attempts
    ).update(status=Status.FAILED, last_error="Interrupted while sending (worker lost).")


def requeue(queue: OutboxQueue, *, ids: Iterable[int]) -> int:
    """Failed (or waiting) rows back in the queue now, with fresh attempts."""
    return int(
        queue.rows.filter(id__in=list(ids), status__in=[Status.FAILED, Status.PENDING]).update(
            status=Status.PENDING, attempts=0, next_attempt_at=None, last_error=""
        )
    )


@functools.cache
def _mark_sent_sql(queue: OutboxQueue) -> str:
    quote = connection.ops.quote_name
    cleared = "".join(f", {quote(name)} = ''" for name in queue.cleared_when_sent)
    return (
        f"UPDATE {quote(queue.model._meta.db_table)} SET status = %s, sent_at = %s, "  # noqa: S608
        f"next_attempt_at = NULL, last_error = ''{cleared} "
        "WHERE id = %s AND status = %s AND attempts = %s"
    )


class Bookkeeping:
    """The outcomes of one batch, written by ``flush`` in a few statements."""

    def __init__(
        self, queue: OutboxQueue, rows: list[Any], *, now: datetime.datetime | None
    ) -> None:
        self.queue = queue
        self.rows = {row.id: row for row in rows}
        self.now = now
        self.result = SendResult(claimed=len(rows))
        self.sent_ids: list[int] = []
        self.failures: dict[tuple[str, datetime.datetime | None, str], list[int]] = defaultdict(
            list
        )

    def sent(self, row: OutboxRow) -> None:
        """Delivered: SENT now, before the next row goes. A sent row keeps its
        envelope (who, subject, when), not its body: the body served only
        delivery (alerts stay in the notification centre). One statement written
        once (the ORM's UPDATE costs ~0.4 ms of compiling per row, as much as
        the SMTP exchange)."""
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                _mark_sent_sql(self.queue), [Status.SENT, now, row.pk, Status.SENDING, row.attempts]
            )
        self.sent_ids.append(row.pk)
        self.result.sent += 1

    def failed(self, row: OutboxRow, error: str, *, permanent: bool) -> None:
        error = error[:2000]
        if permanent or row.attempts >= self.queue.max_attempts:
            logger.error("%s %s (%s) failed for good: %s", self.queue.noun, row.pk, row, error)
            self.failures[Status.FAILED, None, error].append(row.pk)
            self.result.failed += 1
        else:
            retry_at = (self.now or timezone.now()) + retry_delay(row.attempts)
            self.failures[Status.PENDING, retry_at, error].append(row.pk)
            self.result.retrying += 1

    def keep_lease(self, row: OutboxRow) -> bool:
        """Whether ``row`` is still this sender's to send. When half the batch's
        lease is gone (or less than two delivery timeouts are left), it is renewed
        for the rows not yet tried, in one statement; a row another sender claimed
        meanwhile (its lease ran out: the attempt number moved on) is dropped from
        the batch untouched."""
        now = timezone.now()
        margin = max(sending_lease() / 2, 2 * self.queue.timeout)
        if row.next_attempt_at is None or row.next_attempt_at - now > margin:
            return True
        done = set(self.sent_ids).union(*self.failures.values())
        waiting = [r for r in self.rows.values() if r.id not in done]
        lease = now + sending_lease()
        with transaction.atomic():
            ours = self._ours([r.id for r in waiting]).select_for_update()
            renewed = set(ours.values_list("id", flat=True))
            self.queue.rows.filter(id__in=renewed).update(next_attempt_at=lease)
        for r in waiting:
            if r.id in renewed:
                r.next_attempt_at = lease
            else:
                del self.rows[r.id]
        logger.warning("Slow batch (%s): lease renewed for %d rows", self.queue.noun, len(renewed))
        return row.pk in renewed

    def deliver_each(
        self,
        deliver: Callable[[Any], None],
        failure: Callable[[Exception], tuple[str, bool]],
        *,
        should_stop: Callable[[], bool],
    ) -> SendResult:
        """Deliver each row in turn; a delivered row is marked SENT at once, so a
        crash resends at most the one row in hand. A slow batch (a service
        answering at the edge of its timeout) renews its lease before it could run
        out, so no other sender takes over a row still in hand. ``failure`` tells
        what a delivery's exception means (its text, whether it is for good).
        Every other outcome is written when the batch ends, whatever stops it."""
        try:
            for row in list(self.rows.values()):
                if should_stop():
                    self.result.stopped = True
                    break
                if not self.keep_lease(row):
                    continue  # another sender took it over: it is theirs to send
                try:
                    deliver(row)
                except Exception as exc:
                    error, permanent = failure(exc)
                    self.failed(row, error, permanent=permanent)
                else:
                    self.sent(row)
        finally:
            result = self.result
            self.flush()
        return result

    def fail_all(self, exc: BaseException) -> None:
        for row in self.rows.values():
            self.failed(row, f"{type(exc).__name__}: {exc}", permanent=False)

    def _ours(self, ids: list[int]) -> QuerySet[Any]:
        """The rows of ``ids`` still held by this batch's claim: SENDING, with the
        attempt number it gave them (a sender that took one over moved it on)."""
        by_attempt: dict[int, list[int]] = defaultdict(list)
        for row_id in ids:
            by_attempt[self.rows[row_id].attempts].append(row_id)
        held = Q(pk__in=[])
        for attempts, row_ids in by_attempt.items():
            held |= Q(id__in=row_ids, attempts=attempts)
        return self.queue.rows.filter(held, status=Status.SENDING)

    def flush(self) -> None:
        """Write every outcome; the rows with none go back to PENDING untried."""
        done = set(self.sent_ids)
        for (status, retry_at, error), ids in self.failures.items():
            self._ours(ids).update(status=status, next_attempt_at=retry_at, last_error=error)
            done.update(ids)
        untried = [row_id for row_id in self.rows if row_id not in done]
        if untried:
            # Not attempted: the attempt claimed for them is given back.
            self.result.released += self._ours(untried).update(
                status=Status.PENDING, attempts=F("attempts") - 1, next_attempt_at=None
            )
        self.sent_ids, self.failures, self.rows = [], defaultdict(list), {}
