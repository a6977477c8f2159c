"""A prefork worker busy with a long task outlives a ``kill -9`` of its Redis broker
(issue 18: with Celery 5.7 / kombu 5.7 it stopped with ``AttributeError("'NoneType'
object has no attribute 'hostname'")``; core.jobs.broker_loss).

The crash needs a free pool slot (the channel is reading, BRPOP, when Redis dies)
and a task in hand (an unacknowledged message to restore): two processes, one busy,
as the systemd unit runs (one process per core). The interrupted sender's work is
not lost: what the SMTP server took is SENT, the rest waits for its lease, then the
next run sends it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from celery.result import AsyncResult
from django.utils import timezone

from core.models import OutboundEmail
from core.services.outbox import send_pending, sending_lease
from core.tasks import send_pending_emails
from si_gouvernance.celery import app, debug_task
from tests.celery.conftest import wait_for
from tests.emails.conftest import RecordingHandler, SmtpServer, _use_smtp

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.smtp, pytest.mark.process]

EMAILS = 20


@dataclass
class SlowHandler(RecordingHandler):
    """Half a second per email: the sender is mid-run when Redis dies."""

    seconds_per_email: float = 0.5

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.seconds_per_email)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp(settings: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(SlowHandler())
    _use_smtp(settings, server.port)
    server.start()
    yield server
    server.stop()


def sent_through(url: str, task: Any) -> AsyncResult:
    """``task`` sent on a connection of its own (the app's pool still holds the
    connections Redis's death broke)."""
    with app.connection_for_write(url) as connection:
        return task.apply_async(connection=connection)


def test_a_busy_worker_survives_a_redis_kill_and_its_task_runs_again(
    world, private_redis, slow_smtp, use_broker, start_worker
):
    for i in range(EMAILS):
        OutboundEmail.objects.create(
            to_address=f"user{i}@dsi.example.org", subject=f"Alerte {i}", body_text="Texte"
        )
    url = private_redis.url
    use_broker(url)
    worker = start_worker(
        url,
        pool="prefork",
        concurrency=2,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(slow_smtp.port),
    )
    sent_through(url, send_pending_emails)
    wait_for(
        lambda: len(slow_smtp.handler.received) >= 2,
        timeout=60,
        what="the sender to be sending",
        workers=(worker,),
    )

    private_redis.kill()
    private_redis.start()

    # The same process consumes again (it used to stop once the task ended).
    after = sent_through(url, debug_task)
    wait_for(
        lambda: f"[{after.id}] succeeded" in worker.output() or worker.process.poll() is not None,
        timeout=60,
        what="a new task",
        workers=(worker,),
    )
    assert worker.process.poll() is None, worker.output()[-5000:]
    taken = len(slow_smtp.handler.received)
    assert OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT).count() >= taken - 1

    # Its claimed rows wait for their lease; then a sender takes them.
    send_pending(now=timezone.now() + sending_lease())
    per_address = Counter(r.rcpt_tos[0] for r in slow_smtp.handler.received)
    assert set(per_address) == {f"user{i}@dsi.example.org" for i in range(EMAILS)}
    assert sum(per_address.values()) - EMAILS <= 1  # one email in hand resent at most
    assert worker.process.poll() is None
