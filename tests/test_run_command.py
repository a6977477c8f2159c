"""The README's run command, for real: web + worker + beat on the embedded defaults
(SQLite, SQLAlchemy broker on SQLite, emails in files), no external service; and it
stops cleanly when a service manager (SIGTERM) or Ctrl+C (SIGINT) asks."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.faults import candidate_port
from tests.processes import descendants, port_is_free, wait_until_gone

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.worker

SEED_CHECKS = """
import django
django.setup()
from core.models import NotificationTache
from core.tasks import check_task_deadlines
from si_gouvernance.celery import app, debug_task

print("debug", debug_task.delay().get(timeout=90)["status"])
result = check_task_deadlines.delay().get(timeout=90)
print("check", result["status"], result["trigger"])
print("alerts", NotificationTache.objects.count())
print("beat", sorted(app.conf.beat_schedule))
"""


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def _embedded_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CELERY_", "EMAIL_", "DEBUG"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="si_gouvernance.settings",
        ENV_FILE=os.devnull,
        VAR_DIR=str(tmp_path / "var"),
        LOG_DIR=str(tmp_path / "logs"),
        RUN_ADDR=f"127.0.0.1:{port}",
        DEMO_PASSWORD="Demo-Mot-de-passe-2026",
    )
    return env


def _emails(home: Path) -> str:
    """Every email ``dev.py run`` wrote (the filebased backend: a file per sending)."""
    folder = home / "var" / "emails"
    return "".join(f.read_text(errors="replace") for f in sorted(folder.glob("*")))


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Teardown after a failure: nothing of the run may outlive the test."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _start_run(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, int, Path]:
    """``dev.py run`` once it serves: the process, its log, its port, its directory.

    runserver cannot say which port it got from port 0 (and the emails' links name
    the port), so the port is one the system offers; if another program took it
    meanwhile, the run starts again on another, in a fresh directory."""
    for attempt in range(5):
        home, port = tmp_path / f"run-{attempt}", candidate_port()
        home.mkdir()
        log = home / "run.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "dev.py", "run"],
                cwd=ROOT,
                env=_embedded_env(home, port),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 180
        while _get(f"http://127.0.0.1:{port}/comptes/login/")[0] != 200:
            if process.poll() is not None:
                break
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-4000:]
            time.sleep(0.5)
        else:
            return process, log, port, home
        assert "That port is already in use" in log.read_text(errors="replace"), log.read_text(
            errors="replace"
        )[-4000:]
    pytest.fail("dev.py run found no free port")


def _signal_and_check_everything_ends(
    process: subprocess.Popen[bytes], port: int, sig: signal.Signals
) -> None:
    """``sig`` to dev.py alone (as systemd or `kill` sends it): every child ends."""
    children = descendants(process.pid)
    assert len(children) >= 3  # web, worker, beat
    process.send_signal(sig)
    assert process.wait(timeout=60) == 0
    assert wait_until_gone(children, timeout=10) == []
    assert port_is_free(port)


def test_the_run_command_serves_the_app_and_runs_the_jobs(tmp_path):
    process, log, port, home = _start_run(tmp_path)
    env = _embedded_env(home, port)
    try:
        _status, page = _get(f"http://127.0.0.1:{port}/comptes/login/")
        assert "Se connecter" in page
        assert _get(f"http://127.0.0.1:{port}/static/core/app.css")[0] == 200  # DEBUG off
        output = log.read_text(errors="replace")
        assert "Données de démonstration créées" in output
        assert " alertes créées, " in output  # the first check ran on the demo data

        checks = subprocess.run(
            [sys.executable, "-c", SEED_CHECKS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert checks.returncode == 0, (
            checks.stderr[-3000:] + log.read_text(errors="replace")[-3000:]
        )
        lines = dict(line.split(" ", 1) for line in checks.stdout.splitlines())
        assert lines["debug"] == "success"
        assert lines["check"] == "success MANUAL"
        assert int(lines["alerts"]) > 0
        assert "check-task-deadlines-daily" in lines["beat"]
        assert (home / "var" / "db.sqlite3").exists()
        assert (home / "var" / "celery-broker.sqlite3").exists()

        # Alert emails (files in var/emails/, sent by the worker) link to where we
        # listen; the console keeps the address and the password, printed last.
        deadline = time.monotonic() + 90
        while f"http://127.0.0.1:{port}/taches/" not in (emails := _emails(home)):
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-4000:]
            time.sleep(1)
        assert "http://localhost:8000" not in emails
        output = log.read_text(errors="replace")
        assert "Subject:" not in output
        banner = output.index(f"SI-Gouvernance\u00a0: http://127.0.0.1:{port}/")
        first_check = re.search(r"\d+ alertes? créées?, ", output)
        assert first_check and banner > first_check.start()  # after the first check
        assert banner > output.index("Starting development server")
        assert "Mot de passe de ces comptes\u00a0: celui de DEMO_PASSWORD" in output[banner:]
        assert str(home / "var" / "emails") in output[banner:]
        assert (home / "var" / "site_url").read_text().strip() == f"http://127.0.0.1:{port}"

        # Worker and beat write their heartbeats: the embedded mode is healthy.
        deadline = time.monotonic() + 90
        while (health := _get(f"http://127.0.0.1:{port}/health/"))[0] != 200:
            assert time.monotonic() < deadline, health[1] or log.read_text(errors="replace")[-4000:]
            time.sleep(1)
        components = json.loads(health[1])["components"]
        assert components["worker"]["status"] == components["beat"]["status"] == "ok"

        _signal_and_check_everything_ends(process, port, signal.SIGTERM)
    finally:
        _kill_group(process)
    assert _get(f"http://127.0.0.1:{port}/comptes/login/")[0] == 0  # everything stopped
    assert not (home / "var" / "site_url").exists()  # a later command links to the default


def test_ctrl_c_stops_everything_too(tmp_path):
    process, _log, port, _home = _start_run(tmp_path)
    try:
        _signal_and_check_everything_ends(process, port, signal.SIGINT)
    finally:
        _kill_group(process)


def _worker_pids(process: subprocess.Popen[bytes]) -> set[int]:
    """The Celery workers among dev.py's children (read in /proc: Linux only)."""
    pids = set()
    for pid in descendants(process.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"celery" in command and b"worker" in command:
            pids.add(pid)
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_that_dies_is_restarted_and_the_console_says_so(tmp_path):
    process, log, port, _home = _start_run(tmp_path)
    try:
        (first,) = _worker_pids(process)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not (_worker_pids(process) - {first}):
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-4000:]
            time.sleep(0.5)
        output = log.read_text(errors="replace")
        assert "Le worker s'est arrêté (code -9)\u00a0: redémarrage dans 5 s" in output

        _signal_and_check_everything_ends(process, port, signal.SIGTERM)
    finally:
        _kill_group(process)
