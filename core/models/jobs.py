from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One run of a periodic job, whatever triggered it (beat, command, catch-up)."""

    class Status(models.TextChoices):
        RUNNING = "RUNNING", _("Running")
        SUCCESS = "SUCCESS", _("Success")
        FAILURE = "FAILURE", _("Failure")

    class Trigger(models.TextChoices):
        BEAT = "BEAT", _("Schedule")
        COMMAND = "COMMAND", _("Command")
        CATCH_UP = "CATCH_UP", _("Catch-up")
        MANUAL = "MANUAL", _("Manual")

    job = models.CharField(_("job"), max_length=100)
    trigger = models.CharField(
        _("trigger"), max_length=20, choices=Trigger.choices, default=Trigger.BEAT
    )
    business_date = models.DateField(_("business day"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    task_id = models.CharField(_("Celery task id"), max_length=255, blank=True)
    hostname = models.CharField(_("host"), max_length=255, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        indexes = [
            # Serves supervision and health: WHERE job = ? ORDER BY started_at DESC.
            models.Index(fields=["job", "-started_at"], name="jobrun_job_started_idx"),
            # Serves catch-up and health:
            # WHERE job = ? AND status = 'SUCCESS' AND business_date = ?.
            models.Index(
                fields=["job", "business_date"],
                condition=Q(status="SUCCESS"),
                name="jobrun_success_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration(self) -> datetime.timedelta | None:
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at
