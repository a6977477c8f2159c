"""The seed document's three checks, against a real worker on Redis and embedded."""

from __future__ import annotations

import os
import re

import pytest
from django.utils import timezone

from core.models import JobRun, NotificationTache
from core.tasks import check_task_deadlines
from si_gouvernance.celery import app, debug_task
from tests.conftest import require_service
from tests.factories import TacheFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


def due_today_for_bob(world):
    # The worker's "today" is the real one: the task is due on it.
    return TacheFactory(
        projet=world.projet,
        responsable=world.bob,
        date_echeance=timezone.localdate(),
        nom="Recette de la migration",
    )


def assert_seed_checks(world):
    tache = due_today_for_bob(world)

    assert debug_task.delay().get(timeout=30)["status"] == "success"

    result = check_task_deadlines.delay().get(timeout=60)
    assert result["status"] == "success"
    assert result["created"]["ALERTE_CRITIQUE"] == 2
    alerts = NotificationTache.objects.filter(tache=tache)
    assert {(a.destinataire.username, a.type_notification) for a in alerts} == {
        ("alice", "ALERTE_CRITIQUE"),
        ("bob", "ALERTE_CRITIQUE"),
    }
    # A call by hand (the seed's check) is a manual run: it runs even when beat
    # already ran today.
    run = JobRun.objects.get(job="check_task_deadlines", trigger=JobRun.Trigger.MANUAL)
    assert run.status == JobRun.Status.SUCCESS
    assert run.counts["total_created"] == 2

    assert {"check-task-deadlines-daily", "cleanup-old-notifications", "send-daily-summary"} <= set(
        app.conf.beat_schedule
    )


@pytest.mark.redis
def test_seed_checks_on_redis(world, redis_broker, use_broker, start_worker, tmp_path):
    use_broker(redis_broker)
    start_worker(redis_broker)
    assert_seed_checks(world)

    # The worker logs to logs/celery.log (LOG_DIR) in the spec's format.
    lines = (tmp_path / "logs" / "celery.log").read_text(encoding="utf-8").splitlines()
    line = next(line for line in lines if "core.tasks.check_task_deadlines" in line)
    assert re.match(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: INFO/MainProcess\] celery\.", line)


def test_seed_checks_on_embedded_broker(world, tmp_path, use_broker, start_worker):
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    use_broker(broker)
    worker = start_worker(broker)
    assert_seed_checks(world)
    assert "sqla+sqlite" in worker.output()


def test_seed_checks_on_rabbitmq(world, use_broker, start_worker):
    """RabbitMQ works by URL alone (the local server, when there is one)."""
    require_service("127.0.0.1", 5672, "RabbitMQ")
    broker = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
    use_broker(broker)
    app.control.purge()  # a shared server: nothing left over from an earlier run
    start_worker(broker)
    assert_seed_checks(world)
