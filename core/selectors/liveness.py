"""Liveness: is anything sending the emails, ticking the schedule, keeping the logs?

The components of ``core.selectors.health`` that watch the processes rather than
the data: the outbox's backlog and how its recent attempts fared, the workers' and
beat's heartbeats (two beats ticking at once included), and the log directory.
Each is one query or one system call, and reports counts and ages only.
"""

from __future__ import annotations

import datetime
import shutil
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.utils.translation import gettext as _

from core import lost_logs
from core.models import Heartbeat, OutboundEmail

# Failed emails this recent make the outbox unhealthy (older ones are history).
RECENT_FAILURES = datetime.timedelta(hours=24)
_WAITING = Q(status__in=[OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING])
_FAILED = Q(status=OutboundEmail.Status.FAILED)
# Beat publishes the email sweep every minute: silent this long, it is not ticking.
BEAT_MAX_AGE = datetime.timedelta(minutes=15)
# The newest beat heartbeats read to tell one beat from two.
BEATS_READ = 10
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
    attempts fared: one query, over those rows only (the indexes outbox_to_send_idx,
    outbox_status_idx and outbox_last_attempt_idx), never the sent emails kept
    until the cleanup."""
    recent = Q(last_attempt_at__gte=now - RECENT_ATTEMPTS)
    errored = Q(status__in=[OutboundEmail.Status.PENDING, OutboundEmail.Status.FAILED]) & ~Q(
        last_error=""
    )
    counts = OutboundEmail.objects.filter(_WAITING | _FAILED | recent).aggregate(
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
        Heartbeat.objects.filter(kind=Heartbeat.Kind.BEAT).order_by("-last_seen")[:BEATS_READ]
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
