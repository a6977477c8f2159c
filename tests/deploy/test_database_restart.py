"""A PostgreSQL restart under the running web server costs no 500 (issue 18: with
``DATABASE_CONN_MAX_AGE=60`` a gunicorn worker reused its dead connection).

The restart is PostgreSQL's as its clients see it: every connection dropped at
once, the server back a moment later. It is made with a TCP proxy between gunicorn
and the test database (tests/faults.py), not a private PostgreSQL: an initdb per
test costs seconds, and the client cannot tell the difference."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import PASSWORD
from tests.deploy.test_web_servers import Browser
from tests.faults import TcpProxy

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.process]


def test_pages_answer_after_a_database_restart(serve, worker_database, dora, settings):
    database = settings.DATABASES["default"]
    proxy = TcpProxy((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    proxy.start()
    host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    through_proxy = worker_database.replace(host, f"127.0.0.1:{proxy.port}")
    try:
        server = serve(
            "gunicorn", "--workers=1", DATABASE_URL=through_proxy, DATABASE_CONN_MAX_AGE="60"
        )
        browser = Browser(server.url)
        status, _ = browser.sign_in(dora, PASSWORD)
        assert status == 200, server.output()
        assert browser.get("/notifications/")[0] == 200  # the worker now holds a connection

        proxy.cut(reset=True)  # PostgreSQL restarts: every connection is gone
        proxy.restore()

        statuses = [browser.get("/notifications/")[0] for _ in range(3)]
        assert statuses == [200, 200, 200], server.output()
    finally:
        proxy.cut()
