"""Records of the periodic jobs' runs (supervision page, health check, catch-up)."""

from __future__ import annotations

import datetime
import socket
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from django.utils import timezone

from core.models import JobRun

CHECK_TASK_DEADLINES = "check_task_deadlines"
CLEANUP_OLD_NOTIFICATIONS = "cleanup_old_notifications"
SEND_DAILY_SUMMARY = "send_daily_summary"


class _Reportable(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=_Reportable | dict[str, Any])


def run_recorded(
    job: str,
    service: Callable[[], R],
    *,
    trigger: str,
    business_date: datetime.date | None = None,
    task_id: str = "",
) -> R:
    """Run ``service`` and record when, how long, the outcome and its counts.

    The record is written outside the service's transaction, so a failure is
    recorded too (then re-raised for the caller's retry policy).
    """
    run = JobRun.objects.create(
        job=job,
        trigger=trigger,
        business_date=business_date or timezone.localdate(),
        started_at=timezone.now(),
        task_id=task_id or "",
        hostname=socket.gethostname(),
    )
    try:
        result = service()
    except BaseException as exc:
        _finish(run, status=JobRun.Status.FAILURE, error=f"{type(exc).__name__}: {exc}")
        raise
    counts = result if isinstance(result, dict) else result.as_dict()
    _finish(run, status=JobRun.Status.SUCCESS, counts=counts)
    return result


def _finish(
    run: JobRun, *, status: str, counts: dict[str, Any] | None = None, error: str = ""
) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.counts = counts or {}
    run.error = error
    run.save(update_fields=["status", "finished_at", "counts", "error"])


def last_success(job: str) -> JobRun | None:
    return (
        JobRun.objects.filter(job=job, status=JobRun.Status.SUCCESS).order_by("-started_at").first()
    )
