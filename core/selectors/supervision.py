"""The supervision page's view of the periodic jobs: each run's figures and task result.

The health itself (runs, plans, workers, outbox) is ``core.selectors.health``'s.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django_celery_results.models import TaskResult

from core.models import JobRun
from core.selectors.health import JobStatus

if TYPE_CHECKING:
    from core.jobs.registry import PeriodicJob


@dataclass(frozen=True)
class Figure:
    label: str
    value: Any


@dataclass(frozen=True)
class RunRow:
    """A run as the supervision page shows it: its figures and its task result."""

    run: JobRun
    figures: list[Figure]
    result_url: str  # the Celery task result in the admin, "" when there is none


@dataclass(frozen=True)
class Today:
    """A daily job's line for today: "ok", "running", "failed", "planned" or "missed"."""

    state: str
    at: datetime.datetime | None = None


@dataclass(frozen=True)
class JobPanel:
    status: JobStatus
    rows: list[RunRow]
    today: Today | None = None  # daily jobs only
    queued: str = ""  # the id of a run queued from this page, not started yet


def today_line(status: JobStatus, *, now: datetime.datetime) -> Today | None:
    """Whether a daily job did its work today, from its recent runs and its plan."""
    if not status.job.daily:
        return None
    today = timezone.localdate(now)
    runs = [run for run in status.runs if run.business_date == today]
    by_status = {run.status: run for run in reversed(runs)}  # the newest of each
    next_run = status.plan.next_run
    if success := by_status.get(JobRun.Status.SUCCESS):
        return Today("ok", success.finished_at or success.started_at)
    if running := by_status.get(JobRun.Status.RUNNING):
        return Today("running", running.started_at)
    if failure := by_status.get(JobRun.Status.FAILURE):
        return Today("failed", failure.started_at)
    if next_run is not None and timezone.localdate(next_run) == today and status.plan.enabled:
        return Today("planned", next_run)
    return Today("missed")


def summarize_counts(job: PeriodicJob, counts: dict[str, Any]) -> list[Figure]:
    """The figures ``job`` declares (alerts created, emails queued, rows deleted...)
    found in a run's counts, with their labels; a list or a breakdown is shown by
    its size or total."""
    figures = []
    for key, label in job.figures.items():
        value = counts.get(key)
        if isinstance(value, list):
            value = len(value)
        elif isinstance(value, dict):
            value = sum(v for v in value.values() if isinstance(v, int))
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        figures.append(Figure(label=str(label), value=value))
    return figures


def job_panels(
    statuses: Iterable[JobStatus], *, now: datetime.datetime, queued: tuple[str, str] = ("", "")
) -> list[JobPanel]:
    """Each job's status with its recent runs' figures and task results (one query),
    its line for today, and ``queued`` (job key, task id) while that run has not started."""
    statuses = list(statuses)
    queued_key, queued_id = queued
    task_ids = {run.task_id for status in statuses for run in status.runs if run.task_id}
    results = dict(
        TaskResult.objects.filter(task_id__in=task_ids).values_list("task_id", "pk")
        if task_ids
        else []
    )
    return [
        JobPanel(
            status=status,
            rows=[
                RunRow(
                    run=run,
                    figures=summarize_counts(status.job, run.counts),
                    result_url=_result_url(results.get(run.task_id)),
                )
                for run in status.runs
            ],
            today=today_line(status, now=now),
            queued=queued_id if status.key == queued_key and not _started(queued_id) else "",
        )
        for status in statuses
    ]


def _started(task_id: str) -> bool:
    return JobRun.objects.filter(task_id=task_id).exists()


def _result_url(result_pk: int | None) -> str:
    if result_pk is None:
        return ""
    return reverse("admin:django_celery_results_taskresult_change", args=[result_pk])


def task_result_url(task_id: str) -> str:
    """Where an administrator finds a queued task's result (the admin's search)."""
    changelist = reverse("admin:django_celery_results_taskresult_changelist")
    return f"{changelist}?{urlencode({'q': task_id})}"
