from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ExportPortefeuille(models.Model):
    """A portfolio export too large for the request, written by a worker
    (core.services.portfolio_export_jobs) and downloaded by its owner only.

    The file is kept in the database, not under MEDIA_ROOT: web and workers may
    run on different machines (Linux or Windows) with no shared disk, deleting
    the row deletes the file, and backups hold both. A file is a few hundred KB
    at 5,000 projects (about 80 bytes a project).
    """

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        PENDING = "PENDING", _("Waiting")
        RUNNING = "RUNNING", _("Being prepared")
        READY = "READY", _("Ready")
        FAILED = "FAILED", _("Failed")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_index=False,  # exports_owner_idx leads with it
        related_name="portfolio_exports",
        verbose_name=_("owner"),
    )
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    # core.selectors.portfolio.PortfolioFilters, as JSON (lead_id, statut, sort).
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    # The business day (Europe/Paris) whose figures the export gives.
    business_date = models.DateField(_("business day"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    row_count = models.PositiveIntegerField(_("projects"), null=True, blank=True)
    content = models.BinaryField(_("file"), null=True, blank=True, editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    # What the owner reads when it failed (French, no technical detail: the logs have it).
    error = models.TextField(_("error"), blank=True)
    # Deliveries of the task that took it (a worker killed mid-export: the next one).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Downloadable until then; the weekly cleanup deletes it after.
    expires_at = models.DateTimeField(_("available until"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("portfolio export")
        verbose_name_plural = _("portfolio exports")
        indexes = [
            # Serves "My exports": WHERE owner_id = ? ORDER BY created_at DESC, id DESC.
            models.Index(fields=["owner", "-created_at", "-id"], name="exports_owner_idx"),
            # Serves the cleanup: WHERE expires_at < now.
            models.Index(fields=["expires_at"], name="exports_expiry_idx"),
            # Serves the sweep of exports a dead worker left, and the per-user bound
            # on exports in preparation.
            models.Index(
                fields=["owner", "created_at"],
                condition=Q(status__in=["PENDING", "RUNNING"]),
                name="exports_in_progress_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()} {self.business_date.isoformat()}"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)
