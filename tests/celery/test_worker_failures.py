"""Real failures under a real worker: kill -9 mid-run, and the broker restarting."""

from __future__ import annotations

import datetime
import time

import psycopg
import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from core.models import JobRun, NotificationTache
from core.tasks import check_task_deadlines
from si_gouvernance.celery import debug_task
from tests.celery.conftest import wait_for
from tests.factories import TacheFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis]
VISIBILITY_TIMEOUT_S = 3


def make_tasks(world) -> set[tuple[str, str, str]]:
    """Tasks due today, late and soon; returns the exact alerts today calls for."""
    today = timezone.localdate()
    due = TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=today)
    late = TacheFactory(
        projet=world.projet,
        responsable=world.bob,
        date_echeance=today - datetime.timedelta(days=3),
    )
    soon = TacheFactory(
        projet=world.projet,
        responsable=world.bob,
        date_echeance=today + datetime.timedelta(days=2),
    )
    return {
        (due.nom, "alice", "ALERTE_CRITIQUE"),
        (due.nom, "bob", "ALERTE_CRITIQUE"),
        (late.nom, "alice", "ALERTE_RETARD"),
        (late.nom, "bob", "ALERTE_RETARD"),
        (soon.nom, "bob", "ALERTE_ECHEANCE"),
    }


def alerts() -> list[tuple[str, str, str]]:
    return [
        (n.tache.nom, n.destinataire.username, n.type_notification)
        for n in NotificationTache.objects.select_related("tache", "destinataire")
    ]


def insert_blocked(database_url: str) -> bool:
    """Whether a backend is waiting on a lock to insert notifications (mid-run)."""
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query ILIKE '%%INSERT INTO %%core_notificationtache%%'"
        ).fetchone()
    return bool(row and row[0])


def test_worker_killed_mid_check_is_redelivered_without_duplicates(
    world, redis_broker, use_broker, start_worker, worker_database
):
    expected = make_tasks(world)
    use_broker(redis_broker)
    # Production's relations scaled down: time limit and retry delay < visibility
    # timeout < expires
    # (the solo pool does not enforce time limits, so 2 s cannot cut the run short).
    env = {
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
        "CELERY_TASK_SOFT_TIME_LIMIT": "1",
        "CELERY_TASK_TIME_LIMIT": "2",
        "JOB_RETRY_DELAY_S": "2",
    }
    first = start_worker(redis_broker, **env)

    # Hold the notifications table (reads allowed, inserts wait) so the check is
    # caught in the middle of its run: scanned, recorded as RUNNING, inserting.
    holder = psycopg.connect(worker_database.replace("postgres://", "postgresql://"))
    holder.execute("LOCK TABLE core_notificationtache IN EXCLUSIVE MODE")
    try:
        # Expiring after an hour, as beat sends it. (Manual trigger: the worker
        # fixture marks today's beat run as done; a redelivered beat run finding
        # its own dead attempt is covered in test_once_a_day.)
        pending = check_task_deadlines.apply_async(expires=3600)
        wait_for(
            lambda: insert_blocked(worker_database),
            timeout=60,
            what="the check to reach its insert",
            workers=(first,),
        )
        first.kill()  # kill -9 of the worker's whole process group
    finally:
        holder.rollback()
        holder.close()

    time.sleep(VISIBILITY_TIMEOUT_S + 1)  # the broker's redelivery delay, not business time
    second = start_worker(redis_broker, **env)
    result = pending.get(timeout=90)

    assert result["status"] == "success", second.output()
    assert sorted(alerts()) == sorted(expected)
    runs = JobRun.objects.filter(job="check_task_deadlines", task_id=pending.id)
    assert sorted(r.status for r in runs) == ["RUNNING", "SUCCESS"]  # the killed try, then


def test_worker_reconnects_after_a_broker_restart(world, own_redis, use_broker, start_worker):
    broker, start_redis, stop_redis = own_redis
    expected = make_tasks(world)
    use_broker(broker)
    worker = start_worker(broker)
    assert debug_task.delay().get(timeout=30)["status"] == "success"

    stop_redis()
    # Sent while the broker is down: the caller gets an error, nothing vanishes.
    with pytest.raises(BrokerError, match="onnect"):
        check_task_deadlines.delay()
    assert not JobRun.objects.filter(job="check_task_deadlines", trigger="MANUAL").exists()

    start_redis()
    result = check_task_deadlines.delay().get(timeout=120)
    assert result["status"] == "success", worker.output()
    assert sorted(alerts()) == sorted(expected)
    assert worker.process.poll() is None  # the same worker process, reconnected
