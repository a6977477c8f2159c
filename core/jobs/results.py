"""The task-result backend: django-celery-results' table, never fatal to a task.

With the stock backend, a database outage turns the result writes around the
task body (STARTED before it, RETRY or FAILURE after it) into errors "outside
the body": Celery's automatic retry does not apply, and a worker of the solo pool
(Windows) stops on an "unrecoverable error". Task results only serve monitoring
(the admin, ``.get()``); what a job did is recorded by the job itself
(``JobRun``) and a missed day is caught up. So a write is retried briefly (a
restarting connection), then given up with one log line; the task goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.exceptions import BackendStoreError
from django.db import DatabaseError, connection
from django_celery_results.backends.database import DatabaseBackend

from core.jobs.errors import first_line

logger = logging.getLogger(__name__)


class ResilientDatabaseBackend(DatabaseBackend):
    def exception_safe_to_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, DatabaseError):
            connection.close()  # a new connection for the next attempt
            return True
        return bool(super().exception_safe_to_retry(exc))

    def store_result(self, task_id: str, result: Any, state: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().store_result(task_id, result, state, *args, **kwargs)
        except (DatabaseError, BackendStoreError) as exc:
            cause = exc.__cause__ or exc.__context__ or exc
            logger.warning("Task %s: %s state not stored (%s)", task_id, state, first_line(cause))
            return result
