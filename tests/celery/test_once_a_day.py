"""The automatic triggers run each job once a day; an operator's run always runs."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest
import time_machine

from core.jobs import registry, runs
from core.models import JobRun, NotificationTache
from core.tasks import catch_up_missed_jobs, check_task_deadlines
from si_gouvernance.celery import app
from tests.conftest import TODAY
from tests.factories import TacheFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parents[2]


def at(hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(TODAY, datetime.time(hour, minute), tzinfo=PARIS)


def check_runs(trigger: str) -> list[JobRun]:
    return list(JobRun.objects.filter(job="check_task_deadlines", trigger=trigger))


@time_machine.travel(at(8, 0), tick=False)
def test_beat_skips_a_day_already_done_but_a_manual_run_runs(world):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    first = check_task_deadlines.apply(kwargs={"trigger": "BEAT"}).get()
    again = check_task_deadlines.apply(kwargs={"trigger": "BEAT"}).get()
    manual = check_task_deadlines.apply().get()

    assert first["total_created"] == 2 and "already_done" not in first
    assert again["already_done"] is True
    assert manual["trigger"] == "MANUAL" and "already_done" not in manual
    assert len(check_runs("BEAT")) == 1 and len(check_runs("MANUAL")) == 1
    assert NotificationTache.objects.count() == 2


@time_machine.travel(at(8, 0), tick=False)
def test_beat_skips_while_another_live_task_runs_the_day(world):
    runs.claim_day(registry.CHECK_TASK_DEADLINES, TODAY, task_id="another-task")  # alive
    result = check_task_deadlines.apply(kwargs={"trigger": "BEAT"}).get()
    assert result["already_done"] is True


@time_machine.travel(at(8, 0), tick=False)
def test_a_redelivered_task_finding_its_own_dead_attempt_runs(world):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    # The same task id's first attempt died with its worker, still holding the day.
    runs.claim_day(registry.CHECK_TASK_DEADLINES, TODAY, task_id="redelivered")
    result = check_task_deadlines.apply(kwargs={"trigger": "BEAT"}, task_id="redelivered").get()
    assert "already_done" not in result and result["total_created"] == 2


def test_the_periodic_catch_up_is_scheduled_off_the_hour():
    entry = app.conf.beat_schedule["catch-up-missed-jobs"]
    assert entry["task"] == "core.tasks.catch_up_missed_jobs"
    assert 0 not in entry["schedule"].minute  # never races the 08:00 run


@time_machine.travel(at(8, 5), tick=False)
def test_no_catch_up_within_the_grace_after_8(world):
    # Beat's message may still be queued at 08:05: no second run is sent.
    assert catch_up_missed_jobs.apply().get() == []
    assert check_runs("CATCH_UP") == []


@time_machine.travel(at(10, 20), tick=False)
def test_the_periodic_catch_up_runs_a_missed_day_once(world):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    assert catch_up_missed_jobs.apply().get() == ["check_task_deadlines", "send_daily_summary"]
    assert catch_up_missed_jobs.apply().get() == []
    assert len(check_runs("CATCH_UP")) == 1
    assert NotificationTache.objects.count() == 2


@pytest.mark.process
def test_a_visibility_timeout_beyond_the_daily_expiry_is_refused(tmp_path):
    # Redelivery after 3600 s would bring the 08:00 check back already expired.
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="si_gouvernance.settings",
        ENV_FILE=os.devnull,
        VAR_DIR=str(tmp_path),
        LOG_DIR=str(tmp_path),
        CELERY_VISIBILITY_TIMEOUT="7200",
        SECRET_KEY="test-secret",
    )
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT" in done.stderr


@time_machine.travel(at(8, 0), tick=False)
def test_a_run_lost_mid_way_is_shown_interrupted_not_running_forever(world):
    lost = JobRun.objects.create(
        job="check_task_deadlines",
        trigger="BEAT",
        business_date=TODAY - datetime.timedelta(days=1),
        started_at=at(8, 0) - datetime.timedelta(days=1),
        task_id="lost",
    )
    check_task_deadlines.apply(kwargs={"trigger": "BEAT"}).get()
    lost.refresh_from_db()
    assert lost.status == "FAILURE" and "Interrompue" in lost.error
