"""The outbox's rules that need no SMTP server: dispatch, leases, cleanup, admin."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.models import OutboundEmail
from core.services.cleanup import cleanup_sent_emails
from core.services.outbox import (
    _send_batch,
    claim_batch,
    enqueue,
    resend,
    retry_delay,
    send_pending,
    sending_lease,
)
from core.services.outbox_bookkeeping import MailConnection
from tests.factories import UserFactory

NOW = timezone.make_aware(datetime.datetime(2026, 11, 25, 8, 20))
Status = OutboundEmail.Status


def _row(**fields) -> OutboundEmail:
    defaults = {
        "to_address": "bob@dsi.example.org",
        "subject": "Sujet",
        "body_text": "Texte",
        "body_html": "<p>Texte</p>",
    }
    return OutboundEmail.objects.create(**{**defaults, **fields})


def test_the_sender_starts_only_after_the_transaction_commits(
    db, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks(execute=True)
    with capture as callbacks, transaction.atomic():
        enqueue(OutboundEmail(to_address="bob@dsi.example.org", subject="S", body_text="T"))
        assert mail.outbox == []  # nothing sent while the row is uncommitted
    assert len(callbacks) == 1
    assert [m.to for m in mail.outbox] == [["bob@dsi.example.org"]]
    assert OutboundEmail.objects.get().status == Status.SENT


def test_a_rolled_back_transaction_sends_nothing(db, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks(execute=True)
    with capture as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        enqueue(OutboundEmail(to_address="bob@dsi.example.org", subject="S", body_text="T"))
        raise RuntimeError("the cause failed")
    assert callbacks == [] and mail.outbox == [] and not OutboundEmail.objects.exists()


def test_sent_message_has_text_and_html_parts(db):
    _row()
    send_pending(now=NOW)
    [message] = mail.outbox
    assert message.body == "Texte"
    assert message.alternatives[0][1] == "text/html"


def test_a_sent_row_keeps_its_envelope_not_its_body(db):
    """The body served delivery only: once sent, the row says who, what and when."""
    row = _row()
    send_pending(now=NOW)
    row.refresh_from_db()
    assert row.status == Status.SENT and row.sent_at is not None
    assert (row.to_address, row.subject) == ("bob@dsi.example.org", "Sujet")
    assert (row.body_text, row.body_html) == ("", "")


def test_backoff_doubles_and_is_capped():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(20) == datetime.timedelta(hours=1)


def test_a_row_abandoned_while_sending_is_sent_again_after_its_lease(db):
    """The edge of at-least-once: a worker died between SMTP and the UPDATE."""
    row = _row(status=Status.SENDING, attempts=1, next_attempt_at=NOW + sending_lease())

    assert send_pending(now=NOW).claimed == 0  # still leased to the (maybe alive) worker
    assert send_pending(now=NOW + sending_lease()).sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)


def test_a_row_abandoned_on_its_last_attempt_fails(db, settings):
    settings.EMAIL_MAX_ATTEMPTS = 2
    row = _row(status=Status.SENDING, attempts=2, next_attempt_at=NOW)

    assert send_pending(now=NOW).claimed == 0
    row.refresh_from_db()
    assert row.status == Status.FAILED and "Interrupted" in row.last_error
    assert mail.outbox == []


def test_resend_only_touches_failed_or_waiting_rows(db):
    failed = _row(status=Status.FAILED, attempts=5, last_error="boom")
    sent = _row(status=Status.SENT, attempts=1)

    assert resend(ids=[failed.id, sent.id]) == 1

    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (Status.PENDING, 0, "")
    assert sent.status == Status.SENT


def test_cleanup_deletes_only_old_sent_rows(db, settings):
    settings.OUTBOX_RETENTION_DAYS = 90
    old = [_row(status=s) for s in (Status.SENT, Status.FAILED, Status.PENDING)]
    OutboundEmail.objects.filter(id__in=[r.id for r in old]).update(
        created_at=NOW - datetime.timedelta(days=91)
    )
    recent = _row(status=Status.SENT)
    OutboundEmail.objects.filter(id=recent.id).update(created_at=NOW - datetime.timedelta(days=89))

    assert cleanup_sent_emails(now=NOW) == {
        "deleted_emails": 1,
        "email_days": 90,
        "deleted_channel_messages": 0,
    }
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {
        Status.SENT,
        Status.FAILED,
        Status.PENDING,
    }
    assert not OutboundEmail.objects.filter(id=old[0].id).exists()


@pytest.mark.parametrize("days", [0, -3, "trente", True])
def test_cleanup_rejects_a_bad_days(db, days):
    with pytest.raises(ValueError, match="Nombre de jours invalide"):
        cleanup_sent_emails(now=NOW, days=days)


def test_admin_resend_action(db, client):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    failed = _row(status=Status.FAILED, attempts=5, last_error="SMTP down")
    client.force_login(admin)

    response = client.post(
        reverse("admin:core_outboundemail_changelist"),
        {"action": "resend_emails", "_selected_action": [failed.id]},
        follow=True,
    )

    assert response.status_code == 200
    failed.refresh_from_db()
    assert failed.status in (Status.PENDING, Status.SENT)
    assert failed.attempts <= 1 and failed.last_error == ""


def test_a_sender_told_to_stop_records_what_it_sent_and_gives_back_the_rest(db):
    for i in range(10):
        _row(to_address=f"user{i}@dsi.example.org")

    result = send_pending(now=NOW, should_stop=lambda: len(mail.outbox) >= 3)

    # The email in hand when the flag rose finishes; no other starts.
    assert result.stopped and result.sent == 3
    assert result.released == 10 - result.sent
    rows = set(OutboundEmail.objects.values_list("status", "attempts"))
    assert rows == {(Status.SENT, 1), (Status.PENDING, 0)}  # untried: back at once
    assert send_pending(now=NOW).sent == result.released
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        f"user{i}@dsi.example.org" for i in range(10)
    )


class SentSoFarBackend(locmem.EmailBackend):
    """Notes, as each email goes, how many emails the outbox already shows SENT."""

    sent_so_far: list[int] = []

    def send_messages(self, messages: Any) -> int:
        SentSoFarBackend.sent_so_far.append(
            OutboundEmail.objects.filter(status=Status.SENT).count()
        )
        return super().send_messages(messages)


def test_each_accepted_email_is_marked_sent_before_the_next_goes(db, settings):
    """So that a sender killed mid-batch resends one email, not its whole batch."""
    settings.EMAIL_BACKEND = "tests.emails.test_outbox.SentSoFarBackend"
    SentSoFarBackend.sent_so_far = []
    for i in range(5):
        _row(to_address=f"user{i}@dsi.example.org")

    assert send_pending(now=NOW, batch_size=100).sent == 5

    assert SentSoFarBackend.sent_so_far == [0, 1, 2, 3, 4]


class SlowServerBackend(locmem.EmailBackend):
    """A server answering each email at the edge of EMAIL_TIMEOUT: every email moves
    the clock by ``step``; during the third, a second sender looks for work."""

    traveller: Any = None
    step = datetime.timedelta(0)
    second_sender_claimed: list[int] = []

    def send_messages(self, messages: Any) -> int:
        SlowServerBackend.traveller.shift(SlowServerBackend.step)
        if len(mail.outbox) == 2:
            rows = claim_batch(batch_size=100, now=timezone.now())
            SlowServerBackend.second_sender_claimed.append(len(rows))
        return super().send_messages(messages)


def test_a_slow_batch_renews_its_lease_so_no_other_sender_takes_it_over(db, settings):
    """Five emails of 10 s each, 50 s in all, on a 30 s lease: each goes once."""
    settings.EMAIL_BACKEND = "tests.emails.test_outbox.SlowServerBackend"
    settings.CELERY_TASK_TIME_LIMIT = 30  # the lease: 30 s
    SlowServerBackend.step = datetime.timedelta(seconds=settings.EMAIL_TIMEOUT)
    SlowServerBackend.second_sender_claimed = []
    for i in range(5):
        _row(to_address=f"user{i}@dsi.example.org")

    with time_machine.travel(NOW, tick=False) as traveller:
        SlowServerBackend.traveller = traveller
        assert send_pending(now=NOW).sent == 5

    assert SlowServerBackend.second_sender_claimed == [0]  # still leased to the first
    assert sorted(m.to[0] for m in mail.outbox) == [f"user{i}@dsi.example.org" for i in range(5)]
    assert set(OutboundEmail.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


def test_rows_another_sender_took_over_are_left_to_it(db):
    """A sender whose lease ran out (paused, its host asleep) finds its rows claimed
    again: it sends none of them, writes nothing on them, and the new claim sends
    each once."""
    for i in range(3):
        _row(to_address=f"user{i}@dsi.example.org")
    stale = claim_batch(batch_size=100, now=NOW)
    later = NOW + sending_lease()
    fresh = claim_batch(batch_size=100, now=later)
    assert len(stale) == len(fresh) == 3

    with time_machine.travel(later, tick=False), MailConnection() as connection:
        result = _send_batch(stale, connection=connection, now=later, should_stop=lambda: False)
        assert (result.sent, result.released, mail.outbox) == (0, 0, [])
        assert set(OutboundEmail.objects.values_list("status", "attempts")) == {(Status.SENDING, 2)}
        assert (
            _send_batch(fresh, connection=connection, now=later, should_stop=lambda: False).sent
            == 3
        )
    assert len(mail.outbox) == 3
