"""A task's history: who changed its status, due date, owner or progress, when, and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models.fields import NoteField
from core.models.projects import Tache


class HistoriqueTache(models.Model):
    """One change of one field of a task, old → new, with its author and reason.

    A row per field rather than a snapshot per save: "old → new with a reason" is
    what a reader wants, and a slipped due date is a plain, indexable condition
    (``champ = ECHEANCE AND nouvelle_echeance > ancienne_echeance``) that the
    portfolio and the daily summary count in SQL. Each field has typed columns, so
    statuses are shown in the reader's language and dates in their format.
    """

    class Champ(models.TextChoices):
        CREATION = "CREATION", _("Created")
        STATUT = "STATUT", _("Status")
        ECHEANCE = "ECHEANCE", _("Due date")
        RESPONSABLE = "RESPONSABLE", _("Owner")
        AVANCEMENT = "AVANCEMENT", _("Progress")
        COMMENTAIRE = "COMMENTAIRE", _("Comment")

    tache = models.ForeignKey(
        Tache, on_delete=models.CASCADE, related_name="historique", verbose_name=_("task")
    )
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    date = models.DateTimeField(_("date"), default=timezone.now)
    champ = models.CharField(_("field"), max_length=20, choices=Champ.choices)
    ancien_statut = models.CharField(
        _("old status"), max_length=20, choices=Tache.Statut.choices, blank=True
    )
    nouveau_statut = models.CharField(
        _("new status"), max_length=20, choices=Tache.Statut.choices, blank=True
    )
    ancienne_echeance = models.DateField(_("old due date"), null=True, blank=True)
    nouvelle_echeance = models.DateField(_("new due date"), null=True, blank=True)
    ancien_responsable = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("old owner"),
    )
    nouveau_responsable = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("new owner"),
    )
    ancien_avancement = models.PositiveSmallIntegerField(_("old progress"), null=True, blank=True)
    nouvel_avancement = models.PositiveSmallIntegerField(_("new progress"), null=True, blank=True)
    motif = NoteField(_("reason or comment"), blank=True, max_length=1000)

    # A due date pushed back: the governance signal counted on the portfolio,
    # the task page and in the daily summary. Clearing a due date is not counted.
    SLIP = Q(champ=Champ.ECHEANCE, nouvelle_echeance__gt=F("ancienne_echeance"))

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("task history entry")
        verbose_name_plural = _("task history")
        indexes = [
            # Serves the task page (WHERE tache_id = ? ORDER BY date DESC) and the
            # slip counts, which join on tache_id.
            models.Index(fields=["tache", "-date"], name="historique_tache_date_idx"),
            # Serves the update limits (core.services.update_limits): an author's
            # entries of the last 24 hours, WHERE auteur_id = ? AND date >= ?.
            models.Index(fields=["auteur", "-date"], name="historique_auteur_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tache_id} {self.champ} {self.date:%Y-%m-%d %H:%M}"

    @property
    def is_slip(self) -> bool:
        old, new = self.ancienne_echeance, self.nouvelle_echeance
        return (
            self.champ == self.Champ.ECHEANCE and old is not None and new is not None and new > old
        )
