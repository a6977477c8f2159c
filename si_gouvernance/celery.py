"""The Celery application, configured from Django settings (namespace ``CELERY``).

Every value comes from ``si_gouvernance/settings_celery.py`` (which reads the
environment; docs/operations.md lists them); the periodic jobs from
``core.jobs.registry``. This module also sends the worker's and beat's logs to the
console and ``logs/celery.log``.
"""

from __future__ import annotations

import copy
import logging.config
import os
from typing import Any

from celery import Celery, Task
from celery.signals import setup_logging

from core.jobs.heartbeats import WorkerHeartbeat
from core.jobs.registry import beat_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "si_gouvernance.settings")

CELERY_LOG_MAX_BYTES = 10 * 1024 * 1024
CELERY_LOG_BACKUP_COUNT = 5


class Application(Celery):
    """Celery, with the result backend "django-db" (the default) served by
    ``core.jobs.results``: django-celery-results' table, through a backend whose
    writes never fail a task. (Celery reads CELERY_RESULT_BACKEND from the
    environment itself, and django-celery-results' entry point would win over an
    alias: the backend class is the one place left to choose it.)"""

    @property
    def backend_cls(self) -> str | None:  # type: ignore[override]
        if self.conf.result_backend == "django-db":
            return "core.jobs.results:ResilientDatabaseBackend"
        return None


app = Application("si_gouvernance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = beat_schedule()
app.steps["consumer"].add(WorkerHeartbeat)  # beat's own heartbeat: core.jobs.heartbeats
app.autodiscover_tasks()


@app.task(bind=True, ignore_result=False)
def debug_task(self: Task[Any, Any]) -> dict[str, Any]:
    """Echo the request: the seed document's first check that a worker answers."""
    print(f"Request: {self.request!r}")
    return {"status": "success", "task_id": self.request.id}


def celery_logging_config(loglevel: int | str | None = None) -> dict[str, Any]:
    """Django's LOGGING plus a rotated ``celery.log`` for the worker and beat."""
    from django.conf import settings

    config: dict[str, Any] = copy.deepcopy(settings.LOGGING)
    config.setdefault("formatters", {})["celery"] = {"format": settings.LOG_FORMAT}
    handlers: dict[str, Any] = config.setdefault("handlers", {})
    handlers.setdefault("console", {"class": "logging.StreamHandler", "formatter": "celery"})
    handlers["celery_file"] = {
        "class": "si_gouvernance.logging.RotatingFileHandler",
        "filename": str(settings.LOG_DIR / "celery.log"),
        "maxBytes": CELERY_LOG_MAX_BYTES,
        "backupCount": CELERY_LOG_BACKUP_COUNT,
        "formatter": "celery",
        "encoding": "utf-8",
    }
    root: dict[str, Any] = config.setdefault("root", {"level": settings.LOG_LEVEL})
    # The web's own file stays the web's: worker and beat write to celery.log.
    root["handlers"] = ["console", "celery_file"]
    if loglevel:  # the command line's --loglevel wins over LOG_LEVEL
        root["level"] = loglevel
    return config


@setup_logging.connect
def _setup_logging(loglevel: int | str | None = None, **_kwargs: Any) -> None:
    # Connecting this signal stops Celery from installing its own handlers.
    logging.config.dictConfig(celery_logging_config(loglevel))
