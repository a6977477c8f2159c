"""The automatic triggers run each job once a day; an operator's run always runs."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import time_machine
from django.utils import timezone

from core.models import JobRun, NotificationTache
from core.tasks import catch_up_missed_deadline_check, check_task_deadlines
from si_gouvernance.celery import app
from tests.conftest import TODAY
from tests.factories import TacheFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parents[2]


def at(hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(TODAY, datetime.time(hour, minute), tzinfo=PARIS)


def runs(trigger: str) -> list[JobRun]:
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
    assert len(runs("BEAT")) == 1 and len(runs("MANUAL")) == 1
    assert NotificationTache.objects.count() == 2


@time_machine.travel(at(8, 0), tick=False)
def test_beat_skips_while_another_live_task_runs_the_day(world):
    JobRun.objects.create(
        job="check_task_deadlines",
        trigger="CATCH_UP",
        business_date=TODAY,
        started_at=timezone.now(),
        task_id="another-task",
    )
    result = check_task_deadlines.apply(kwargs={"trigger": "BEAT"}).get()
    assert result["already_done"] is True


@time_machine.travel(at(8, 0), tick=False)
def test_a_redelivered_task_finding_its_own_dead_attempt_runs(world):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    # The same task id's first attempt died with its worker, its record RUNNING.
    JobRun.objects.create(
        job="check_task_deadlines",
        trigger="BEAT",
        business_date=TODAY,
        started_at=timezone.now(),
        task_id="redelivered",
    )
    result = check_task_deadlines.apply(kwargs={"trigger": "BEAT"}, task_id="redelivered").get()
    assert "already_done" not in result and result["total_created"] == 2


def test_the_periodic_catch_up_is_scheduled_off_the_hour():
    entry = app.conf.beat_schedule["catch-up-missed-deadline-check"]
    assert entry["task"] == "core.tasks.catch_up_missed_deadline_check"
    assert 0 not in entry["schedule"].minute  # never races the 08:00 run


@time_machine.travel(at(8, 5), tick=False)
def test_no_catch_up_within_the_grace_after_8(world):
    # Beat's message may still be queued at 08:05: no second run is sent.
    assert catch_up_missed_deadline_check.apply().get() is None
    assert runs("CATCH_UP") == []


@time_machine.travel(at(10, 20), tick=False)
def test_the_periodic_catch_up_runs_a_missed_day_once(world):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    assert catch_up_missed_deadline_check.apply().get() is not None
    assert catch_up_missed_deadline_check.apply().get() is None
    assert len(runs("CATCH_UP")) == 1
    assert NotificationTache.objects.count() == 2


def test_a_visibility_timeout_beyond_the_daily_expiry_is_refused(tmp_path):
    # Redelivery after 3600 s would bring the 08:00 check back already expired.
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="si_gouvernance.settings",
        ENV_FILE=os.devnull,
        VAR_DIR=str(tmp_path),
        LOG_DIR=str(tmp_path),
        CELERY_VISIBILITY_TIMEOUT="7200",
    )
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT" in done.stderr
