"""The application's health for a supervision tool (``/health/``, ``check_health``).

One call, one typed report: the database, the broker, the last successful daily
check and the outbox. Every read is bounded in time (a stopped broker or database
answers "down" within seconds, never hangs the caller) and the report holds no
personal data: statuses, counts, ages and exception class names only.
"""

from __future__ import annotations

import datetime
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu import Connection

from core.models import OutboundEmail
from core.selectors.health import daily_check_health

logger = logging.getLogger(__name__)

# Failed emails this recent make the outbox unhealthy (older ones are history).
RECENT_FAILURES = datetime.timedelta(hours=24)
_WAITING = [OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING]


@dataclass(frozen=True)
class ComponentHealth:
    ok: bool
    message: str  # one French sentence for the operator
    figures: dict[str, Any] = field(default_factory=dict)  # JSON values: counts, ages

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "fail", "message": self.message, **self.figures}


@dataclass(frozen=True)
class SystemHealth:
    checked_at: datetime.datetime
    database: ComponentHealth
    broker: ComponentHealth
    daily_check: ComponentHealth
    outbox: ComponentHealth

    @property
    def components(self) -> dict[str, ComponentHealth]:
        return {
            "database": self.database,
            "broker": self.broker,
            "daily_check": self.daily_check,
            "outbox": self.outbox,
        }

    @property
    def ok(self) -> bool:
        return all(component.ok for component in self.components.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "fail",
            "checked_at": self.checked_at.isoformat(),
            "components": {name: c.as_dict() for name, c in self.components.items()},
        }


def system_health(
    *,
    now: datetime.datetime | None = None,
    broker_timeout: float = 2.0,
    broker_url: str | None = None,
) -> SystemHealth:
    """Every component's health; ``ok`` only when all are. At most a few queries and
    one broker connection, each bounded by its timeout."""
    now = now or timezone.now()
    database = database_health()
    broker = broker_health(url=broker_url or settings.CELERY_BROKER_URL, timeout=broker_timeout)
    if not database.ok:
        unknown = ComponentHealth(False, _("Unknown: the database is unreachable."))
        return SystemHealth(now, database, broker, daily_check=unknown, outbox=unknown)
    return SystemHealth(
        checked_at=now,
        database=database,
        broker=broker,
        daily_check=daily_check_component(now=now),
        outbox=outbox_health(now=now),
    )


def database_health() -> ComponentHealth:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.warning("Health: database unreachable: %s", exc)
        connection.close_if_unusable_or_obsolete()
        return ComponentHealth(False, _("The database is unreachable."), _error(exc))
    return ComponentHealth(True, _("The database answers."), {"vendor": connection.vendor})


def broker_health(*, url: str, timeout: float) -> ComponentHealth:
    """One connection attempt, no retry; a hard bound even if a library ignored
    its timeout (a DNS lookup, for one)."""
    outcome = _within(timeout + 1.0, lambda: _connect_broker(url=url, timeout=timeout))
    if outcome is None:
        return ComponentHealth(False, _("The broker did not answer in time."), {"error": "Timeout"})
    if isinstance(outcome, Exception):
        logger.warning("Health: broker unreachable: %s", outcome)
        return ComponentHealth(False, _("The broker is unreachable."), _error(outcome))
    return ComponentHealth(True, _("The broker answers."), {"transport": outcome})


def _connect_broker(*, url: str, timeout: float) -> str:
    options: dict[str, Any] = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if url.startswith(("redis://", "rediss://")):
        options.update(socket_timeout=timeout, socket_connect_timeout=timeout)
    with Connection(url, connect_timeout=timeout, transport_options=options) as broker:
        broker.ensure_connection(max_retries=0, timeout=math.ceil(timeout))
        broker.default_channel  # noqa: B018 (opens a channel: Redis answers a PING)
        return str(broker.transport_cls)


def _within(timeout: float, call: Callable[[], str]) -> str | Exception | None:
    """``call()``'s result, its exception, or None when it outlives ``timeout``."""
    outcome: list[str | Exception] = []

    def target() -> None:
        try:
            outcome.append(call())
        except Exception as exc:  # any broker failure means "unreachable"
            outcome.append(exc)

    thread = threading.Thread(target=target, name="health-broker", daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else None


def daily_check_component(*, now: datetime.datetime) -> ComponentHealth:
    report = daily_check_health(now=now)
    last = report.last_success_at
    figures = {
        "last_success_at": last.isoformat() if last else None,
        "age_hours": round((now - last).total_seconds() / 3600, 2) if last else None,
        "max_age_hours": settings.HEALTH_MAX_AGE_HOURS,
    }
    return ComponentHealth(report.ok, report.message, figures)


def outbox_health(*, now: datetime.datetime) -> ComponentHealth:
    """The backlog (how many wait, since when) and the recent failures: one query."""
    counts = OutboundEmail.objects.aggregate(
        pending=Count("id", filter=Q(status__in=_WAITING)),
        oldest=Min("created_at", filter=Q(status__in=_WAITING)),
        failed_recently=Count(
            "id",
            filter=Q(status=OutboundEmail.Status.FAILED, created_at__gte=now - RECENT_FAILURES),
        ),
    )
    oldest: datetime.datetime | None = counts["oldest"]
    waited = int((now - oldest).total_seconds() // 60) if oldest else 0
    figures = {
        "pending": counts["pending"],
        "oldest_pending_minutes": waited,
        "max_age_minutes": settings.HEALTH_OUTBOX_MAX_AGE_MINUTES,
        "failed_last_24h": counts["failed_recently"],
    }
    if counts["failed_recently"]:
        message = _("Emails failed for good in the last 24 hours (see the outbox in the admin).")
        return ComponentHealth(False, message, figures)
    if waited > settings.HEALTH_OUTBOX_MAX_AGE_MINUTES:
        message = _("Emails have been waiting for more than %(minutes)d minutes.") % {
            "minutes": settings.HEALTH_OUTBOX_MAX_AGE_MINUTES
        }
        return ComponentHealth(False, message, figures)
    return ComponentHealth(True, _("Emails are being sent."), figures)


def _error(exc: BaseException) -> dict[str, str]:
    # The class name only: a message may carry a host name or a user name.
    return {"error": type(exc).__name__}
