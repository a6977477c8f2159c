"""Real servers for the deployment tests: `manage.py serve` started as a subprocess
against the test PostgreSQL database (see tests/celery/conftest.py), stopped and
killed at teardown so that nothing outlives a test."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.celery.conftest import ROOT, worker_database, worker_env  # noqa: F401
from tests.factories import UserFactory
from tests.processes import descendants, wait_until_gone

PASSWORD = "Un-mot-de-passe-de-prod-2026"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    logs_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> list[int]:
        """SIGTERM, as systemd stops it; the processes still alive afterwards."""
        children = descendants(self.process.pid)
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=40) == 0, self.output()
        return wait_until_gone(children, timeout=10)


# What gunicorn and waitress log once bound, with the port the system gave them.
LISTENING = re.compile(r"(?:Listening at:|Serving on) http://127\.0\.0\.1:(\d+)")


@pytest.fixture
def serve(worker_database: str, tmp_path: Path) -> Iterator[Callable[..., Server]]:  # noqa: F811
    """``serve("gunicorn", "--workers=2", **env)``: `manage.py serve` on a port the
    system picks (port 0, read back from its log), once it accepts connections."""
    servers: list[Server] = []
    broker = "sqla+sqlite:///" + str(tmp_path / "broker.sqlite3")  # no broker server needed

    def start(server: str, *extra: str, **extra_env: str) -> Server:
        env = worker_env(worker_database, broker, tmp_path)
        env.update(extra_env)
        collect = [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"]
        subprocess.run(collect, cwd=ROOT, env=env, check=True, timeout=120)
        log = tmp_path / f"{server}-{len(servers)}.log"
        command = [sys.executable, "manage.py", "serve", f"--server={server}"]
        command += ["--bind=127.0.0.1:0", *extra]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        running = Server(process, 0, log, tmp_path / "logs")
        servers.append(running)
        deadline = time.monotonic() + 60
        while not (running.port and _accepts(running.port)):
            assert process.poll() is None, running.output()
            assert time.monotonic() < deadline, running.output()
            if bound := LISTENING.search(log.read_text(errors="replace")):
                running.port = int(bound[1])
            time.sleep(0.2)
        return running

    yield start
    for running in servers:
        for pid in descendants(running.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def dora(worker_database: str) -> str:  # noqa: F811
    """A user whose password the server's own hasher (PBKDF2) can check."""
    user = UserFactory(username="dora")
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "sel-de-test", iterations=1000)
    user.save()
    return user.username
