"""The production web servers, for real: `manage.py serve` with gunicorn (2 workers)
and with waitress, on a free port, against the test PostgreSQL database. A user
signs in through them and opens their pages; then the server is stopped as a
service manager stops it (SIGTERM) and nothing is left running or listening."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.celery.conftest import ROOT, free_port, record_todays_check, worker_env
from tests.factories import UserFactory
from tests.processes import descendants, port_is_free, wait_until_gone

pytestmark = pytest.mark.worker
PASSWORD = "Un-mot-de-passe-de-prod-2026"  # noqa: S105 (a throwaway test user's)


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


class Browser:
    """A signed-in session through the real server (cookies, CSRF token)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base_url + path, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:  # not listening yet, or already stopped
            return 0, ""

    def sign_in(self, username: str, password: str) -> tuple[int, str]:
        _status, page = self.get("/comptes/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        request = urllib.request.Request(
            self.base_url + "/comptes/login/", data=urllib.parse.urlencode(form).encode()
        )
        with self.opener.open(request, timeout=20) as response:  # follows the redirect
            return response.status, response.read().decode()


@pytest.fixture
def serve(worker_database: str, tmp_path: Path) -> Iterator:
    """Start `manage.py serve --server NAME` on a free port; killed at teardown."""
    servers: list[Server] = []

    def start(server: str, *extra: str, **extra_env: str) -> Server:
        env = worker_env(worker_database, "sqla+sqlite:///" + str(tmp_path / "b.db"), tmp_path)
        env.update(extra_env)
        collect = [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"]
        subprocess.run(collect, cwd=ROOT, env=env, check=True, timeout=120)
        port = free_port()
        log = tmp_path / f"{server}.log"
        command = [sys.executable, "manage.py", "serve", f"--server={server}"]
        command += [f"--bind=127.0.0.1:{port}", *extra]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        running = Server(process, port, log, tmp_path / "logs")
        servers.append(running)
        deadline = time.monotonic() + 60
        while Browser(running.url).get("/comptes/login/")[0] != 200:
            assert process.poll() is None, running.output()
            assert time.monotonic() < deadline, running.output()
            time.sleep(0.3)
        return running

    yield start
    for running in servers:
        for pid in descendants(running.process.pid):
            _kill(pid)
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def dora(worker_database: str) -> str:
    """A user whose password the server's own hasher (PBKDF2) can check."""
    user = UserFactory(username="dora")
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "sel-de-test", iterations=1000)
    user.save()
    return user.username


def sign_in_and_browse(server: Server, username: str) -> None:
    browser = Browser(server.url)
    status, dashboard = browser.sign_in(username, PASSWORD)
    assert status == 200, server.output()
    assert "Mes tâches" in dashboard and "Se déconnecter" in dashboard
    status, centre = browser.get("/notifications/")
    assert status == 200
    assert "Notifications" in centre
    assert browser.get("/static/core/app.css")[0] == 200  # whitenoise, DEBUG off


def test_gunicorn_with_two_workers_serves_signed_in_pages_and_stops_cleanly(serve, dora):
    server = serve("gunicorn", "--workers=2", "--threads=2")
    assert len(descendants(server.process.pid)) == 2  # the master's two workers

    sign_in_and_browse(server, dora)
    record_todays_check()
    status, body = Browser(server.url).get("/health/")
    assert (status, json.loads(body)["status"]) == (200, "ok")

    assert server.stop() == []
    assert port_is_free(server.port)
    access = (server.logs_dir / "access.log").read_text()
    assert '"GET /notifications/ HTTP/1.1" 200' in access


def test_waitress_serves_signed_in_pages_and_stops_cleanly(serve, dora):
    server = serve("waitress", "--threads=4")

    sign_in_and_browse(server, dora)

    assert server.stop() == []
    assert port_is_free(server.port)
    access = (server.logs_dir / "access.log").read_text()
    assert '"POST /comptes/login/ HTTP/1.1" 302' in access
    assert '"GET /notifications/ HTTP/1.1" 200' in access


def test_health_reports_a_database_that_does_not_answer(serve):
    closed_port = free_port()
    server = serve("waitress", DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port}/x")

    started = time.monotonic()
    status, body = Browser(server.url).get("/health/")

    assert time.monotonic() - started < 10
    assert status == 503
    assert json.loads(body)["components"]["database"]["status"] == "fail"
    assert server.stop() == []
