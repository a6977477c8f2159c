from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """A worker's or beat's last sign of life: one row per process (host and pid),
    upserted about every minute (``core.services.heartbeats``), read by health.

    ``started_at`` is the process's first heartbeat: two beats alive together have
    rows whose lives overlap, a restarted beat a new row that starts after the
    old one's last heartbeat.
    """

    class Kind(models.TextChoices):
        WORKER = "worker", _("Worker")
        BEAT = "beat", _("Beat")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    hostname = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        constraints = [
            models.UniqueConstraint(fields=["kind", "hostname", "pid"], name="heartbeat_unique"),
        ]
        indexes = [
            # Serves health: WHERE kind = ? AND last_seen >= ? ORDER BY last_seen DESC.
            models.Index(fields=["kind", "-last_seen"], name="heartbeat_kind_seen_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.hostname} {self.pid}"
