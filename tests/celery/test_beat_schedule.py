"""Beat: the entries declared in code, stored in the database; code defaults flow,
administrators' edits stay; DST-proof."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import time
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from core.jobs import beat_rows, registry
from core.jobs.beat_rows import sync_rows
from core.models import BeatEntryDefault
from si_gouvernance.celery import app
from tests.celery.conftest import ROOT, wait_for, worker_env

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
DAILY = "check-task-deadlines-daily"


def start_beat():
    """What ``celery beat`` does at start: build its CELERY_BEAT_SCHEDULER, which
    installs the entries. (transactional_db: the scheduler closes connections
    left in a transaction.)"""
    from celery.utils.imports import symbol_by_name

    return symbol_by_name(app.conf.beat_scheduler)(app=app, lazy=False)


def planned(scheduler, name: str):
    """The entry the running scheduler plans, read at a time near the entry's hour
    (django-celery-beat only loads crontabs within two hours of now)."""
    with time_machine.travel(datetime.datetime(2026, 11, 25, 7, 0, tzinfo=PARIS)):
        return scheduler.all_as_schedule().get(name)


def admin_moves_daily_check_to(hour: int, minute: int) -> None:
    """The admin form: pick (or create) another crontab for the entry and save."""
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=str(minute),
        hour=str(hour),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=PARIS,
    )
    task = PeriodicTask.objects.get(name=DAILY)
    task.crontab = crontab
    task.save()


def daily_crontab() -> tuple[str, str]:
    crontab = PeriodicTask.objects.get(name=DAILY).crontab
    return crontab.hour, crontab.minute


def test_beat_start_stores_the_three_entries_as_declared(transactional_db):
    start_beat()
    stored = {t.name: t for t in PeriodicTask.objects.select_related("crontab")}
    assert {DAILY, "cleanup-old-notifications", "send-daily-summary"} <= set(stored)
    daily = stored[DAILY]
    assert (daily.task, daily.crontab.hour, daily.crontab.minute) == (
        "core.tasks.check_task_deadlines",
        "8",
        "0",
    )
    assert str(daily.crontab.timezone) == "Europe/Paris"
    assert daily.expire_seconds == 3600  # the stock entry would drop "expires"
    cleanup = stored["cleanup-old-notifications"]
    assert (cleanup.crontab.day_of_week, cleanup.crontab.hour) == ("1", "2")
    # "days" is read from NOTIFICATION_RETENTION_DAYS when the job runs, not frozen.
    assert json.loads(cleanup.kwargs) == {"trigger": "BEAT"}
    assert json.loads(daily.kwargs) == {"trigger": "BEAT"}


def test_an_admin_edit_survives_a_beat_restart(transactional_db):
    start_beat()
    admin_moves_daily_check_to(7, 30)
    scheduler = start_beat()
    assert daily_crontab() == ("7", "30")
    # And the restarted beat (django-celery-beat's scheduler, as its admin
    # requires) plans the admin's time, not the code's.
    assert isinstance(scheduler, DatabaseScheduler)
    assert planned(scheduler, DAILY).schedule.hour == {7}


def test_the_stock_scheduler_given_the_beat_schedule_would_undo_it(transactional_db):
    """The library behaviour core.jobs.beat_rows.BeatScheduler works around: its
    stock setup writes app.conf.beat_schedule over the rows. (When a release stops
    doing so, this fails: use the stock scheduler and sync at beat_init.)"""
    start_beat()
    admin_moves_daily_check_to(7, 30)
    DatabaseScheduler(app=app, lazy=False)
    assert daily_crontab() == ("8", "0")


def test_beat_init_comes_only_after_the_scheduler_set_up(transactional_db):
    """The other half of that behaviour: a beat_init receiver would come too late
    to keep an edit, the stock setup having already written the entries."""
    from celery import beat
    from celery.signals import beat_init

    seen: list[bool] = []

    def receiver(sender, **_kwargs):
        seen.append(PeriodicTask.objects.filter(name=DAILY).exists())
        sender.stop()

    beat_init.connect(receiver, weak=False)
    try:
        stock = "django_celery_beat.schedulers:DatabaseScheduler"
        beat.Service(app=app, scheduler_cls=stock).start()
    finally:
        beat_init.disconnect(receiver)
    assert seen == [True]


def test_the_beat_schedule_is_left_as_declared_after_beat_started(transactional_db):
    start_beat()
    assert app.conf.beat_schedule == registry.beat_schedule()
    assert app.conf.beat_schedule[DAILY]["options"] == {"expires": 3600}


def test_a_disabled_entry_stays_disabled_across_restarts(transactional_db):
    start_beat()
    PeriodicTask.objects.filter(name=DAILY).update(enabled=False)
    scheduler = start_beat()
    assert not PeriodicTask.objects.get(name=DAILY).enabled
    assert planned(scheduler, DAILY) is None


def test_setup_command_creates_then_keeps_then_resets(transactional_db, capsys):
    call_command("setup_periodic_tasks")
    assert f"{DAILY}\u00a0: créé" in capsys.readouterr().out
    admin_moves_daily_check_to(7, 30)
    PeriodicTask.objects.filter(name=DAILY).update(enabled=False)

    call_command("setup_periodic_tasks")
    assert daily_crontab() == ("7", "30")

    call_command("setup_periodic_tasks", "--reset")
    assert daily_crontab() == ("8", "0")
    assert PeriodicTask.objects.get(name=DAILY).enabled
    assert PeriodicTask.objects.filter(name=DAILY).count() == 1


def test_daily_check_fires_once_a_day_at_8_paris_across_both_dst_changes(transactional_db):
    """Beat's loop over 2026: ask is_due, sleep what it says (capped), fire when due."""
    start_beat()
    entry_schedule = PeriodicTask.objects.get(name=DAILY).schedule  # what beat runs
    now = datetime.datetime(2025, 12, 31, 12, 0, tzinfo=PARIS)
    last_run = now
    fires: list[datetime.datetime] = []
    with time_machine.travel(now, tick=False) as traveller:
        while now < datetime.datetime(2027, 1, 1, tzinfo=PARIS):
            due, next_check = entry_schedule.is_due(last_run)
            if due:
                fires.append(now)
                last_run = now
            now += datetime.timedelta(seconds=min(max(next_check, 1), 3600))
            traveller.move_to(now)

    local = [fire.astimezone(PARIS) for fire in fires]
    days = [fire.date() for fire in local]
    assert len(days) == len(set(days)) == 365  # every day of 2026, once
    assert {(fire.hour, fire.minute) for fire in local} == {(8, 0)}
    by_day = {fire.date(): fire for fire in local}
    for day in ("2026-03-28", "2026-03-29", "2026-03-30", "2026-10-24", "2026-10-25"):
        assert by_day[datetime.date.fromisoformat(day)].time() == datetime.time(8, 0)
    # 08:00 Paris is 07:00 UTC in winter and 06:00 UTC in summer.
    utc_hours = {fire.astimezone(datetime.UTC).hour for fire in fires}
    assert utc_hours == {6, 7}


@pytest.mark.worker
@pytest.mark.postgres
def test_a_real_beat_process_keeps_the_admins_edit_and_logs_to_celery_log(
    worker_database, tmp_path
):
    sync_rows()
    admin_moves_daily_check_to(7, 30)
    last_entry = list(app.conf.beat_schedule)[-1]
    PeriodicTask.objects.filter(name=last_entry).delete()
    env = worker_env(worker_database, f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}", tmp_path)
    command = [sys.executable, "-m", "celery", "-A", "si_gouvernance", "beat", "--loglevel=INFO"]
    command += [f"--pidfile={tmp_path / 'beat.pid'}"]
    log = tmp_path / "logs" / "celery.log"
    beat = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        # Entries are installed in declaration order: once the last one is back,
        # beat has been through the daily check's entry.
        wait_for(
            lambda: PeriodicTask.objects.filter(name=last_entry).exists(),
            timeout=60,
            what="beat to install its entries",
        )
    finally:
        # Stopped as soon as it has stored its entries, maybe still setting up:
        # it must stop all the same (it once hung there for good).
        beat.terminate()
        try:
            beat.wait(timeout=30)
        except subprocess.TimeoutExpired:
            beat.kill()
            raise
    assert daily_crontab() == ("7", "30")
    line = next(line for line in log.read_text().splitlines() if "beat: Starting" in line)
    assert re.match(
        r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: INFO/MainProcess\] celery\.beat: ", line
    )


# --- Code defaults flow, administrators' edits stay -------------------------------


def code_moves_daily_check_to(monkeypatch, hour: int, minute: int, expires: int = 1800) -> None:
    """A new release changes the code's default (time and expiry)."""
    from celery.schedules import crontab

    changed = registry.CHECK_TASK_DEADLINES.__class__(
        **{
            **registry.CHECK_TASK_DEADLINES.__dict__,
            "schedule": crontab(hour=hour, minute=minute),
            "expires_s": expires,
        }
    )
    jobs = tuple(changed if j.key == changed.key else j for j in registry.JOBS)
    monkeypatch.setattr(registry, "JOBS", jobs)


def test_an_unedited_row_follows_a_new_code_default(transactional_db, monkeypatch):
    start_beat()
    code_moves_daily_check_to(monkeypatch, 7, 45, expires=1800)

    assert sync_rows()[DAILY] == "updated"

    assert daily_crontab() == ("7", "45")
    assert PeriodicTask.objects.get(name=DAILY).expire_seconds == 1800
    assert sync_rows()[DAILY] == "unchanged"


def test_an_edited_row_is_kept_and_shown_modified_then_reset_per_entry(
    transactional_db, monkeypatch
):
    from core.jobs.plans import job_plans

    def modified(job: registry.PeriodicJob) -> bool:
        return job_plans([job], now=datetime.datetime.now(datetime.UTC))[job.key].modified

    start_beat()
    admin_moves_daily_check_to(7, 30)
    code_moves_daily_check_to(monkeypatch, 9, 0)

    assert sync_rows()[DAILY] == "modified"
    assert daily_crontab() == ("7", "30")
    assert modified(registry.CHECK_TASK_DEADLINES)
    assert not modified(registry.SEND_DAILY_SUMMARY)

    assert beat_rows.reset_entry(DAILY)
    assert daily_crontab() == ("9", "0")
    assert not modified(registry.CHECK_TASK_DEADLINES)
    # From now on the row follows the code again.
    code_moves_daily_check_to(monkeypatch, 9, 30)
    assert sync_rows()[DAILY] == "updated"
    assert daily_crontab() == ("9", "30")


def test_a_disabled_entry_counts_as_an_edit(transactional_db):
    start_beat()
    PeriodicTask.objects.filter(name=DAILY).update(enabled=False)
    assert sync_rows()[DAILY] == "modified"
    assert not PeriodicTask.objects.get(name=DAILY).enabled


def test_an_entry_the_code_no_longer_declares_is_removed_unless_edited(transactional_db):
    start_beat()
    row = PeriodicTask.objects.get(name="send-daily-summary")
    BeatEntryDefault.objects.create(name="old-entry", fingerprint=beat_rows.fingerprint(row))
    PeriodicTask.objects.filter(pk=row.pk).update(name="old-entry")  # as an old release left it
    assert sync_rows()["old-entry"] == "removed"
    assert not PeriodicTask.objects.filter(name="old-entry").exists()

    edited = PeriodicTask.objects.get(name="send-daily-summary")
    BeatEntryDefault.objects.create(name="edited-old", fingerprint="not-its-fingerprint")
    PeriodicTask.objects.filter(pk=edited.pk).update(name="edited-old")
    assert sync_rows()["edited-old"] == "modified"
    assert PeriodicTask.objects.filter(name="edited-old").exists()


def test_rows_of_the_first_releases_are_adopted_when_unedited(transactional_db):
    """Migration 0004: the frozen ``days`` goes, the old catch-up entry is removed,
    and an administrator's edit of those days stays."""
    import importlib

    from django.apps import apps

    adopt = importlib.import_module("core.migrations.0004_adopt_unedited_beat_rows").adopt
    legacy = {
        DAILY: ({"hour": "8", "minute": "0"}, '{"trigger": "BEAT"}', 3600),
        "cleanup-old-notifications": (
            {"hour": "2", "minute": "0", "day_of_week": "1"},
            '{"days": 30, "trigger": "BEAT"}',
            None,
        ),
        "catch-up-missed-deadline-check": ({"minute": "20,50"}, "{}", 600),
        "send-daily-summary": ({"hour": "9", "minute": "0"}, '{"trigger": "BEAT"}', 3600),
    }
    for name, (cron, kwargs, expire) in legacy.items():
        crontab, _ = CrontabSchedule.objects.get_or_create(**cron, timezone=PARIS)
        task = f"core.tasks.{name.replace('-', '_').removesuffix('_daily')}"
        PeriodicTask.objects.create(
            name=name, task=task, crontab=crontab, kwargs=kwargs, expire_seconds=expire
        )
    adopt(apps, None)

    outcome = sync_rows()

    assert outcome[DAILY] == "unchanged"
    assert outcome["cleanup-old-notifications"] == "updated"
    cleanup = PeriodicTask.objects.get(name="cleanup-old-notifications")
    assert json.loads(cleanup.kwargs) == {"trigger": "BEAT"}
    assert outcome["catch-up-missed-deadline-check"] == "removed"
    assert outcome["send-daily-summary"] == "modified"  # 09:00 was an administrator's choice
    assert daily_crontab() == ("8", "0")


def test_the_admin_shows_modified_rows_and_puts_one_back(transactional_db, admin_client):
    start_beat()
    admin_moves_daily_check_to(7, 30)
    url = "/admin/django_celery_beat/periodictask/"

    page = admin_client.get(url)
    assert page.status_code == 200
    assert "icon-yes.svg" in page.content.decode()  # the "modified" column of that row

    daily = PeriodicTask.objects.get(name=DAILY)
    done = admin_client.post(
        url, {"action": "reset_to_default", "_selected_action": [daily.pk]}, follow=True
    )
    assert done.status_code == 200
    assert daily_crontab() == ("8", "0")
    assert "1 entrée remise au réglage par défaut du code" in done.content.decode()


@pytest.mark.parametrize("retention", [12, 45])
def test_the_weekly_cleanup_reads_the_retention_setting_when_it_runs(
    transactional_db, settings, retention
):
    from core.tasks import cleanup_old_notifications

    start_beat()
    settings.NOTIFICATION_RETENTION_DAYS = retention  # changed after beat stored its row
    row = PeriodicTask.objects.get(name="cleanup-old-notifications")
    result = cleanup_old_notifications.apply(kwargs=json.loads(row.kwargs)).get()
    assert result["days"] == retention


@pytest.mark.worker
@pytest.mark.postgres
def test_beat_stopped_while_it_sets_up_its_schedule_still_stops(worker_database, tmp_path):
    """SIGTERM arriving while beat stores its entries (here: held by a lock on the
    table) is handled once setup is over; it used to hang beat for good."""
    import psycopg

    sync_rows()
    dsn = worker_database.replace("postgres://", "postgresql://")
    env = worker_env(worker_database, f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}", tmp_path)
    command = [sys.executable, "-m", "celery", "-A", "si_gouvernance", "beat", "--loglevel=INFO"]
    command += [f"--pidfile={tmp_path / 'beat.pid'}"]
    with psycopg.connect(dsn) as holder:
        holder.execute("LOCK TABLE django_celery_beat_periodictask IN ACCESS EXCLUSIVE MODE")
        beat = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for(
                lambda: _waiting_on_a_lock(dsn),
                timeout=60,
                what="beat to wait on the table while setting up",
            )
            beat.terminate()
            time.sleep(1)  # the signal arrives mid-setup
            holder.rollback()  # the lock goes: setup ends, then beat stops
            assert beat.wait(timeout=30) is not None
        finally:
            if beat.poll() is None:
                beat.kill()
                beat.wait()


def _waiting_on_a_lock(dsn: str) -> bool:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        ).fetchone()
    return bool(row and row[0])
