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
import re
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
from tests.celery.conftest import Worker, wait_for
from tests.emails.conftest import RecordingHandler, SmtpServer, _use_smtp
from tests.faults import PrivateRedis

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


def kill_redis_under_the_sender(
    redis: Any, smtp: SmtpServer, use_broker: Any, start_worker: Any, **env: str
) -> Worker:
    """A prefork worker (two processes, one free) sending slowly; Redis killed
    (``kill -9``) and back; a new task sent: the worker, once it ran or died."""
    for i in range(EMAILS):
        OutboundEmail.objects.create(
            to_address=f"user{i}@dsi.example.org", subject=f"Alerte {i}", body_text="Texte"
        )
    use_broker(redis.url)
    worker = start_worker(
        redis.url,
        pool="prefork",
        concurrency=2,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        **env,
    )
    sent_through(redis.url, send_pending_emails)
    wait_for(
        lambda: len(smtp.handler.received) >= 2,
        timeout=60,
        what="the sender to be sending",
        workers=(worker,),
    )
    redis.kill()
    redis.start()
    after = sent_through(redis.url, debug_task)
    wait_for(
        lambda: f"[{after.id}] succeeded" in worker.output() or worker.process.poll() is not None,
        timeout=60,
        what="a new task, or the worker's end",
        workers=(worker,),
    )
    return worker


def test_a_busy_worker_survives_a_redis_kill_and_keeps_its_work(
    world, private_redis, slow_smtp, use_broker, start_worker
):
    worker = kill_redis_under_the_sender(private_redis, slow_smtp, use_broker, start_worker)

    # The same process consumed the new task (it used to stop).
    assert worker.process.poll() is None, worker.output()[-5000:]
    taken = len(slow_smtp.handler.received)
    assert OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT).count() >= taken - 1

    # The interrupted run's claimed rows wait for their lease; then a sender takes them.
    send_pending(now=timezone.now() + sending_lease())
    per_address = Counter(r.rcpt_tos[0] for r in slow_smtp.handler.received)
    assert set(per_address) == {f"user{i}@dsi.example.org" for i in range(EMAILS)}
    assert sum(per_address.values()) - EMAILS <= 1  # one email in hand resent at most
    assert worker.process.poll() is None


@pytest.fixture
def persistent_redis(tmp_path: Any) -> Iterator[PrivateRedis]:
    """A private redis-server run as deploy/redis configures production's (AOF)."""
    server = PrivateRedis(tmp_path, wait_for, persistent=True)
    server.start()
    yield server
    server.close()


# The interrupted sender's rows are leased for the hard time limit (20 s); its
# message, unacknowledged, comes back after the visibility timeout (30 s): once
# the lease has ended.
SHORT_LEASE = {
    "CELERY_TASK_SOFT_TIME_LIMIT": "15",
    "CELERY_TASK_TIME_LIMIT": "20",
    "CELERY_VISIBILITY_TIMEOUT": "30",
    "JOB_RETRY_DELAY_S": "2",  # below the visibility timeout, as the settings require
}


def test_the_interrupted_sender_is_redelivered_and_sends_its_rows_after_their_lease(
    world, persistent_redis, slow_smtp, use_broker, start_worker
):
    worker = kill_redis_under_the_sender(
        persistent_redis, slow_smtp, use_broker, start_worker, **SHORT_LEASE
    )
    [interrupted] = re.findall(
        r"core\.tasks\.send_pending_emails\[([0-9a-f-]+)\] received", worker.output()
    )

    # Nobody else sends (no beat, no sweep from the test): the message Redis kept in
    # its append-only file is delivered again, and its run sends what was leased.
    wait_for(
        lambda: OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT).count() == EMAILS,
        timeout=120,
        what="every email sent",
        workers=(worker,),
    )
    assert worker.output().count(f"[{interrupted}] received") == 2
    per_email = Counter(
        (str(r.message["Message-ID"]), r.rcpt_tos[0]) for r in slow_smtp.handler.received
    )
    assert {to for _, to in per_email} == {f"user{i}@dsi.example.org" for i in range(EMAILS)}
    assert len(per_email) == EMAILS  # one Message-ID per email, however often sent
    assert sum(per_email.values()) - EMAILS <= 1  # the email in hand, at most
    assert worker.process.poll() is None


def test_celerys_own_consumer_still_stops_there(
    world, private_redis, slow_smtp, use_broker, start_worker
):
    """Pins the library bug core.jobs.broker_loss works around: when this fails,
    Celery or kombu fixed it; drop the workaround (and CELERY_WORKER_CONSUMER)."""
    worker = kill_redis_under_the_sender(
        private_redis,
        slow_smtp,
        use_broker,
        start_worker,
        CELERY_WORKER_CONSUMER="celery.worker.consumer:Consumer",
    )
    assert worker.process.wait(timeout=60) != 0
    assert "'NoneType' object has no attribute 'hostname'" in worker.output()
