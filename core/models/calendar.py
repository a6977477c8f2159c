"""The days nobody works beyond weekends and public holidays: DSI closure days."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models.fields import NameField


class JourNonOuvre(models.Model):
    """A day an administrator closes (a DSI closure, a bridge day): no alert is
    dated on it and no daily summary is sent (core.working_days)."""

    date = models.DateField(_("date"), unique=True)
    libelle = NameField(_("label"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("non-working day")
        verbose_name_plural = _("non-working days")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.libelle}".strip()
