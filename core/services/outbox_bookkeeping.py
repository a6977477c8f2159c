"""What became of each email of a sending batch, and the SMTP connection it goes by.

The sender (``core.services.outbox``) marks each email the server accepted
``SENT`` at once, one UPDATE by primary key: a worker that dies mid-batch resends
at most the email it had in hand. Failures are noted in memory and written when
the batch ends (one UPDATE per kind of failure, one for the emails it claimed but
did not try, when told to stop). A row whose sender died stays ``SENDING`` until
its lease, the sending task's hard time limit, runs out; it is then sent again.
A crash can resend one email, never lose one.

SMTP answers: a permanent refusal (5xx to the recipient or to the message) fails
the row at once with the server's reason; anything else (4xx, a connection
error) is retried with an exponential backoff until ``EMAIL_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.models import OutboundEmail
from core.services.email_rendering import UndeliverableEmail

logger = logging.getLogger(__name__)

Status = OutboundEmail.Status

RETRY_BASE_DELAY = datetime.timedelta(minutes=1)
RETRY_MAX_DELAY = datetime.timedelta(hours=1)


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


def retry_delay(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8... minutes after the n-th failed attempt, at most an hour."""
    return min(RETRY_BASE_DELAY * 2 ** max(attempts - 1, 0), RETRY_MAX_DELAY)


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


def _mark_sent_sql() -> str:
    table = connection.ops.quote_name(OutboundEmail._meta.db_table)
    return (
        f"UPDATE {table} SET status = %s, sent_at = %s, next_attempt_at = NULL, "  # noqa: S608
        "last_error = '', body_text = '', body_html = '' "
        "WHERE id = %s AND status = %s AND attempts = %s"
    )


_MARK_SENT_SQL = _mark_sent_sql()


class Bookkeeping:
    """The outcomes of one batch, written by ``flush`` in a few statements."""

    def __init__(self, rows: list[OutboundEmail], *, now: datetime.datetime | None) -> None:
        self.rows = {row.id: row for row in rows}
        self.now = now
        self.result = SendResult(claimed=len(rows))
        self.sent_ids: list[int] = []
        self.failures: dict[tuple[str, datetime.datetime | None, str], list[int]] = defaultdict(
            list
        )

    def sent(self, row: OutboundEmail) -> None:
        """Accepted by the server: SENT now, before the next email goes. A sent row
        keeps its envelope (who, subject, when), not its body: the body served only
        delivery (alerts stay in the notification centre). One statement written
        once (the ORM's UPDATE costs ~0.4 ms of compiling per email, as much as
        the SMTP exchange)."""
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_MARK_SENT_SQL, [Status.SENT, now, row.id, Status.SENDING, row.attempts])
        self.sent_ids.append(row.id)
        self.result.sent += 1

    def failed(self, row: OutboundEmail, error: str, *, permanent: bool) -> None:
        error = error[:2000]
        if permanent or row.attempts >= settings.EMAIL_MAX_ATTEMPTS:
            logger.error("Email %s to %s failed for good: %s", row.id, row.to_address, error)
            self.failures[Status.FAILED, None, error].append(row.id)
            self.result.failed += 1
        else:
            retry_at = (self.now or timezone.now()) + retry_delay(row.attempts)
            self.failures[Status.PENDING, retry_at, error].append(row.id)
            self.result.retrying += 1

    def keep_lease(self, row: OutboundEmail) -> bool:
        """Whether ``row`` is still this sender's to send. When half the batch's
        lease is gone (or less than two EMAIL_TIMEOUTs are left), it is renewed
        for the rows not yet tried, in one statement; a row another sender claimed
        meanwhile (its lease ran out: the attempt number moved on) is dropped from
        the batch untouched."""
        now = timezone.now()
        margin = max(sending_lease() / 2, datetime.timedelta(seconds=2 * settings.EMAIL_TIMEOUT))
        if row.next_attempt_at is None or row.next_attempt_at - now > margin:
            return True
        done = set(self.sent_ids).union(*self.failures.values())
        waiting = [r for r in self.rows.values() if r.id not in done]
        lease = now + sending_lease()
        with transaction.atomic():
            ours = self._ours([r.id for r in waiting]).select_for_update()
            renewed = set(ours.values_list("id", flat=True))
            OutboundEmail.objects.filter(id__in=renewed).update(next_attempt_at=lease)
        for r in waiting:
            if r.id in renewed:
                r.next_attempt_at = lease
            else:
                del self.rows[r.id]
        logger.warning("Slow SMTP batch: lease renewed for %d emails", len(renewed))
        return row.id in renewed

    def fail_all(self, exc: BaseException) -> None:
        for row in self.rows.values():
            self.failed(row, f"{type(exc).__name__}: {exc}", permanent=False)

    def _ours(self, ids: list[int]) -> QuerySet[OutboundEmail]:
        """The rows of ``ids`` still held by this batch's claim: SENDING, with the
        attempt number it gave them (a sender that took one over moved it on)."""
        by_attempt: dict[int, list[int]] = defaultdict(list)
        for row_id in ids:
            by_attempt[self.rows[row_id].attempts].append(row_id)
        held = Q(pk__in=[])
        for attempts, row_ids in by_attempt.items():
            held |= Q(id__in=row_ids, attempts=attempts)
        return OutboundEmail.objects.filter(held, status=Status.SENDING)

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
