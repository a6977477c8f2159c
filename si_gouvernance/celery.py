"""The Celery application, configured from Django settings (namespace ``CELERY``)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "si_gouvernance.settings")

app = Celery("si_gouvernance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(bind=True, ignore_result=False)
def debug_task(self):  # noqa: ANN001
    """Echo the request: the seed document's first check that a worker answers."""
    print(f"Request: {self.request!r}")
    return {"status": "success", "task_id": self.request.id}
