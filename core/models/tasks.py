from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models.projects import Etape, Projet


class Tache(models.Model):
    class Statut(models.TextChoices):
        A_FAIRE = "A_FAIRE", _("To do")
        EN_COURS = "EN_COURS", _("In progress")
        BLOQUEE = "BLOQUEE", _("Blocked")
        EN_PAUSE = "EN_PAUSE", _("On hold")
        TERMINEE = "TERMINEE", _("Done")
        ANNULEE = "ANNULEE", _("Cancelled")

    class Priorite(models.TextChoices):
        BASSE = "BASSE", _("Low")
        NORMALE = "NORMALE", _("Normal")
        HAUTE = "HAUTE", _("High")
        CRITIQUE = "CRITIQUE", _("Critical")

    # Tasks that still raise alerts.
    OPEN_STATUTS = (Statut.A_FAIRE, Statut.EN_COURS, Statut.BLOQUEE)

    projet = models.ForeignKey(
        Projet, on_delete=models.CASCADE, related_name="taches", verbose_name=_("project")
    )
    etape = models.ForeignKey(
        Etape,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="taches",
        verbose_name=_("phase"),
    )
    nom = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    responsable = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="taches",
        verbose_name=_("owner"),
    )
    statut = models.CharField(
        _("status"), max_length=20, choices=Statut.choices, default=Statut.A_FAIRE
    )
    priorite = models.CharField(
        _("priority"), max_length=20, choices=Priorite.choices, default=Priorite.NORMALE
    )
    date_echeance = models.DateField(_("due date"), null=True, blank=True)
    date_fin_reelle = models.DateField(_("completed on"), null=True, blank=True)
    date_creation = models.DateTimeField(_("created"), auto_now_add=True)
    date_modification = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        ordering = ["date_echeance", "nom"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            # Serves the deadline scan (services.deadlines) and the summary:
            # open tasks WHERE date_echeance <= today + N.
            models.Index(
                fields=["date_echeance"],
                condition=Q(statut__in=["A_FAIRE", "EN_COURS", "BLOQUEE"])
                & Q(date_echeance__isnull=False),
                name="tache_open_due_idx",
            ),
            # Serves "my tasks" (dashboard): WHERE responsable_id = ? AND statut IN (...).
            models.Index(fields=["responsable", "statut"], name="tache_responsable_statut_idx"),
            # Serves the project page and health figures: WHERE projet_id = ? by statut.
            models.Index(fields=["projet", "statut"], name="tache_projet_statut_idx"),
        ]

    def __str__(self) -> str:
        return self.nom

    def get_absolute_url(self) -> str:
        return reverse("core:task_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.statut in self.OPEN_STATUTS
