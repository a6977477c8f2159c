"""Pins of the Flower behaviour ``core.flower_process`` works around, in-process (the
real ``run_flower`` is tests/celery/test_run_flower.py).

Flower has no option to put ``/metrics`` and ``/healthcheck`` behind its password,
so ``core.flower_process`` swaps their handlers in ``flower.urls.handlers``, the list
Flower's application routes. If an upgrade of Flower closes these endpoints itself,
the first test fails: delete ``core.flower_process`` and start ``celery flower``
directly. If it stops routing that list, the second one fails.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from flower import urls
from flower.app import Flower
from flower.options import default_options
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from core.flower_process import protect_monitoring_endpoints
from si_gouvernance.celery import app as celery_app

CREDENTIALS = "admin:s3cret"
MONITORING = ["/metrics", "/healthcheck"]


def status_codes(paths: list[str], *, credentials: str = "") -> dict[str, int]:
    """The status of each path on a Flower application built as ``celery flower``
    builds it (from ``flower.urls``), with basic auth, on a port the OS chose."""

    async def fetch_all() -> dict[str, int]:
        options = SimpleNamespace(**{**default_options.as_dict(), "basic_auth": [CREDENTIALS]})
        flower = Flower(capp=celery_app, options=options, **urls.settings)
        [sock] = bind_sockets(0, address="127.0.0.1")
        server = HTTPServer(flower)
        server.add_sockets([sock])
        port = sock.getsockname()[1]
        headers = {}
        if credentials:
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        client = AsyncHTTPClient()
        try:
            return {
                path: (
                    await client.fetch(
                        f"http://127.0.0.1:{port}{path}", headers=headers, raise_error=False
                    )
                ).code
                for path in paths
            }
        finally:
            server.stop()
            flower.executor.shutdown(wait=False)

    return asyncio.run(fetch_all())


@pytest.fixture
def protected_routes() -> Iterator[None]:
    """``core.flower_process.main``'s swap, undone afterwards (same list, in place)."""
    stock = list(urls.handlers)
    protect_monitoring_endpoints(urls.handlers)
    yield
    urls.handlers[:] = stock


def test_stock_flower_still_leaves_its_monitoring_endpoints_open():
    assert status_codes(["/", *MONITORING]) == {"/": 401, "/metrics": 200, "/healthcheck": 200}


def test_the_swapped_handlers_are_the_ones_flower_routes(protected_routes):
    assert status_codes(MONITORING) == {"/metrics": 401, "/healthcheck": 401}
    assert status_codes(MONITORING, credentials="admin:wrong") == dict.fromkeys(MONITORING, 401)
    assert status_codes(MONITORING, credentials=CREDENTIALS) == dict.fromkeys(MONITORING, 200)
