"""Operators' commands as cron, the Task Scheduler or a supervision tool run them:
every bad argument is one French line and a non-zero exit, nothing recorded; a
run for another day never passes for today's."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

from core.jobs import registry
from core.models import JobDay, JobRun, NotificationTache, OutboundEmail
from core.tasks import send_daily_summary
from tests.conftest import TODAY
from tests.factories import TacheFactory

ROOT = Path(settings.BASE_DIR)
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOON = datetime.datetime.combine(TODAY, datetime.time(12, 0), tzinfo=PARIS)
DAY = datetime.timedelta(days=1)


def manage(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` in its own process on a throwaway SQLite database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="si_gouvernance.settings",
        ENV_FILE=os.devnull,
        VAR_DIR=str(tmp_path),
        LOG_DIR=str(tmp_path),
        SECRET_KEY="operator-test",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    env.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_as_operator(name: str, *args: str) -> int:
    """``manage.py <name> <args>`` as cron runs it, in this process: the command's
    ``run_from_argv`` (what ``manage.py`` calls); its exit code."""
    command = load_command_class(get_commands()[name], name)
    try:
        command.run_from_argv(["manage.py", name, *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["check_task_deadlines", "--date", "9999-12-31"], "est à plus de 366 jours"),
        (["check_task_deadlines", "--date", ""], "Date invalide ''"),
        (["check_task_deadlines", "--date", "2026-02-30"], "AAAA-MM-JJ"),
        (["check_task_deadlines", "--date", "2099-01-01", "--dry-run"], "366 jours"),
        (["send_daily_summary", "--date", "0001-01-01"], "366 jours"),
        (["cleanup_old_notifications", "--days", "99999999999999999999"], "de 1 à 36500"),
        (["cleanup_old_notifications", "--days", "0"], "Nombre de jours invalide"),
        (["check_health", "--max-age-hours", "0"], "--max-age-hours invalide"),
        (["check_health", "--max-age-hours", "-1"], "--max-age-hours invalide"),
        (["check_health", "--max-age-hours", "9" * 30], "--max-age-hours invalide"),
    ],
)
def test_a_bad_argument_is_one_french_line_and_a_non_zero_exit(
    transactional_db, world, capsys, args, expected
):
    # transactional_db: the command closes its database connections as it ends.
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    code = run_as_operator(*args)

    out, err = capsys.readouterr()
    assert code == (3 if args[0] == "check_health" else 1), err
    [line] = err.splitlines()
    assert expected in line and not out
    assert not JobRun.objects.exists() and not NotificationTache.objects.exists()
    assert not OutboundEmail.objects.exists()


@pytest.mark.process
def test_the_real_process_exits_non_zero_with_one_french_line(tmp_path):
    """The smoke test of the above through ``manage.py`` itself: the exit code the
    scheduler sees, the one line the operator reads (on a database that is down)."""
    done = manage(tmp_path, "check_health", DATABASE_URL="postgres://nobody@127.0.0.1:9/x")

    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("Base de données indisponible\u00a0: ")


def check_health() -> int:
    try:
        call_command("check_health")
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@time_machine.travel(NOON, tick=False)
def test_a_backfill_after_todays_success_keeps_health_green(world):
    call_command("check_task_deadlines")  # today's run
    call_command("check_task_deadlines", "--date", (TODAY - 5 * DAY).isoformat())
    assert check_health() == 0


@time_machine.travel(NOON, tick=False)
def test_a_past_day_writes_its_alerts_but_no_email_unless_asked(world, capsys):
    past = TODAY - 2 * DAY
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=past)

    call_command("check_task_deadlines", "--date", past.isoformat())

    assert NotificationTache.objects.filter(date_alerte=past).count() == 2
    assert not OutboundEmail.objects.exists()
    assert "aucun courriel" in capsys.readouterr().out

    call_command("check_task_deadlines", "--date", past.isoformat(), "--emails")
    assert OutboundEmail.objects.filter(kind="ALERTS").count() == 2


@time_machine.travel(NOON, tick=False)
def test_a_future_day_is_refused_and_cannot_take_over_the_real_one(world):
    tomorrow = TODAY + DAY
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=tomorrow)

    with pytest.raises(CommandError, match="dans le futur"):
        call_command("check_task_deadlines", "--date", tomorrow.isoformat())
    call_command("check_task_deadlines", "--date", tomorrow.isoformat(), "--dry-run")
    assert not NotificationTache.objects.exists() and not JobRun.objects.exists()

    with time_machine.travel(NOON + DAY, tick=False):
        call_command("check_task_deadlines")
    assert NotificationTache.objects.filter(date_alerte=tomorrow).count() == 2
    assert OutboundEmail.objects.filter(kind="ALERTS").count() == 2


@time_machine.travel(NOON, tick=False)
def test_a_run_for_another_day_does_not_count_as_todays(world):
    call_command("check_task_deadlines", "--date", (TODAY - DAY).isoformat())
    assert not JobDay.objects.filter(business_date=TODAY, done_at__isnull=False).exists()
    from core.jobs.catch_up import enqueue_missed_jobs

    assert "check_task_deadlines" in enqueue_missed_jobs()
    assert JobRun.objects.filter(trigger="CATCH_UP", business_date=TODAY).exists()


@time_machine.travel(NOON, tick=False)
def test_the_summary_is_sent_for_today_only(world):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    with pytest.raises(ValueError, match="aujourd'hui"):
        send_daily_summary.apply(kwargs={"today": "0001-01-01"})
    with pytest.raises(ValueError, match="aujourd'hui"):
        send_daily_summary.apply(kwargs={"today": (TODAY - DAY).isoformat()})
    with pytest.raises(CommandError, match="aujourd'hui"):
        call_command("send_daily_summary", "--date", (TODAY - DAY).isoformat())
    assert not OutboundEmail.objects.exists() and not JobRun.objects.exists()

    call_command("send_daily_summary", "--date", (TODAY + DAY).isoformat(), "--dry-run")
    assert not OutboundEmail.objects.exists()
    call_command("send_daily_summary")
    assert OutboundEmail.objects.filter(kind="SUMMARY").count() == 1
    assert JobDay.objects.get(job=registry.SEND_DAILY_SUMMARY.key).done_at is not None


@time_machine.travel(NOON, tick=False)
def test_check_health_full_reports_every_component(world, capsys, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    call_command("check_task_deadlines")
    try:
        call_command("check_health", "--full")
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert code == 2
    assert "database : " in out and "daily_check : " in out and "outbox : " in out
    assert err.startswith("broker : ")
    # No heartbeat: no worker seen, beat silent (one French line each).
    assert "worker : Aucun worker" in err and "beat : " in err
    assert "logs : " in out
