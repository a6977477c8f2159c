"""Catch-up at worker start: today's missed 08:00 check runs once, never twice."""

from __future__ import annotations

import datetime
import threading
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_results.models import TaskResult

from core.jobs import catch_up
from core.jobs.scheduler import install_entries
from core.models import JobRun, NotificationTache
from core.tasks import check_task_deadlines
from si_gouvernance.celery import app
from tests.celery.conftest import wait_for
from tests.conftest import TODAY
from tests.factories import TacheFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(TODAY, datetime.time(hour, minute), tzinfo=PARIS)


@pytest.fixture
def due_today(world):
    return TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)


def catch_up_runs() -> list[JobRun]:
    return list(JobRun.objects.filter(trigger=JobRun.Trigger.CATCH_UP))


@time_machine.travel(at(9, 30), tick=False)
def test_worker_starting_after_a_missed_8_oclock_runs_todays_check(due_today):
    task_id = catch_up.enqueue_missed_deadline_check()
    assert task_id == "catch-up:check_task_deadlines:2026-11-25"
    [run] = catch_up_runs()
    assert (run.status, run.business_date) == ("SUCCESS", TODAY)
    assert NotificationTache.objects.filter(tache=due_today).count() == 2


@time_machine.travel(at(9, 30), tick=False)
def test_a_second_worker_start_the_same_day_does_nothing(due_today):
    assert catch_up.enqueue_missed_deadline_check() is not None
    assert catch_up.enqueue_missed_deadline_check() is None
    assert len(catch_up_runs()) == 1


@time_machine.travel(at(9, 30), tick=False)
def test_no_catch_up_when_beat_already_ran_today(due_today):
    check_task_deadlines.apply(kwargs={"trigger": "BEAT"}).get()  # beat's 08:00 run
    assert catch_up.enqueue_missed_deadline_check() is None
    assert catch_up_runs() == []


@time_machine.travel(at(7, 59), tick=False)
def test_no_catch_up_before_the_planned_time(due_today):
    assert catch_up.enqueue_missed_deadline_check() is None
    assert not JobRun.objects.exists()


@time_machine.travel(at(9, 30), tick=False)
def test_the_admins_time_and_switch_are_honoured(transactional_db, due_today):
    install_entries(app)
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="10",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=PARIS,
    )
    PeriodicTask.objects.filter(name="check-task-deadlines-daily").update(crontab=crontab)
    assert catch_up.enqueue_missed_deadline_check() is None  # planned at 10:00 now

    PeriodicTask.objects.filter(name="check-task-deadlines-daily").update(
        crontab=CrontabSchedule.objects.get(hour="8", minute="0"), enabled=False
    )
    assert catch_up.enqueue_missed_deadline_check() is None  # disabled by the admin


@time_machine.travel(at(9, 30), tick=False)
def test_a_failed_catch_up_can_be_claimed_again(due_today):
    task_id = catch_up.catch_up_task_id(TODAY)
    assert catch_up.claim(task_id)
    assert not catch_up.claim(task_id)
    TaskResult.objects.filter(task_id=task_id).update(status="FAILURE")
    assert catch_up.claim(task_id)


@pytest.mark.postgres
def test_workers_starting_together_claim_once(transactional_db, postgres_db):
    task_id = catch_up.catch_up_task_id(TODAY)
    barrier = threading.Barrier(8)
    won: list[bool] = []

    def start_worker() -> None:
        try:
            barrier.wait()
            won.append(catch_up.claim(task_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=start_worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 7 + [True]


@pytest.mark.worker
@pytest.mark.postgres
def test_real_workers_started_late_catch_up_once(world, use_broker, start_worker, tmp_path):
    """Two real workers start after the planned time: one catch-up run, alerts once."""
    from django.utils import timezone

    install_entries(app)
    # The admin set the check at 00:00, so "the planned time has passed" holds
    # whenever the test runs; no run has happened today.
    midnight, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="0",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=PARIS,
    )
    PeriodicTask.objects.filter(name="check-task-deadlines-daily").update(crontab=midnight)
    tache = TacheFactory(
        projet=world.projet, responsable=world.bob, date_echeance=timezone.localdate()
    )
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    use_broker(broker)
    first = start_worker(broker, today_done=False)
    second = start_worker(broker, today_done=False)

    wait_for(
        lambda: JobRun.objects.filter(trigger="CATCH_UP", status="SUCCESS").exists(),
        timeout=60,
        what="the catch-up run",
        workers=(first, second),
    )
    assert JobRun.objects.filter(job="check_task_deadlines").count() == 1, (
        first.output() + second.output()
    )
    assert NotificationTache.objects.filter(tache=tache).count() == 2
