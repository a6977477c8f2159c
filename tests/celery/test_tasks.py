"""The periodic tasks' contract, run in-process (eager): results, records, retries."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from celery.signals import task_retry
from django.db import OperationalError, connection

from core.models import JobRun, NotificationTache
from core.tasks import check_task_deadlines, cleanup_old_notifications
from si_gouvernance.celery import app
from tests.conftest import TODAY
from tests.factories import NotificationFactory, TacheFactory

NOON_PARIS = datetime.datetime(2026, 11, 25, 11, 0, tzinfo=datetime.UTC)


@pytest.fixture
def retries():
    """Every retry Celery schedules: (task name, delay in seconds)."""
    seen: list[tuple[str, float]] = []

    def record(sender, request, reason, einfo, **kwargs):
        retry = getattr(einfo.exception, "exc", einfo.exception)  # unwrap the traceback
        seen.append((sender.name, retry.when))

    task_retry.connect(record, weak=False)
    yield seen
    task_retry.disconnect(record)


def database_down_for(table: str):
    """Make every query on ``table`` fail as a lost database connection does."""

    def wrapper(execute, sql, params, many, context):
        if table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper)


@time_machine.travel(NOON_PARIS, tick=False)
def test_check_returns_json_status_timestamp_and_counts(world):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    result = check_task_deadlines.apply(kwargs={"trigger": "MANUAL"}).get()
    assert result["status"] == "success"
    assert result["trigger"] == "MANUAL"
    assert result["created"]["ALERTE_CRITIQUE"] == 2
    assert datetime.datetime.fromisoformat(result["timestamp"]) == NOON_PARIS
    run = JobRun.objects.get()
    assert (run.trigger, run.status, run.business_date) == ("MANUAL", "SUCCESS", TODAY)


def test_check_for_a_given_day_is_recorded_on_that_day(world):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    result = check_task_deadlines.apply(kwargs={"today": TODAY.isoformat()}).get()
    assert result["date"] == "2026-11-25"
    assert JobRun.objects.get().business_date == TODAY


def test_database_error_retries_three_times_5_minutes_apart_then_fails(world, retries, monkeypatch):
    # As a worker does: a failure becomes the task's state, not an exception here.
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    with database_down_for("core_tache"):
        outcome = check_task_deadlines.apply(kwargs={"today": TODAY.isoformat()})
    assert outcome.state == "FAILURE"
    with pytest.raises(OperationalError, match="server closed the connection"):
        outcome.get()
    assert retries == [("core.tasks.check_task_deadlines", 300)] * 3
    runs = JobRun.objects.all()
    assert [r.status for r in runs] == ["FAILURE"] * 4  # the first try and 3 retries
    assert all("OperationalError" in r.error for r in runs)
    assert not NotificationTache.objects.exists()


@pytest.mark.parametrize("days", [0, -3, "trente", 2.5, True, 10**20, "99999999999999999999"])
def test_bad_days_fails_at_once_with_a_clear_message(db, retries, days):
    with pytest.raises(ValueError, match="Nombre de jours invalide"):
        cleanup_old_notifications.apply(kwargs={"days": days})
    assert retries == []
    assert not JobRun.objects.exists()


def test_bad_trigger_or_date_fails_at_once(db, retries):
    with pytest.raises(ValueError, match="Déclencheur inconnu 'CRON'"):
        check_task_deadlines.apply(kwargs={"trigger": "CRON"})
    with pytest.raises(ValueError, match="AAAA-MM-JJ"):
        check_task_deadlines.apply(kwargs={"today": "25/11/2026"})
    with pytest.raises(ValueError, match="AAAA-MM-JJ"):
        check_task_deadlines.apply(kwargs={"today": ""})
    assert retries == []


@time_machine.travel(NOON_PARIS, tick=False)
def test_cleanup_deletes_old_read_notifications_only(world):
    old = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)
    old_read = NotificationFactory.create_batch(3, destinataire=world.bob, lue=True)
    old_unread = NotificationFactory(destinataire=world.bob, lue=False)
    recent_read = NotificationFactory(destinataire=world.bob, lue=True)
    NotificationTache.objects.filter(pk__in=[n.pk for n in [*old_read, old_unread]]).update(
        date_creation=old
    )

    result = cleanup_old_notifications.apply(kwargs={"days": 30}).get()

    assert (result["status"], result["deleted"], result["days"]) == ("success", 3, 30)
    assert set(NotificationTache.objects.values_list("pk", flat=True)) == {
        old_unread.pk,
        recent_read.pk,
    }
    assert JobRun.objects.get().counts == {
        "deleted": 3,
        "days": 30,
        "deleted_emails": 0,
        "email_days": 90,
        "stale_exports": 0,
        "deleted_exports": 0,
        "deleted_channel_messages": 0,
    }


@time_machine.travel(NOON_PARIS, tick=False)
def test_a_catch_up_skips_a_day_that_already_succeeded(world):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    check_task_deadlines.apply(kwargs={"today": TODAY.isoformat()}).get()
    result = check_task_deadlines.apply(
        kwargs={"today": TODAY.isoformat(), "trigger": "CATCH_UP"}
    ).get()
    assert result["already_done"] is True
    assert JobRun.objects.count() == 1


@time_machine.travel(NOON_PARIS, tick=False)
def test_a_day_failed_beyond_its_retries_is_caught_up_the_same_day(world, retries, monkeypatch):
    """Beat's 08:00 run fails on the database, four times; the day is not stuck:
    once the database is back the catch-up runs it, alerts once."""
    from core.tasks import catch_up_missed_jobs

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    with database_down_for("core_tache"):
        failed = check_task_deadlines.apply(kwargs={"trigger": "BEAT"})
    assert failed.state == "FAILURE" and len(retries) == 3

    assert catch_up_missed_jobs.apply().get() == ["check_task_deadlines", "send_daily_summary"]
    assert NotificationTache.objects.count() == 2
    assert catch_up_missed_jobs.apply().get() == []
