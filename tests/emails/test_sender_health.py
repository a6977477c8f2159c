"""A mail server that drops every connection (issue 18): the sender keeps the
emails and retries them, and health says at once that sending fails, without
waiting for an email to be 60 minutes old."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from core.models import OutboundEmail
from core.selectors.liveness import outbox_health
from core.services.outbox import send_pending


class DroppingBackend(BaseEmailBackend):
    """The server closes the connection before accepting anything."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_a_server_dropping_every_email_makes_health_fail_in_the_first_minutes(db, settings):
    settings.EMAIL_BACKEND = "tests.emails.test_sender_health.DroppingBackend"
    for number in range(4):
        OutboundEmail.objects.create(
            to_address=f"u{number}@example.org", subject="s", body_text="b"
        )
    assert outbox_health(now=timezone.now()).ok

    send_pending()

    assert OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING).count() == 4
    report = outbox_health(now=timezone.now())
    assert not report.ok
    assert (report.figures["failing_last_30_min"], report.figures["attempted_last_30_min"]) == (
        4,
        4,
    )
    assert "4 sur 4" in report.message
