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
        SKIPPED = "SKIPPED", _("Skipped: its day was over")  # a today-only job, late

    class Trigger(models.TextChoices):
        BEAT = "BEAT", _("Schedule")
        COMMAND = "COMMAND", _("Command")
        CATCH_UP = "CATCH_UP", _("Catch-up")
        MANUAL = "MANUAL", _("Manual")
        EVENT = "EVENT", _("Event")  # e.g. emails queued: the sender starts

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
        # Granted through the "Supervision" group (migration 0008).
        permissions = [
            ("view_supervision", "Can view the supervision of periodic jobs"),
            ("run_job", "Can run a periodic job now"),
        ]
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


class JobDay(models.Model):
    """A daily job's business day: who holds it now, and whether it is done.

    The claim behind "an automatic trigger runs a daily job once a day": a run
    takes the day with a conditional UPDATE that must change exactly one row
    (not done, and no live holder), so of two beats, a beat and a catch-up, or a
    retry and a catch-up, one runs and the others skip. The holder's lease ends
    after the hard time limit: a worker killed mid-run never leaves the day stuck.
    """

    job = models.CharField(_("job"), max_length=100)
    business_date = models.DateField(_("business day"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    task_id = models.CharField(_("holder task id"), max_length=255, blank=True)
    lease_until = models.DateTimeField(_("held until"), null=True, blank=True)
    # The last catch-up that queued this day's run: several workers starting
    # together queue it once, and a message lost in the broker is queued again.
    queued_at = models.DateTimeField(_("catch-up queued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("job day")
        verbose_name_plural = _("job days")
        constraints = [
            models.UniqueConstraint(fields=["job", "business_date"], name="jobday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.business_date}"


class BeatEntryDefault(models.Model):
    """The code's default last written into a beat row, as a fingerprint.

    A row whose fingerprint still matches was not edited by an administrator: it
    follows the code's default at the next start. One that differs is theirs.
    """

    name = models.CharField(_("beat entry"), max_length=200, unique=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64)

    class Meta:
        verbose_name = _("beat entry default")
        verbose_name_plural = _("beat entry defaults")

    def __str__(self) -> str:
        return self.name
