"""The application's health, in one place: ``check_health``, ``GET /health/`` and the
supervision page all read it here.

- the daily deadline check: did it succeed recently enough (``check_health``);
- the components: database, broker, daily check, outbox, worker and beat
  liveness (their heartbeats), lost logs (``/health/``, ``--full``);
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
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Max, Min, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu import Connection

from core import lost_logs
from core.dates import long_datetime
from core.models import Heartbeat, JobRun, OutboundEmail

if TYPE_CHECKING:
    from celery import Celery

    from core.jobs.registry import PeriodicJob

logger = logging.getLogger(__name__)

RECENT_RUNS = 10
# Failed emails this recent make the outbox unhealthy (older ones are history).
RECENT_FAILURES = datetime.timedelta(hours=24)
_WAITING = Q(status__in=[OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING])
_FAILED = Q(status=OutboundEmail.Status.FAILED)
# Beat publishes the email sweep every minute: silent this long, it is not ticking.
BEAT_MAX_AGE = datetime.timedelta(minutes=15)
# Two beats whose heartbeats (one a minute) overlap within this window both tick.
TWO_BEATS_WINDOW = datetime.timedelta(minutes=3)
# The sweep reclaims an expired lease within a minute: past this grace, no sender runs.
LEASE_GRACE = datetime.timedelta(minutes=2)
# How the sender's recent attempts fared: over this window, at least this many.
RECENT_ATTEMPTS = datetime.timedelta(minutes=30)
RECENT_ATTEMPTS_MIN = 3
# Less free space than one log file's rotation size under LOG_DIR: logs will be lost.
LOG_MIN_FREE_BYTES = 10 * 1024 * 1024
LOST_LOGS_RECENT = datetime.timedelta(hours=1)


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
    """The last ``per_job`` runs of each job, newest first, in one windowed query."""
    names = list(jobs)
    ranked = (
        JobRun.objects.filter(job__in=names)
        .annotate(rank=Window(RowNumber(), partition_by="job", order_by="-started_at"))
        .filter(rank__lte=per_job)
        .order_by("job", "-started_at")
    )
    runs: dict[str, list[JobRun]] = {job: [] for job in names}
    for run in ranked:
        runs[run.job].append(run)
    return runs


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
class ComponentHealth:
    ok: bool
    message: str  # one French sentence for the operator
    figures: dict[str, Any] = field(default_factory=dict)  # JSON values: counts, ages
    warning: bool = False  # ok for /health/'s status, but shown to the operator

    @property
    def status(self) -> str:
        return "fail" if not self.ok else "warn" if self.warning else "ok"

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, **self.figures}


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


@dataclass(frozen=True)
class OutboxFigures:
    pending: int  # waiting or being sent
    failed: int  # failed for good, ever
    failed_recently: int  # of those, within RECENT_FAILURES
    oldest_pending: datetime.datetime | None
    stuck_sending: int  # SENDING past their lease (and the sweep's grace): no sender
    attempted_recently: int  # taken by the sender within RECENT_ATTEMPTS
    failing_recently: int  # of those, back in the queue or failed with an error


def outbox_figures(*, now: datetime.datetime) -> OutboxFigures:
    """The backlog (how many wait, since when), the failures and how the recent
    attempts fared: one query."""
    recent = Q(last_attempt_at__gte=now - RECENT_ATTEMPTS)
    errored = Q(status__in=[OutboundEmail.Status.PENDING, OutboundEmail.Status.FAILED]) & ~Q(
        last_error=""
    )
    counts = OutboundEmail.objects.aggregate(
        pending=Count("id", filter=_WAITING),
        oldest=Min("created_at", filter=_WAITING),
        failed=Count("id", filter=_FAILED),
        failed_recently=Count("id", filter=_FAILED & Q(created_at__gte=now - RECENT_FAILURES)),
        stuck=Count(
            "id",
            filter=Q(
                status=OutboundEmail.Status.SENDING,
                next_attempt_at__lt=now - LEASE_GRACE,
            ),
        ),
        attempted=Count("id", filter=recent),
        failing=Count("id", filter=recent & errored),
    )
    return OutboxFigures(
        counts["pending"],
        counts["failed"],
        counts["failed_recently"],
        counts["oldest"],
        counts["stuck"],
        counts["attempted"],
        counts["failing"],
    )


def outbox_health(
    *, now: datetime.datetime, outbox: OutboxFigures | None = None
) -> ComponentHealth:
    outbox = outbox or outbox_figures(now=now)
    oldest = outbox.oldest_pending
    waited = int((now - oldest).total_seconds() // 60) if oldest else 0
    figures = {
        "pending": outbox.pending,
        "oldest_pending_minutes": waited,
        "max_age_minutes": settings.HEALTH_OUTBOX_MAX_AGE_MINUTES,
        "failed_last_24h": outbox.failed_recently,
        "stuck_sending": outbox.stuck_sending,
        "attempted_last_30_min": outbox.attempted_recently,
        "failing_last_30_min": outbox.failing_recently,
    }
    if outbox.stuck_sending:
        # A SENDING row's next_attempt_at is the end of its lease (sending_lease()).
        message = _("Emails have stayed in sending past their lease: no sender is running.")
        return ComponentHealth(False, message, figures)
    if (
        outbox.attempted_recently >= RECENT_ATTEMPTS_MIN
        and outbox.failing_recently * 2 > outbox.attempted_recently
    ):
        message = _(
            "Most emails tried in the last 30 minutes were not accepted by the mail "
            "server (%(failing)d of %(attempted)d): see their last error in the admin."
        ) % {"failing": outbox.failing_recently, "attempted": outbox.attempted_recently}
        return ComponentHealth(False, message, figures)
    if outbox.failed_recently:
        message = _("Emails failed for good in the last 24 hours (see the outbox in the admin).")
        return ComponentHealth(False, message, figures)
    if waited > settings.HEALTH_OUTBOX_MAX_AGE_MINUTES:
        message = _("Emails have been waiting for more than %(minutes)d minutes.") % {
            "minutes": settings.HEALTH_OUTBOX_MAX_AGE_MINUTES
        }
        return ComponentHealth(False, message, figures)
    return ComponentHealth(True, _("Emails are being sent."), figures)


# --- Liveness: the heartbeats of workers and beat (core.services.heartbeats) --------


def _age_minutes(now: datetime.datetime, moment: datetime.datetime | None) -> float | None:
    return round((now - moment).total_seconds() / 60, 1) if moment else None


def worker_health(*, now: datetime.datetime) -> ComponentHealth:
    """Some worker wrote its heartbeat within HEALTH_WORKER_MAX_AGE_MINUTES (one query)."""
    max_age = settings.HEALTH_WORKER_MAX_AGE_MINUTES
    seen = Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER).aggregate(
        alive=Count("id", filter=Q(last_seen__gte=now - datetime.timedelta(minutes=max_age))),
        last=Max("last_seen"),
    )
    figures = {
        "alive": seen["alive"],
        "last_seen_minutes": _age_minutes(now, seen["last"]),
        "max_age_minutes": max_age,
    }
    if not figures["alive"]:
        message = _("No worker has been seen for %(minutes)d minutes: emails and jobs wait.") % {
            "minutes": max_age
        }
        return ComponentHealth(False, message, figures)
    return ComponentHealth(True, _("A worker is running."), figures)


@dataclass(frozen=True)
class BeatLives:
    last_seen: datetime.datetime | None
    ticking: list[Heartbeat]  # beats whose heartbeats overlap within TWO_BEATS_WINDOW


def beat_lives(*, now: datetime.datetime) -> BeatLives:
    """Beat's last heartbeat, and the beats ticking together (more than one is an
    error: each sends every job). A restarted beat is one: its new row starts
    after the old one's last heartbeat."""
    rows = list(
        Heartbeat.objects.filter(kind=Heartbeat.Kind.BEAT).order_by("-last_seen")[:RECENT_RUNS]
    )
    recent = [row for row in rows if row.last_seen >= now - TWO_BEATS_WINDOW]
    ticking = [
        row
        for row in recent
        if any(
            other is not row
            and other.started_at <= row.last_seen
            and row.started_at <= other.last_seen
            for other in recent
        )
    ]
    return BeatLives(rows[0].last_seen if rows else None, ticking)


def beat_health(*, now: datetime.datetime, lives: BeatLives | None = None) -> ComponentHealth:
    lives = lives or beat_lives(now=now)
    figures = {
        "last_seen_minutes": _age_minutes(now, lives.last_seen),
        "max_age_minutes": int(BEAT_MAX_AGE.total_seconds() // 60),
        "ticking": len(lives.ticking) or (1 if lives.last_seen else 0),
    }
    if lives.ticking:
        # No host names here (/health/ may be public): the supervision page lists them.
        message = _(
            "%(count)d beats are running at once: stop all but one (the supervision page "
            "names them)."
        ) % {"count": len(lives.ticking)}
        return ComponentHealth(False, message, figures)
    if lives.last_seen is None or now - lives.last_seen > BEAT_MAX_AGE:
        message = _(
            "Beat has not ticked for %(minutes)d minutes: no job is scheduled or caught up."
        ) % {"minutes": figures["max_age_minutes"]}
        return ComponentHealth(False, message, figures)
    return ComponentHealth(True, _("Beat is ticking."), figures)


@dataclass(frozen=True)
class Liveness:
    """What the supervision page shows beside the jobs: each line in French."""

    components: list[ComponentHealth]
    beats: list[Heartbeat]  # the beats ticking together, when more than one


def liveness(*, now: datetime.datetime, outbox: OutboxFigures | None = None) -> Liveness:
    """Two queries, and the outbox's one unless the caller read ``outbox`` already."""
    beats = beat_lives(now=now)
    components = [
        worker_health(now=now),
        beat_health(now=now, lives=beats),
        outbox_health(now=now, outbox=outbox),
        logs_health(now=now),
    ]
    return Liveness(components, beats.ticking)


# --- Logs: a full or unwritable LOG_DIR (core.lost_logs) --------------------------


def logs_health(*, now: datetime.datetime) -> ComponentHealth:
    """A warning, never a failure: pages and jobs go on without their logs, and a
    load balancer must not take the site out for it."""
    lost = lost_logs.lost_since(now - LOST_LOGS_RECENT)
    free = _free_bytes(settings.LOG_DIR)
    figures: dict[str, Any] = {
        "lost_records": sum(item.count for item in lost),
        "errors": sorted({item.reason for item in lost}),
        "free_mb": None if free is None else free // (1024 * 1024),
    }
    if lost:
        message = _(
            "Log records could not be written in the last hour (%(error)s): check the "
            "space left under LOG_DIR."
        ) % {"error": ", ".join(figures["errors"])}
        return ComponentHealth(True, message, figures, warning=True)
    if free is not None and free < LOG_MIN_FREE_BYTES:
        message = _("Less than 10 MB is left under LOG_DIR: logs will soon be lost.")
        return ComponentHealth(True, message, figures, warning=True)
    return ComponentHealth(True, _("Logs are being written."), figures)


def _free_bytes(directory: Any) -> int | None:
    try:
        return shutil.disk_usage(directory).free
    except OSError:  # not created yet (nothing logged to a file): nothing to say
        return None


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
