"""A PostgreSQL restart under the running web server costs no 500 (issue 18: with
``DATABASE_CONN_MAX_AGE=60`` a gunicorn worker reused its dead connection).

The server is a private PostgreSQL (tests/faults.py), restarted as an operator
does (``pg_ctl restart -m fast``), never the shared one."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.celery.conftest import ROOT, worker_env
from tests.deploy.conftest import PASSWORD
from tests.deploy.test_web_servers import Browser
from tests.faults import PrivatePostgres

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.process]

CREATE_DORA = f"""
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from core.models import User
user = User.objects.create(username="dora")
user.password = PBKDF2PasswordHasher().encode("{PASSWORD}", "sel-de-test", iterations=1000)
user.save()
"""


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    """A private PostgreSQL with the application's tables and a user, dora: its URL."""
    server = PrivatePostgres()
    server.start()
    try:
        with psycopg.connect(server.url("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE app")
        env = worker_env(server.url("app"), "memory://", tmp_path)
        for command in (["migrate", "--no-input", "-v0"], ["shell", "-c", CREATE_DORA]):
            subprocess.run(
                [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=120
            )
        yield server
    finally:
        server.close()


def test_pages_answer_after_a_database_restart(serve, private_postgres):
    server = serve(
        "gunicorn",
        "--workers=1",
        DATABASE_URL=private_postgres.url("app"),
        DATABASE_CONN_MAX_AGE="60",
    )
    browser = Browser(server.url)
    status, _ = browser.sign_in("dora", PASSWORD)
    assert status == 200, server.output()
    assert browser.get("/notifications/")[0] == 200  # the worker now holds a connection

    private_postgres.restart()  # every session ends; the server is back at once

    statuses = [browser.get("/notifications/")[0] for _ in range(3)]
    assert statuses == [200, 200, 200], server.output()
