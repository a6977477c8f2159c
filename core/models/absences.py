"""A user's absences: their alerts go to the project lead meanwhile."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models.fields import NoteField


class Absence(models.Model):
    """From ``debut`` to ``fin`` (both included) the user is away: the deadline
    alerts meant for them go to the lead of each project, said in the alert, and
    they get a catch-up digest on their first working day back."""

    utilisateur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="absences",
        verbose_name=_("user"),
    )
    debut = models.DateField(_("from"))
    fin = models.DateField(_("to"))
    motif = NoteField(_("reason"), blank=True, max_length=1000)
    date_creation = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-debut"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        constraints = [
            models.CheckConstraint(condition=Q(fin__gte=F("debut")), name="absence_dates_ordered"),
        ]
        indexes = [
            # Serves the engine: is this owner away today? (utilisateur, fin >= today)
            models.Index(fields=["utilisateur", "fin"], name="absence_utilisateur_fin_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.utilisateur} {self.debut:%Y-%m-%d} → {self.fin:%Y-%m-%d}"
