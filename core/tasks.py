"""Celery tasks: a table of contents. Each task names its service, its retry
policy and its time limits, takes JSON arguments, and holds no business logic.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from core.models import JobRun
from core.services import jobs
from core.services.cleanup import cleanup_old_notifications as cleanup_service
from core.services.daily_check import run_deadline_check

# --- Periodic jobs (issue 3) ----------------------------------------------------


@shared_task(name="core.tasks.check_task_deadlines", bind=True)
def check_task_deadlines(self: Any) -> dict[str, Any]:
    result = jobs.run_recorded(
        jobs.CHECK_TASK_DEADLINES,
        run_deadline_check,
        trigger=JobRun.Trigger.BEAT,
        task_id=self.request.id or "",
    )
    return {"status": "success", **result.as_dict()}


@shared_task(name="core.tasks.cleanup_old_notifications", bind=True)
def cleanup_old_notifications(self: Any, days: int = 30) -> dict[str, Any]:
    counts = jobs.run_recorded(
        jobs.CLEANUP_OLD_NOTIFICATIONS,
        lambda: cleanup_service(days=days),
        trigger=JobRun.Trigger.BEAT,
        task_id=self.request.id or "",
    )
    return {"status": "success", **counts}


# --- Email delivery (issue 4) ------------------------------------------------------
