"""The production web servers, for real: `manage.py serve` with gunicorn (2 workers)
and with waitress, on a port the system picks, against the test PostgreSQL database. A user
signs in through them and opens their pages; then the server is stopped as a
service manager stops it (SIGTERM) and nothing is left running or listening."""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from core.models import Heartbeat
from core.services.heartbeats import record_heartbeat
from tests.celery.conftest import record_todays_check, wait_for
from tests.deploy.conftest import PASSWORD, Server
from tests.faults import bound_socket
from tests.processes import descendants, port_is_free

pytestmark = pytest.mark.worker


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


def sign_in_and_browse(server: Server, username: str) -> None:
    browser = Browser(server.url)
    status, dashboard = browser.sign_in(username, PASSWORD)
    assert status == 200, server.output()
    assert "Mes tâches" in dashboard and "Se déconnecter" in dashboard
    status, centre = browser.get("/notifications/")
    assert status == 200
    assert "Notifications" in centre
    assert browser.get("/static/core/app.css")[0] == 200  # whitenoise, DEBUG off
    browser.get("/health/?token=jeton-secret")  # a secret in a URL: never logged


def assert_logged_without_secrets(server: Server) -> str:
    access = (server.logs_dir / "access.log").read_text()
    assert "jeton-secret" not in access and "/health/?token=[redacted]" in access
    return access


def test_gunicorn_with_two_workers_serves_signed_in_pages_and_stops_cleanly(serve, dora):
    server = serve("gunicorn", "--workers=2")  # the default worker: one request at a time
    wait_for(  # the master binds the port first, then forks its two workers
        lambda: len(descendants(server.process.pid)) == 2, timeout=30, what="2 gunicorn workers"
    )

    sign_in_and_browse(server, dora)
    record_todays_check()
    record_heartbeat(kind=Heartbeat.Kind.WORKER, hostname="celery@app1", pid=1)
    record_heartbeat(kind=Heartbeat.Kind.BEAT, hostname="app1", pid=2)
    status, body = Browser(server.url).get("/health/")
    assert (status, json.loads(body)["status"]) == (200, "ok")

    assert server.stop() == []
    assert port_is_free(server.port)
    access = assert_logged_without_secrets(server)
    assert '"GET /notifications/ HTTP/1.1" 200' in access


def test_waitress_serves_signed_in_pages_and_stops_cleanly(serve, dora):
    server = serve("waitress", "--threads=4")  # Windows' default

    sign_in_and_browse(server, dora)

    assert server.stop() == []
    assert port_is_free(server.port)
    access = assert_logged_without_secrets(server)
    assert '"POST /comptes/login/ HTTP/1.1" 302' in access
    assert '"GET /notifications/ HTTP/1.1" 200' in access


def test_health_reports_a_database_that_does_not_answer(serve):
    closed = bound_socket()  # held for the test, never listening: connections refused
    down = f"postgres://postgres@127.0.0.1:{closed.getsockname()[1]}/x"
    server = serve("waitress", DATABASE_URL=down)

    started = time.monotonic()
    status, body = Browser(server.url).get("/health/")

    assert time.monotonic() - started < 10
    assert status == 503
    assert json.loads(body)["components"]["database"]["status"] == "fail"
    assert server.stop() == []
    closed.close()
