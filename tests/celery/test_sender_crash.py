"""A sender killed mid-batch resends at most the one email it had in hand
(issue 17: a PostgreSQL restart once made 212 of 483 emails arrive twice)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest
from django.utils import timezone

from core.models import OutboundEmail
from core.services.outbox import send_pending, sending_lease
from tests.celery.conftest import ROOT, wait_for, worker_env
from tests.emails.conftest import RecordingHandler, SmtpServer, _use_smtp

pytestmark = [pytest.mark.worker, pytest.mark.smtp]

EMAILS = 20
KILLED_AT = 5  # the sender dies as the server takes this email


class KillingHandler(RecordingHandler):
    """Takes each email, and kills the sender the moment it takes the fifth: the
    worst moment, after the server has the email, before the sender hears "250"."""

    sender_pid: int | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) == KILLED_AT and self.sender_pid:
            os.kill(self.sender_pid, signal.SIGKILL)
        return answer


def test_a_sender_killed_mid_batch_resends_one_email_and_loses_none(
    worker_database, tmp_path, settings
):
    handler = KillingHandler()
    server = SmtpServer(handler)
    server.start()
    for i in range(EMAILS):
        OutboundEmail.objects.create(
            to_address=f"user{i}@dsi.example.org", subject="Alertes", body_text="Bonjour\n"
        )
    env = worker_env(
        worker_database,
        "memory://",
        tmp_path,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(server.port),
    )
    code = "from core.services.outbox import send_pending; send_pending()"
    sender = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env)
    handler.sender_pid = sender.pid
    try:
        assert sender.wait(timeout=60) == -signal.SIGKILL
        assert len(handler.received) == KILLED_AT  # nothing after the kill

        # Its claimed rows wait for the lease (the sending task's hard time
        # limit), then a live sender takes them.
        _use_smtp(settings, server.port)
        assert send_pending().claimed == 0
        send_pending(now=timezone.now() + sending_lease())
        wait_for(lambda: len(handler.received) >= EMAILS, timeout=30, what="the other emails")
    finally:
        server.stop()

    per_address = Counter(r.rcpt_tos[0] for r in handler.received)
    assert set(per_address) == {f"user{i}@dsi.example.org" for i in range(EMAILS)}  # none lost
    assert sum(per_address.values()) - EMAILS <= 1  # one connection, one email resent at most
    statuses = set(OutboundEmail.objects.values_list("status", flat=True))
    assert statuses == {OutboundEmail.Status.SENT}
