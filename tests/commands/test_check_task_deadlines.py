"""``manage.py check_task_deadlines`` as cron or the Windows Task Scheduler runs it.

These tests assert numbers, ids, exit codes and the French sentences operators read.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from core.models import JobRun, NotificationTache
from tests.conftest import TODAY, World
from tests.factories import TacheFactory

ROOT = Path(settings.BASE_DIR)


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("check_task_deadlines", *args, stdout=out)
    return out.getvalue()


def test_creates_alerts_reports_counts_and_records_the_run(world: World) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    outsider_task = TacheFactory(
        projet=world.projet, responsable=world.charlie, date_echeance=TODAY
    )

    output = run_command("--date", TODAY.isoformat())

    assert NotificationTache.objects.count() == 3  # bob + alice, alice for charlie's task
    assert "Contrôle des échéances du mercredi 25\u00a0novembre 2026" in output
    assert "échéance aujourd'hui\u00a0: 3\n" in output
    assert "3 alertes créées, " in output
    # The skipped recipient, by task id, and why, in French.
    assert f"(tâche n°\u00a0{outsider_task.pk})\u00a0: le responsable n'a plus accès" in output
    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.status) == ("check_task_deadlines", "COMMAND", "SUCCESS")
    assert (run.business_date, run.counts["total_created"]) == (TODAY, 3)
    assert run.counts["skipped"] == [
        {
            "tache_id": outsider_task.pk,
            "user_id": world.charlie.pk,
            "reason": "owner_without_access",
        }
    ]


def test_second_run_the_same_day_creates_nothing(world: World) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)

    run_command("--date", TODAY.isoformat())
    run_command("--date", TODAY.isoformat())

    assert NotificationTache.objects.count() == 2
    assert [r.counts["total_created"] for r in JobRun.objects.order_by("started_at")] == [2, 0]


def test_dry_run_writes_nothing(world: World) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)

    output = run_command("--date", TODAY.isoformat(), "--dry-run")

    assert ": 2\n" in output
    assert NotificationTache.objects.count() == 0
    assert JobRun.objects.count() == 0


@pytest.mark.parametrize("bad", ["2026-13-01", "25/11/2026", "demain"])
def test_bad_date_is_a_clear_error_and_writes_nothing(world: World, bad: str) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)

    with pytest.raises(CommandError, match=bad):
        run_command("--date", bad)

    assert (NotificationTache.objects.count(), JobRun.objects.count()) == (0, 0)


def _manage(tmp_path: Path, *args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The command in its own process, as the Task Scheduler starts it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="si_gouvernance.settings",
        DATABASE_URL=database_url,
        ENV_FILE=os.devnull,
        VAR_DIR=str(tmp_path),
        LOG_DIR=str(tmp_path),
        SECRET_KEY="task-scheduler-test",
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check_task_deadlines", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.process
def test_exit_code_is_non_zero_on_bad_date(tmp_path: Path) -> None:
    done = _manage(tmp_path, "--date", "2026-02-30", database_url=f"sqlite:///{tmp_path}/x.db")

    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "2026-02-30" in line and "AAAA-MM-JJ" in line


@pytest.mark.process
def test_exit_code_is_non_zero_on_a_database_without_tables(tmp_path: Path) -> None:
    done = _manage(tmp_path, database_url=f"sqlite:///{tmp_path}/empty.db")

    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("Base de données indisponible\u00a0: no such table")


@pytest.mark.process
def test_exit_code_is_non_zero_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Port 9 (discard) has no PostgreSQL: the connection is refused at once.
    done = _manage(tmp_path, database_url="postgres://nobody@127.0.0.1:9/nothing")

    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("Base de données indisponible\u00a0: ") and "127.0.0.1" in line
