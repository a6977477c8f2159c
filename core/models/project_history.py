"""A project's history: who changed the project, its phases or its members, when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models.fields import NoteField
from core.models.projects import Projet


class HistoriqueProjet(models.Model):
    """One change of a project, of one of its phases or of one of its memberships.

    As for tasks, a row per changed field: ``champ`` names the model field
    (``nom``, ``statut``, ``date_fin_prevue``...), the old and new values are kept
    as stored (a status code, an ISO date, a user's id), and the page shows them
    in the reader's language. ``sujet`` says what the row is about: the project,
    a phase (``etape_nom`` keeps its name after it is deleted) or a member.
    """

    class Action(models.TextChoices):
        CREATION = "CREATION", _("Created")
        MODIFICATION = "MODIFICATION", _("Changed")
        SUPPRESSION = "SUPPRESSION", _("Deleted")
        PASSATION = "PASSATION", _("Handed over")
        AJOUT_MEMBRE = "AJOUT_MEMBRE", _("Member added")
        RETRAIT_MEMBRE = "RETRAIT_MEMBRE", _("Member removed")

    class Sujet(models.TextChoices):
        PROJET = "PROJET", _("Project")
        ETAPE = "ETAPE", _("Phase")
        MEMBRE = "MEMBRE", _("Member")

    projet = models.ForeignKey(
        Projet, on_delete=models.CASCADE, related_name="historique", verbose_name=_("project")
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
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    sujet = models.CharField(
        _("subject"), max_length=10, choices=Sujet.choices, default=Sujet.PROJET
    )
    etape = models.ForeignKey(
        "core.Etape",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("phase"),
    )
    etape_nom = models.CharField(_("phase name"), max_length=200, blank=True)
    membre = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member"),
    )
    champ = models.CharField(_("field"), max_length=40, blank=True)
    ancienne_valeur = models.CharField(_("old value"), max_length=200, blank=True)
    nouvelle_valeur = models.CharField(_("new value"), max_length=200, blank=True)
    motif = NoteField(_("reason or comment"), blank=True, max_length=1000)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("project history entry")
        verbose_name_plural = _("project history")
        indexes = [
            models.Index(fields=["projet", "-date"], name="historique_projet_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.projet_id} {self.action} {self.champ} {self.date:%Y-%m-%d %H:%M}"
