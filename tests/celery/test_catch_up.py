"""Catch-up: a daily job missed today runs once the same day, never twice."""

from __future__ import annotations

import datetime
import threading
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from core.jobs import catch_up, registry, runs
from core.jobs.beat_rows import sync_rows
from core.models import JobDay, JobRun, NotificationTache, OutboundEmail
from core.tasks import check_task_deadlines, send_daily_summary
from tests.celery.conftest import wait_for
from tests.conftest import TODAY
from tests.factories import TacheFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
CHECK = registry.CHECK_TASK_DEADLINES
SUMMARY = registry.SEND_DAILY_SUMMARY


def at(hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(TODAY, datetime.time(hour, minute), tzinfo=PARIS)


@pytest.fixture
def due_today(world):
    return TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)


def catch_up_runs(job=CHECK) -> list[JobRun]:
    return list(JobRun.objects.filter(job=job.key, trigger=JobRun.Trigger.CATCH_UP))


def enqueue() -> list[str]:
    return catch_up.enqueue_missed_jobs()


@time_machine.travel(at(9, 30), tick=False)
def test_worker_starting_after_a_missed_8_oclock_runs_todays_jobs(due_today):
    assert enqueue() == ["check_task_deadlines", "send_daily_summary"]
    [run] = catch_up_runs()
    assert (run.status, run.business_date) == ("SUCCESS", TODAY)
    assert NotificationTache.objects.filter(tache=due_today).count() == 2
    assert [r.status for r in catch_up_runs(SUMMARY)] == ["SUCCESS"]
    assert OutboundEmail.objects.filter(kind="SUMMARY").count() == 1
    assert JobDay.objects.filter(done_at__isnull=False).count() == 2


@time_machine.travel(at(9, 30), tick=False)
def test_a_second_worker_start_the_same_day_does_nothing(due_today):
    assert enqueue()
    assert enqueue() == []
    assert len(catch_up_runs()) == 1


@time_machine.travel(at(9, 30), tick=False)
def test_no_catch_up_when_beat_already_ran_today(due_today):
    check_task_deadlines.apply(kwargs={"trigger": "BEAT"}).get()  # beat's 08:00 run
    send_daily_summary.apply(kwargs={"trigger": "BEAT"}).get()  # and 08:15
    assert enqueue() == []
    assert catch_up_runs() == []


@time_machine.travel(at(8, 20), tick=False)
def test_the_summary_is_not_caught_up_before_its_own_time_and_grace(due_today):
    assert enqueue() == ["check_task_deadlines"]  # planned 08:00; the summary 08:15


@time_machine.travel(at(7, 59), tick=False)
def test_no_catch_up_before_the_planned_time(due_today):
    assert enqueue() == []
    assert not JobRun.objects.exists()


@time_machine.travel(at(9, 30), tick=False)
def test_the_admins_time_and_switch_are_honoured(transactional_db, due_today):
    sync_rows()
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="10",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=PARIS,
    )
    daily = PeriodicTask.objects.filter(name="check-task-deadlines-daily")
    daily.update(crontab=crontab)
    PeriodicTask.objects.filter(name="send-daily-summary").update(enabled=False)
    assert enqueue() == []  # the check is planned at 10:00 now, the summary disabled

    daily.update(crontab=CrontabSchedule.objects.get(hour="8", minute="0"), enabled=False)
    assert enqueue() == []  # disabled by the administrator


@time_machine.travel(at(9, 30), tick=False)
def test_a_day_claim_never_stays_stuck(world):
    """A run that failed gives the day back at once; one whose worker died keeps
    it only until its lease (the hard time limit) ends."""
    assert runs.claim_day(CHECK, TODAY, task_id="first")
    assert not runs.claim_day(CHECK, TODAY, task_id="second")  # first is alive
    assert runs.claim_day(CHECK, TODAY, task_id="first")  # first, redelivered, goes on

    runs.release_day(CHECK, TODAY, task_id="first")  # it failed
    assert runs.claim_day(CHECK, TODAY, task_id="second")

    after_lease = at(9, 30) + runs.lease() + datetime.timedelta(seconds=1)
    assert runs.claim_day(CHECK, TODAY, task_id="third", now=after_lease)  # second died

    runs.mark_done(CHECK, TODAY)
    assert not runs.claim_day(CHECK, TODAY, task_id="fourth", now=after_lease)


def test_a_queued_catch_up_lost_with_the_broker_is_queued_again(world):
    with time_machine.travel(at(9, 30), tick=False):
        assert catch_up.claim_queueing(CHECK, now=at(9, 30))
        assert not catch_up.claim_queueing(CHECK, now=at(9, 35))  # already on its way
    # Ten minutes on, nobody took the day: the message was lost (broker restarted).
    assert catch_up.claim_queueing(CHECK, now=at(9, 40))


@pytest.mark.postgres
def test_workers_starting_together_claim_once(transactional_db, postgres_db):
    barrier = threading.Barrier(8)
    won: list[bool] = []

    def start_worker(index: int) -> None:
        try:
            barrier.wait()
            won.append(runs.claim_day(CHECK, TODAY, task_id=f"worker-{index}"))
        finally:
            connection.close()

    threads = [threading.Thread(target=start_worker, args=(i,)) for i in range(8)]
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

    sync_rows()
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
