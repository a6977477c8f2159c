"""The supervision page's view of the periodic jobs: each run's figures and task result.

The health itself (runs, plans, workers, outbox) is ``core.selectors.health``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy
from django_celery_results.models import TaskResult

from core.models import JobRun
from core.selectors.health import JobStatus

# Bookkeeping keys of a run's counts that say nothing to an operator.
_HIDDEN_COUNTS = {"date", "dry_run", "duration_s", "status"}

# What each figure of a run means, in the operator's language.
COUNT_LABELS = {
    "total_created": gettext_lazy("alerts created"),
    "tasks_scanned": gettext_lazy("tasks checked"),
    "emails_queued": gettext_lazy("alert emails queued"),
    "skipped": gettext_lazy("recipients skipped"),
    "deleted": gettext_lazy("notifications deleted"),
    "days": gettext_lazy("retention (days)"),
    "deleted_emails": gettext_lazy("sent emails deleted"),
    "email_days": gettext_lazy("email retention (days)"),
    "leads": gettext_lazy("project leads"),
    "queued": gettext_lazy("summaries queued"),
    "already_queued": gettext_lazy("already sent today"),
    "claimed": gettext_lazy("emails taken"),
    "sent": gettext_lazy("emails sent"),
    "retrying": gettext_lazy("emails to retry"),
    "failed": gettext_lazy("emails failed"),
}


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


def summarize_counts(counts: dict[str, Any]) -> list[Figure]:
    """The figures of a run (alerts created, emails queued, rows deleted...) with
    their French labels; a list or a breakdown is shown by its size or total."""
    figures = []
    for key, value in counts.items():
        if key in _HIDDEN_COUNTS:
            continue
        if isinstance(value, list):
            value = len(value)
        elif isinstance(value, dict):
            value = sum(v for v in value.values() if isinstance(v, int))
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        figures.append(Figure(label=str(COUNT_LABELS.get(key, key.replace("_", " "))), value=value))
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
                    figures=summarize_counts(run.counts),
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
