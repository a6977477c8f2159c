"""The sender under a real prefork worker whose soft time limit fires mid-queue.

The SMTP server takes a quarter of a second per email, the task's soft limit is
two seconds: each run must stop taking work, record what the server accepted,
give back at once what it did not try, and return (no hard kill, no lease to wait
for). Runs after runs deliver every email exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.models import OutboundEmail
from core.tasks import send_pending_emails
from tests.celery.conftest import (  # noqa: F401  (fixtures shared with the Celery tests)
    redis_broker,
    start_worker,
    use_broker,
    worker_database,
)
from tests.emails.conftest import RecordingHandler, SmtpServer, _use_smtp

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.smtp, pytest.mark.redis]

EMAILS = 60
Status = OutboundEmail.Status


@dataclass
class SlowHandler(RecordingHandler):
    seconds_per_email: float = 0.25

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.seconds_per_email)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp_server(settings: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(SlowHandler())
    _use_smtp(settings, server.port)
    server.start()
    yield server
    server.stop()


def send() -> Any:
    # The limits travel in the message (Celery takes them from the sender's
    # configuration): a soft limit of two seconds for this test only.
    return send_pending_emails.apply_async(soft_time_limit=2, time_limit=30)


def _statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in OutboundEmail.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_soft_limit_stops_the_sender_without_duplicates_or_stranded_rows(
    db,
    slow_smtp_server,
    redis_broker,  # noqa: F811
    use_broker,  # noqa: F811
    start_worker,  # noqa: F811
):
    for i in range(EMAILS):
        OutboundEmail.objects.create(
            to_address=f"user{i}@dsi.example.org", subject=f"Alerte {i}", body_text="Texte"
        )
    # Redis: the worker's event loop then runs the time limits' timers (the
    # SQLAlchemy transport's loop does not).
    use_broker(redis_broker)
    start_worker(
        redis_broker,
        pool="prefork",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(slow_smtp_server.port),
    )

    first = send().get(timeout=25)

    assert first["stopped"] and 0 < first["sent"] < EMAILS
    assert first["released"] == EMAILS - first["sent"]
    # What the server accepted is SENT; the rest is PENDING now, untried.
    assert _statuses() == {Status.SENT: first["sent"], Status.PENDING: first["released"]}
    assert len(slow_smtp_server.received) == first["sent"]
    assert set(
        OutboundEmail.objects.filter(status=Status.PENDING).values_list("attempts", flat=True)
    ) == {0}

    for _ in range(EMAILS):
        if send().get(timeout=25)["claimed"] == 0:
            break

    addresses = sorted(r.rcpt_tos[0] for r in slow_smtp_server.received)
    assert addresses == sorted(f"user{i}@dsi.example.org" for i in range(EMAILS))
    assert _statuses() == {Status.SENT: EMAILS}
