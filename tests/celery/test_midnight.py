"""The midnight boundary: a run is for the day its message was sent for.

Beat's message gets its day when it is sent (core.jobs.sent_day), the catch-up's
carries it too; the run honours it however late it starts or ends, around
23:58 -> 00:05 in Paris, on ordinary and DST nights alike.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from core import tasks
from core.jobs import catch_up, registry, sent_day
from core.jobs.beat_rows import sync_rows
from core.models import JobDay, JobRun, NotificationTache, OutboundEmail
from core.tasks import check_task_deadlines, send_daily_summary
from si_gouvernance.celery import app
from tests.celery.conftest import ROOT, wait_for, worker_env
from tests.factories import TacheFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
CHECK, SUMMARY = registry.CHECK_TASK_DEADLINES, registry.SEND_DAILY_SUMMARY
# The evenings before an ordinary day, the spring jump (02:00 -> 03:00 on
# 2027-03-28) and the autumn one (03:00 -> 02:00 on 2026-10-25), and those days'
# own evenings.
EVENINGS = [
    datetime.date(2026, 11, 24),
    datetime.date(2027, 3, 27),
    datetime.date(2027, 3, 28),
    datetime.date(2026, 10, 24),
    datetime.date(2026, 10, 25),
]


@pytest.fixture(autouse=True)
def every_day_worked(settings: Any) -> None:
    """The DST nights fall on weekends: these tests are about the clock, so every
    day is a working day (the calendar has its own tests)."""
    settings.WORKING_DAYS_CALENDAR = "aucun"


def at(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=PARIS)


def next_day(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=1)


def done(job: registry.PeriodicJob, day: datetime.date) -> bool:
    return JobDay.objects.filter(job=job.key, business_date=day, done_at__isnull=False).exists()


def beat_sends(job: registry.PeriodicJob) -> dict[str, Any]:
    """The kwargs of the message beat publishes now for ``job``'s row, once the
    publish signal has run (called directly: eager mode publishes nothing)."""
    body: tuple[list[Any], dict[str, Any], dict[str, Any]] = ([], dict(job.kwargs), {})
    sent_day.add_business_day(sender=job.task, body=body, headers={"celery_beat_task": True})
    return body[1]


def queued_messages() -> list[tuple[str, dict[str, Any]]]:
    """The messages waiting in the in-memory broker: (task name, kwargs)."""
    messages = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        while queue.qsize():
            message = queue.get(timeout=1)
            message.ack()
            messages.append((message.headers["task"], message.payload[1]))
        queue.close()
    return messages


def test_the_real_beat_scheduler_sends_the_day_in_its_message(world, transactional_db, use_broker):
    """django-celery-beat's scheduler, publishing for real (memory broker): the
    signal fires in the sending process and the row's kwargs gain the day."""
    from celery.utils.imports import symbol_by_name

    use_broker("memory://")
    evening = datetime.date(2027, 3, 27)
    scheduler = symbol_by_name(app.conf.beat_scheduler)(app=app, lazy=False)

    def entry(job: registry.PeriodicJob) -> Any:  # the scheduler's entry for the job's row
        return scheduler.Entry(PeriodicTask.objects.get(name=job.beat_name), app=app)

    with time_machine.travel(at(evening, 23, 58), tick=False):
        scheduler.apply_async(entry(CHECK), advance=False)
        scheduler.apply_async(entry(registry.SEND_PENDING_EMAILS), advance=False)

    assert sorted(queued_messages()) == [
        (CHECK.task, {"trigger": "BEAT", "today": "2027-03-27"}),
        (registry.SEND_PENDING_EMAILS.task, {"trigger": "BEAT"}),  # not a daily job
    ]


@pytest.mark.parametrize("evening", EVENINGS, ids=str)
def test_a_run_straddling_midnight_marks_its_own_day_done(world, monkeypatch, evening):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=evening)
    real_check = tasks.run_deadline_check

    with time_machine.travel(at(evening, 23, 58), tick=False) as traveller:

        def check_until_after_midnight(**kwargs: Any) -> Any:
            report = real_check(**kwargs)
            traveller.move_to(at(next_day(evening), 0, 5))
            return report

        monkeypatch.setattr(tasks, "run_deadline_check", check_until_after_midnight)
        first = check_task_deadlines.apply(kwargs=beat_sends(CHECK)).get()
        monkeypatch.undo()

        assert first["emails_queued"] >= 1  # started on its day: emailed
        assert done(CHECK, evening)
        assert not done(CHECK, next_day(evening))
        traveller.move_to(at(next_day(evening), 8, 0))
        own = check_task_deadlines.apply(kwargs=beat_sends(CHECK)).get()
    assert "already_done" not in own  # the next day's own run still happens


@pytest.mark.parametrize("evening", EVENINGS, ids=str)
def test_a_check_delivered_after_midnight_runs_for_its_day_as_history(world, evening):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=evening)
    with time_machine.travel(at(evening, 23, 58), tick=False) as traveller:
        message = beat_sends(CHECK)
        traveller.move_to(at(next_day(evening), 0, 5))  # the worker was busy
        late = check_task_deadlines.apply(kwargs=message).get()

        assert "already_done" not in late and late["total_created"] == 2
        assert late["emails_queued"] == 0 and not OutboundEmail.objects.exists()
        assert set(NotificationTache.objects.values_list("date_alerte", flat=True)) == {evening}
        assert done(CHECK, evening) and not done(CHECK, next_day(evening))

        traveller.move_to(at(next_day(evening), 8, 0))
        own = check_task_deadlines.apply(kwargs=beat_sends(CHECK)).get()
    assert "already_done" not in own and own["emails_queued"] >= 1


@pytest.mark.parametrize("evening", EVENINGS, ids=str)
def test_a_summary_caught_up_before_midnight_is_skipped_after_it_not_failed(
    world, use_broker, evening
):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=next_day(evening))
    use_broker("memory://")
    with time_machine.travel(at(evening, 23, 55), tick=False) as traveller:
        assert catch_up.enqueue_missed_jobs() == [CHECK.key, SUMMARY.key]
        messages = dict(queued_messages())
        assert messages[SUMMARY.task] == {"trigger": "CATCH_UP", "today": evening.isoformat()}

        traveller.move_to(at(next_day(evening), 0, 2))
        late = send_daily_summary.apply(kwargs=messages[SUMMARY.task]).get()
        assert late["skipped"] == "past_day" and late["status"] == "success"
        [skip] = JobRun.objects.filter(job=SUMMARY.key)
        assert (skip.status, skip.business_date, skip.error) == ("SKIPPED", evening, "")
        assert skip.get_status_display() == "Ignoré\u00a0: jour passé"
        assert not OutboundEmail.objects.exists()

        traveller.move_to(at(next_day(evening), 8, 15))
        own = send_daily_summary.apply(kwargs=beat_sends(SUMMARY)).get()
        # An operator asking for a past day's summary is still refused.
        with pytest.raises(ValueError, match="aujourd"):
            send_daily_summary.apply(kwargs={"today": evening.isoformat()}).get()
    assert own["queued"] == 1
    assert OutboundEmail.objects.filter(kind="SUMMARY").count() == 1


@pytest.mark.parametrize(
    ("eta", "day"),
    [
        ("2026-10-24T22:30:00+00:00", "2026-10-25"),  # 00:30 CEST, the autumn night
        ("2026-10-25T22:30:00+00:00", "2026-10-25"),  # 23:30 CET, the day after the jump
        ("2027-03-27T22:58:00+00:00", "2027-03-27"),  # 23:58 CET
        ("2027-03-27T23:05:00+00:00", "2027-03-28"),  # 00:05 CET, the spring night
    ],
)
def test_the_day_sent_is_the_etas_in_paris(eta, day):
    assert sent_day.sent_for({"eta": eta}).isoformat() == day


def test_only_daily_beat_messages_without_a_day_gain_one():
    def sent(task: str, kwargs: dict[str, Any], headers: dict[str, Any]) -> dict[str, Any]:
        body: tuple[list[Any], dict[str, Any], dict[str, Any]] = ([], dict(kwargs), {})
        sent_day.add_business_day(sender=task, body=body, headers=headers)
        return body[1]

    with time_machine.travel(at(datetime.date(2026, 11, 24), 23, 58), tick=False):
        beat = {"celery_beat_task": True}
        assert sent(CHECK.task, {"trigger": "BEAT"}, {})["today"] == "2026-11-24"
        assert sent(SUMMARY.task, {}, beat)["today"] == "2026-11-24"  # an admin emptied kwargs
        assert sent(CHECK.task, {"trigger": "BEAT", "today": "2026-11-20"}, beat) == {
            "trigger": "BEAT",
            "today": "2026-11-20",
        }
        assert sent(SUMMARY.task, {"trigger": "MANUAL"}, {}) == {"trigger": "MANUAL"}
        assert sent(registry.SEND_PENDING_EMAILS.task, {"trigger": "BEAT"}, beat) == {
            "trigger": "BEAT"
        }


@pytest.mark.worker
@pytest.mark.postgres
def test_a_real_beat_process_sends_the_day_in_its_message(worker_database, use_broker, tmp_path):
    """``celery beat`` itself: the handler is connected in beat's process, and the
    message it publishes for the daily check carries the day."""
    sync_rows()
    # An administrator sets the check every second: beat sends it at once.
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.filter(name=CHECK.beat_name).update(crontab=None, interval=every_second)
    PeriodicTask.objects.exclude(name=CHECK.beat_name).update(enabled=False)
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    use_broker(broker)
    before = timezone.localdate()
    command = [sys.executable, "-m", "celery", "-A", "si_gouvernance", "beat", "--loglevel=INFO"]
    command += [f"--pidfile={tmp_path / 'beat.pid'}", f"--schedule={tmp_path / 'beat-schedule'}"]
    beat = subprocess.Popen(
        command,
        cwd=ROOT,
        env=worker_env(worker_database, broker, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    messages: list[tuple[str, dict[str, Any]]] = []
    try:
        wait_for(
            lambda: bool(messages.extend(queued_messages()) or messages),
            timeout=60,
            what="beat to send the daily check",
        )
    finally:
        beat.terminate()
        try:
            beat.wait(timeout=30)
        except subprocess.TimeoutExpired:
            beat.kill()
            raise
    task, kwargs = messages[0]
    assert task == CHECK.task and kwargs["trigger"] == "BEAT"
    assert kwargs["today"] in {before.isoformat(), timezone.localdate().isoformat()}
