"""The application's health, in one place: ``check_health``, ``GET /health/`` and the
supervision page all read it here.

- the daily deadline check: did it succeed recently enough (``check_health``);
- the components: database, broker, daily check, and the liveness of the outbox,
  worker, beat and logs read in ``core.selectors.liveness`` (``/health/``, ``--full``);
- each periodic job's recent runs beside what beat plans for it, and which
  workers answer a ping (the supervision page).

What beat plans (next run, row edited by an administrator) is the caller's to give
(``Plan``): selectors read neither beat's tables nor the job runner's internals.
Every read is bounded in time (a stopped broker or database answers "down" within
seconds) and the reports hold no personal data: statuses, counts, ages and
exception class names only.
"""

from __future__ import annotations

import datetime
import logging
import math
import operator
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import DateTimeField, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu import Connection

from core.dates import long_datetime
from core.models import JobRun
from core.selectors.liveness import (
    ComponentHealth,
    beat_health,
    logs_health,
    outbox_health,
    worker_health,
)

if TYPE_CHECKING:
    from celery import Celery

    from core.jobs.registry import PeriodicJob

logger = logging.getLogger(__name__)

RECENT_RUNS = 10


# --- Periodic jobs: recent runs, last success ------------------------------------


@dataclass(frozen=True)
class Plan:
    """What beat plans for a job, as the job runner reads it from beat's row."""

    next_run: datetime.datetime | None = None
    enabled: bool = True
    from_database: bool = False  # False: beat has not stored its row yet
    modified: bool = False  # an administrator changed the row: the code's default no longer applies


@dataclass(frozen=True)
class JobStatus:
    job: PeriodicJob
    runs: list[JobRun]  # newest first
    plan: Plan

    @property
    def key(self) -> str:
        return self.job.key

    @property
    def beat_name(self) -> str:
        return self.job.beat_name

    @property
    def label(self) -> str:
        return str(self.job.label)

    @property
    def last_run(self) -> JobRun | None:
        return self.runs[0] if self.runs else None


def recent_runs(*, jobs: Iterable[str], per_job: int = RECENT_RUNS) -> dict[str, list[JobRun]]:
    """The last ``per_job`` runs of each job, newest first, in one query that reads
    those runs only, however long the history: per job, a range from its
    ``per_job``-th newest start on the index jobrun_job_started_idx."""
    names = list(dict.fromkeys(jobs))
    runs: dict[str, list[JobRun]] = {job: [] for job in names}
    if not names:
        return runs
    latest = reduce(operator.or_, (_latest_of(job, per_job) for job in names))
    for run in JobRun.objects.filter(latest).order_by("job", "-started_at", "-pk"):
        if len(runs[run.job]) < per_job:  # runs started at the same instant as the last
            runs[run.job].append(run)
    return runs


def _latest_of(job: str, count: int) -> Q:
    """``job``'s runs started at or after its ``count``-th newest start (all of
    them when it has fewer)."""
    nth = JobRun.objects.filter(job=job).order_by("-started_at").values("started_at")
    since = Subquery(nth[count - 1 : count], output_field=DateTimeField())
    return Q(job=job, started_at__gte=Coalesce(since, Value(_BEFORE_ANY_RUN)))


_BEFORE_ANY_RUN = datetime.datetime.min.replace(tzinfo=datetime.UTC)


def job_statuses(*, jobs: Iterable[PeriodicJob], plans: Mapping[str, Plan]) -> list[JobStatus]:
    """Each job with its recent runs (one query) and its plan (by job key; unknown
    when ``plans`` has none)."""
    jobs = list(jobs)
    runs = recent_runs(jobs=[job.key for job in jobs])
    return [JobStatus(job, runs[job.key], plans.get(job.key, Plan())) for job in jobs]


def last_success(job: PeriodicJob, *, today: datetime.date) -> JobRun | None:
    """The success for the latest business day up to ``today`` (the latest run
    among several for that day). A run started now for another day, a backfill
    of last week (``--date``), says nothing about today's check."""
    return (
        JobRun.objects.filter(job=job.key, status=JobRun.Status.SUCCESS, business_date__lte=today)
        .order_by("-business_date", "-started_at")
        .first()
    )


# --- The daily deadline check (check_health) --------------------------------------


@dataclass(frozen=True)
class HealthReport:
    ok: bool
    message: str
    last_success_at: datetime.datetime | None


def daily_check_health(
    *, job: PeriodicJob, now: datetime.datetime | None = None, max_age_hours: int | None = None
) -> HealthReport:
    """Healthy when the deadline check (``job``, the registry's row: selectors do not
    read the job runner's package) succeeded within ``HEALTH_MAX_AGE_HOURS``, for
    today or yesterday (Europe/Paris)."""
    now = now or timezone.now()
    max_age = settings.HEALTH_MAX_AGE_HOURS if max_age_hours is None else max_age_hours
    today = timezone.localdate(now)
    last = last_success(job, today=today)
    if last is None:
        return HealthReport(False, _("The daily deadline check has never succeeded."), None)
    finished = last.finished_at or last.started_at
    when = long_datetime(finished)
    recent_day = last.business_date >= today - datetime.timedelta(days=1)
    if now - finished > datetime.timedelta(hours=max_age) or not recent_day:
        message = _(
            "The daily deadline check has not succeeded for more than %(hours)d hours "
            "(last success: %(when)s)."
        ) % {"hours": max_age, "when": when}
        return HealthReport(False, message, finished)
    message = _("The daily deadline check last succeeded on %(when)s.") % {"when": when}
    return HealthReport(True, message, finished)


# --- The components (GET /health/, check_health --full) ---------------------------


@dataclass(frozen=True)
class SystemHealth:
    checked_at: datetime.datetime
    database: ComponentHealth
    broker: ComponentHealth
    daily_check: ComponentHealth
    outbox: ComponentHealth
    worker: ComponentHealth
    beat: ComponentHealth
    logs: ComponentHealth

    @property
    def components(self) -> dict[str, ComponentHealth]:
        return {
            "database": self.database,
            "broker": self.broker,
            "daily_check": self.daily_check,
            "outbox": self.outbox,
            "worker": self.worker,
            "beat": self.beat,
            "logs": self.logs,
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
    daily_check: PeriodicJob,
    now: datetime.datetime | None = None,
    broker_timeout: float = 2.0,
    broker_url: str | None = None,
) -> SystemHealth:
    """Every component's health; ``ok`` only when all are. At most a few queries and
    one broker connection, each bounded by its timeout."""
    now = now or timezone.now()
    database = database_health()
    broker = broker_health(url=broker_url or settings.CELERY_BROKER_URL, timeout=broker_timeout)
    logs = logs_health(now=now)
    if not database.ok:
        unknown = ComponentHealth(False, _("Unknown: the database is unreachable."))
        return SystemHealth(now, database, broker, unknown, unknown, unknown, unknown, logs)
    return SystemHealth(
        checked_at=now,
        database=database,
        broker=broker,
        daily_check=daily_check_component(job=daily_check, now=now),
        outbox=outbox_health(now=now),
        worker=worker_health(now=now),
        beat=beat_health(now=now),
        logs=logs,
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


def daily_check_component(*, job: PeriodicJob, now: datetime.datetime) -> ComponentHealth:
    report = daily_check_health(job=job, now=now)
    last = report.last_success_at
    figures = {
        "last_success_at": last.isoformat() if last else None,
        "age_hours": round((now - last).total_seconds() / 3600, 2) if last else None,
        "max_age_hours": settings.HEALTH_MAX_AGE_HOURS,
    }
    return ComponentHealth(report.ok, report.message, figures)


def _error(exc: BaseException) -> dict[str, str]:
    # The class name only: a message may carry a host name or a user name.
    return {"error": type(exc).__name__}


# --- Workers (the supervision page) ------------------------------------------------


@dataclass(frozen=True)
class WorkerStatus:
    answered: list[str]
    error: str = ""
    unsupported: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.answered)


def worker_status(*, app: Celery, timeout: int = 1) -> WorkerStatus:
    """Which workers answer a ping; never hangs the page when the broker is down.

    The connection is opened with a single, bounded attempt: the default retry
    policy would otherwise keep the request waiting for minutes.
    """
    try:
        with app.connection_for_write() as broker:
            if "fanout" not in broker.transport.implements.exchange_type:
                # Broadcast needs fanout: the embedded SQLAlchemy broker cannot ping.
                return WorkerStatus(answered=[], unsupported=True)
            broker.ensure_connection(max_retries=0, timeout=timeout)
            replies = app.control.ping(timeout=timeout, connection=broker) or []
    except Exception as exc:  # any broker or transport failure means "no answer"
        logger.info("Worker ping failed: %s", exc)
        return WorkerStatus(answered=[], error=f"{type(exc).__name__}: {exc}")
    return WorkerStatus(answered=sorted(name for reply in replies for name in reply))
