"""The Flower process that ``manage.py run_flower`` starts: Celery's own
``celery flower``, with ``/metrics`` and ``/healthcheck`` behind the same
authentication as every other Flower page.

Flower exempts those two endpoints from authentication on purpose and has no
option to change it (its documentation, "Authentication"; mher/flower#1342): its
prometheus metrics name every task and worker. Here they answer 401 without the
FLOWER_BASIC_AUTH credentials, like the rest; a Prometheus scraper sends them
(``basic_auth`` in its scrape config). In FLOWER_DEV_MODE nothing has a password.

Flower has no public hook for it either (its command builds the application from
``flower.urls.handlers`` and starts it): this module is the one place that reaches
into Flower, and tests/test_flower_process.py pins what it relies on (the endpoints
are still open in a stock Flower; the application routes that very list).

Run as ``python -m core.flower_process -A si_gouvernance flower [options]``.
"""

from __future__ import annotations

from typing import Any

import tornado.web
from flower import urls
from flower.views import monitor


class AuthenticatedMetrics(monitor.Metrics):
    @tornado.web.authenticated
    async def get(self) -> None:
        await super().get()


class AuthenticatedHealthcheck(monitor.Healthcheck):
    @tornado.web.authenticated
    async def get(self) -> None:
        await super().get()


PROTECTED = {monitor.Metrics: AuthenticatedMetrics, monitor.Healthcheck: AuthenticatedHealthcheck}


def protect_monitoring_endpoints(handlers: list[Any]) -> None:
    """Swap the open handlers for authenticated ones, in place: ``flower.app``
    holds a reference to this very list. A Flower whose routes changed stops here
    rather than start with its metrics open."""
    for index, spec in enumerate(handlers):
        if isinstance(spec, tuple) and spec[1] in PROTECTED:
            handlers[index] = (spec[0], PROTECTED[spec[1]], *spec[2:])
    routed = {spec[1] for spec in handlers if isinstance(spec, tuple)}
    missing = [handler.__name__ for handler in PROTECTED if PROTECTED[handler] not in routed]
    if missing:
        raise RuntimeError(f"Flower's routes changed ({', '.join(missing)}): update {__name__}.")


def main() -> None:
    protect_monitoring_endpoints(urls.handlers)
    from celery.__main__ import main as celery_main  # what the `celery` program runs

    celery_main()


if __name__ == "__main__":
    main()
