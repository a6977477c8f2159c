"""Operators' commands: health check, cleanup, summary, Flower's refusal."""

from __future__ import annotations

import base64
import datetime
import os
import subprocess
import sys
import urllib.error
import urllib.request
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from core.jobs import registry
from core.jobs.plans import job_plans
from core.models import JobRun, NotificationTache
from core.selectors import health
from tests.celery.conftest import ROOT, wait_for
from tests.conftest import TODAY
from tests.factories import NotificationFactory
from tests.processes import listening_ports, project_env

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=PARIS)


def succeeded(at: datetime.datetime) -> JobRun:
    return JobRun.objects.create(
        job=registry.CHECK_TASK_DEADLINES.key,
        business_date=at.date(),
        status=JobRun.Status.SUCCESS,
        started_at=at,
        finished_at=at + datetime.timedelta(seconds=2),
    )


def check_health() -> int:
    try:
        call_command("check_health")
    except SystemExit as exc:
        return int(exc.code)
    return 0


@time_machine.travel(NOW, tick=False)
def test_health_fails_when_the_check_never_succeeded(db, capsys):
    assert check_health() == 2
    assert "jamais réussi" in capsys.readouterr().err


@time_machine.travel(NOW, tick=False)
def test_health_is_ok_after_this_mornings_run(db, capsys):
    succeeded(NOW.replace(hour=8))
    assert check_health() == 0
    assert "25\u00a0novembre 2026 à 08:00" in capsys.readouterr().out


@time_machine.travel(NOW, tick=False)
def test_health_fails_after_26_hours_without_success(db, capsys):
    succeeded(NOW - datetime.timedelta(hours=27))
    JobRun.objects.create(  # a failed run does not count
        job=registry.CHECK_TASK_DEADLINES.key,
        business_date=TODAY,
        status=JobRun.Status.FAILURE,
        started_at=NOW.replace(hour=8),
        error="OperationalError: down",
    )
    assert check_health() == 2
    assert "26" in capsys.readouterr().err


@time_machine.travel(NOW, tick=False)
def test_a_run_for_a_future_day_does_not_make_health_pass(db, capsys):
    # `check_task_deadlines --date 2027-01-01` run an hour ago: today was not checked.
    run = succeeded(NOW - datetime.timedelta(hours=1))
    JobRun.objects.filter(pk=run.pk).update(business_date=datetime.date(2027, 1, 1))
    assert check_health() == 2
    assert "jamais réussi" in capsys.readouterr().err


@time_machine.travel(NOW, tick=False)
def test_a_run_for_an_old_day_recorded_now_does_not_make_health_pass(db, capsys):
    run = succeeded(NOW - datetime.timedelta(hours=1))
    JobRun.objects.filter(pk=run.pk).update(business_date=datetime.date(2026, 11, 1))
    assert check_health() == 2


@time_machine.travel(NOW, tick=False)
def test_yesterdays_run_caught_up_this_morning_counts(db):
    run = succeeded(NOW - datetime.timedelta(hours=1))
    JobRun.objects.filter(pk=run.pk).update(business_date=TODAY - datetime.timedelta(days=1))
    assert check_health() == 0


@time_machine.travel(NOW, tick=False)
def test_job_status_shows_last_runs_and_next_planned_run(db):
    run = succeeded(NOW.replace(hour=8))
    jobs = [registry.CHECK_TASK_DEADLINES, registry.CLEANUP_OLD_NOTIFICATIONS]
    status, cleanup = health.job_statuses(jobs=jobs, plans=job_plans(jobs, now=NOW))
    assert status.last_run == run
    assert status.plan.next_run == datetime.datetime(2026, 11, 26, 8, 0, tzinfo=PARIS)
    assert cleanup.last_run is None
    assert cleanup.plan.next_run == datetime.datetime(2026, 11, 30, 2, 0, tzinfo=PARIS)  # Monday


@pytest.mark.parametrize("days", ["0", "-1", "abc", "2.5"])
def test_cleanup_command_rejects_bad_days(db, days):
    NotificationFactory(lue=True)
    with pytest.raises(CommandError, match="--days"):
        call_command("cleanup_old_notifications", "--days", days)
    assert NotificationTache.objects.count() == 1
    assert not JobRun.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_cleanup_command_deletes_and_records(world, capsys):
    old = NotificationFactory(destinataire=world.bob, lue=True)
    NotificationTache.objects.filter(pk=old.pk).update(date_creation=NOW - datetime.timedelta(40))
    kept = NotificationFactory(destinataire=world.bob, lue=False)
    call_command("cleanup_old_notifications", "--days", "30")
    assert list(NotificationTache.objects.values_list("pk", flat=True)) == [kept.pk]
    run = JobRun.objects.get()
    assert (run.trigger, run.status, run.counts["deleted"]) == ("COMMAND", "SUCCESS", 1)
    assert "1" in capsys.readouterr().out


def test_summary_command_rejects_a_bad_date(db):
    with pytest.raises(CommandError, match="AAAA-MM-JJ"):
        call_command("send_daily_summary", "--date", "demain")
    assert not JobRun.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_summary_command_records_its_run(world):
    call_command("send_daily_summary", "--date", TODAY.isoformat())
    run = JobRun.objects.get(job=registry.SEND_DAILY_SUMMARY.key)
    assert (run.trigger, run.status, run.business_date) == ("COMMAND", "SUCCESS", TODAY)


@time_machine.travel(NOW, tick=False)
def test_summary_task_reports_the_service_result(world):
    from core.tasks import send_daily_summary

    result = send_daily_summary.apply(kwargs={"today": TODAY.isoformat()}).get()
    assert result["status"] == "success"
    assert JobRun.objects.get(job=registry.SEND_DAILY_SUMMARY.key).trigger == "MANUAL"


def run_flower_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return project_env(tmp_path, SECRET_KEY="flower-test", **extra)


@pytest.mark.process
@pytest.mark.parametrize("auth", ["", "admin", "admin:", ":secret"])
def test_flower_refuses_to_start_without_a_password(tmp_path, auth):
    env = run_flower_env(tmp_path, FLOWER_BASIC_AUTH=auth)
    done = subprocess.run(
        [sys.executable, "manage.py", "run_flower"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "FLOWER_BASIC_AUTH" in done.stderr


@pytest.mark.process
@pytest.mark.redis
@pytest.mark.skipif(sys.platform != "linux", reason="reads its port in /proc")
def test_flower_starts_behind_basic_auth(tmp_path, redis_broker):
    env = run_flower_env(tmp_path, FLOWER_BASIC_AUTH="admin:s3cret", CELERY_BROKER_URL=redis_broker)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_flower", "--port=0", "--address=127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: listening_ports(process.pid), timeout=60, what="Flower to listen")
        port = min(listening_ports(process.pid))  # the one the system picked
        wait_for(lambda: _status(port) is not None, timeout=60, what="Flower to answer")
        assert _status(port) == 401
        assert _status(port, "admin:s3cret") == 200
        assert _status(port, "admin:wrong") == 401
    finally:
        os.killpg(process.pid, 9)
        process.wait()


def _status(port: int, credentials: str = "") -> int | None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/")
    if credentials:
        token = base64.b64encode(credentials.encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None
