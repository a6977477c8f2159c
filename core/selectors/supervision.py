"""The supervision page's view of the periodic jobs: each run's figures and task result.

The health itself (runs, plans, workers, outbox) is ``core.selectors.health``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.urls import reverse
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
class JobPanel:
    status: JobStatus
    rows: list[RunRow]


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


def job_panels(statuses: Iterable[JobStatus]) -> list[JobPanel]:
    """Each job's status with its recent runs' figures and task results (one query)."""
    statuses = list(statuses)
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
        )
        for status in statuses
    ]


def _result_url(result_pk: int | None) -> str:
    if result_pk is None:
        return ""
    return reverse("admin:django_celery_results_taskresult_change", args=[result_pk])


def task_result_url(task_id: str) -> str:
    """Where an administrator finds a queued task's result (the admin's search)."""
    changelist = reverse("admin:django_celery_results_taskresult_changelist")
    return f"{changelist}?{urlencode({'q': task_id})}"
