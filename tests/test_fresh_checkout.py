"""A fresh checkout on the embedded defaults, by any route but ``dev.py``: with
``SECRET_KEY`` set and no ``var/``, a Celery worker starts and ``manage.py migrate``
succeeds (issue 20: both ended in "unable to open database file")."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.worker


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A ``git clone`` of the commit under test, with nothing of this one's var/."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", commit], cwd=clone, check=True)
    assert not (clone / "var").exists()
    return clone


def _env() -> dict[str, str]:
    """Production settings on the embedded defaults: no .env, no database, broker
    or email of the test's environment, var/ and logs/ where they are by default."""
    leaks = ("CELERY_", "FLOWER_", "DJANGO_", "DATABASE_", "EMAIL_", "VAR_DIR", "LOG_DIR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(leaks)}
    env.update(
        DJANGO_SETTINGS_MODULE="si_gouvernance.settings",
        ENV_FILE=os.devnull,
        SECRET_KEY=secrets.token_urlsafe(40),
    )
    return env


def test_a_worker_starts_on_a_fresh_checkout(checkout: Path) -> None:
    log = checkout / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "si_gouvernance", "worker", "--pool=solo"],
            cwd=checkout,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while " ready." not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    output = log.read_text(errors="replace")
    assert "unable to open database file" not in output
    assert (checkout / "var" / "celery-broker.sqlite3").is_file()


def test_migrate_succeeds_on_a_fresh_checkout(checkout: Path) -> None:
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=checkout,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert migrate.returncode == 0, migrate.stderr[-3000:]
    assert "unable to open database file" not in migrate.stderr
    assert (checkout / "var" / "db.sqlite3").is_file()
