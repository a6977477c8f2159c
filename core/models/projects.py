"""Projects, their members and phases, and their tasks (Tache)."""

from __future__ import annotations

import datetime
from typing import Self

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from core.models.fields import LadderField, NameField, NoteField


class ProjetQuerySet(models.QuerySet["Projet"]):
    def active(self) -> Self:
        """Projects whose tasks raise alerts and appear in summaries."""
        return self.filter(statut__in=Projet.ACTIVE_STATUTS)


# How often a late task's alert repeats (days), as in OpenProject.
REPEAT_CHOICES = [(1, _("every day")), (3, _("every 3 days")), (7, _("every week"))]


class Projet(models.Model):
    class Statut(models.TextChoices):
        PLANIFIE = "PLANIFIE", _("Planned")
        EN_COURS = "EN_COURS", _("In progress")
        SUSPENDU = "SUSPENDU", _("Suspended")
        TERMINE = "TERMINE", _("Finished")
        ARCHIVE = "ARCHIVE", _("Archived")

    # Projects whose tasks raise alerts and appear in summaries.
    ACTIVE_STATUTS = (Statut.PLANIFIE, Statut.EN_COURS)

    nom = NameField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    description = NoteField(_("description"), blank=True, max_length=5000)
    chef_de_projet = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="projets_diriges",
        verbose_name=_("project lead"),
    )
    membres = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="MembreProjet",
        related_name="projets",
        blank=True,
        verbose_name=_("members"),
    )
    statut = models.CharField(
        _("status"), max_length=20, choices=Statut.choices, default=Statut.EN_COURS
    )
    date_debut = models.DateField(_("start date"), null=True, blank=True)
    date_fin_prevue = models.DateField(_("planned end date"), null=True, blank=True)
    date_creation = models.DateTimeField(_("created"), auto_now_add=True)
    date_modification = models.DateTimeField(_("modified"), auto_now=True)

    # The project's alert policy; each empty field follows NotificationDefaults.
    alerte_jours = LadderField(
        _("advance alerts (days before the due date)"),
        null=True,
        blank=True,
        help_text=_("For example 7, 3, 1; 0 for none. Empty: the organisation's default ladder."),
    )
    alerte_chef_aujourdhui = models.BooleanField(
        _("the lead gets due-today alerts"), null=True, blank=True
    )
    alerte_chef_retard = models.BooleanField(_("the lead gets late alerts"), null=True, blank=True)
    retard_repetition_jours = models.PositiveSmallIntegerField(
        _("late alerts repeat every"), null=True, blank=True, choices=REPEAT_CHOICES
    )
    escalade_jours_ouvres = models.PositiveSmallIntegerField(
        _("escalate after (working days late)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Empty: the organisation's default."),
    )
    # The four alert columns as one value, computed by the database: the engine
    # joins its rules on it, one equality the planner estimates from its few
    # distinct values (four nullable comparisons would read as none matching).
    alerte_cle = models.GeneratedField(
        expression=Concat(
            Coalesce("alerte_jours", Value("d")),
            Value("|"),
            Coalesce(Cast("alerte_chef_aujourdhui", models.CharField()), Value("d")),
            Value("|"),
            Coalesce(Cast("alerte_chef_retard", models.CharField()), Value("d")),
            Value("|"),
            Coalesce(Cast("retard_repetition_jours", models.CharField()), Value("d")),
            output_field=models.CharField(),
        ),
        output_field=models.CharField(max_length=200),
        db_persist=True,
        verbose_name=_("alert policy key"),
    )

    objects = ProjetQuerySet.as_manager()

    class Meta:
        ordering = ["nom"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        # Granted through the "DSI (portefeuille)" group (migration 0008).
        permissions = [("view_portfolio", "Can view the whole portfolio")]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_fin_prevue__isnull=True)
                | Q(date_debut__isnull=True)
                | Q(date_fin_prevue__gte=models.F("date_debut")),
                name="projet_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.nom}"

    def get_absolute_url(self) -> str:
        return reverse("core:project_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.statut in self.ACTIVE_STATUTS


def _today() -> datetime.date:
    return timezone.localdate()


class MembreProjet(models.Model):
    """A user's membership of a project; ``date_fin`` set means they left."""

    class Role(models.TextChoices):
        MEMBRE = "MEMBRE", _("Member")
        REFERENT = "REFERENT", _("Business referent")
        OBSERVATEUR = "OBSERVATEUR", _("Observer")

    projet = models.ForeignKey(
        Projet, on_delete=models.CASCADE, related_name="adhesions", verbose_name=_("project")
    )
    utilisateur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="adhesions",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBRE)
    date_debut = models.DateField(_("joined on"), default=_today)
    date_fin = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("project member")
        verbose_name_plural = _("project members")
        constraints = [
            models.UniqueConstraint(fields=["projet", "utilisateur"], name="membre_projet_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.utilisateur} @ {self.projet.code}"


class Etape(models.Model):
    """A phase of a project, in order."""

    projet = models.ForeignKey(
        Projet, on_delete=models.CASCADE, related_name="etapes", verbose_name=_("project")
    )
    nom = NameField(_("name"), max_length=200)
    ordre = models.PositiveSmallIntegerField(_("order"))
    date_debut_prevue = models.DateField(_("planned start"), null=True, blank=True)
    date_fin_prevue = models.DateField(_("planned end"), null=True, blank=True)

    class Meta:
        ordering = ["projet", "ordre"]
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        constraints = [
            models.UniqueConstraint(fields=["projet", "ordre"], name="etape_ordre_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.ordre}. {self.nom}"


class TacheQuerySet(models.QuerySet["Tache"]):
    """The rules "open task" and "open task of an active project" (the one that
    alerts), defined once. The deadline engine writes the second in raw SQL: pinned
    to ``alerting`` by tests/services/test_open_rule_agrees.py."""

    def open(self) -> Self:
        return self.filter(Tache.open_filter())

    def in_active_projects(self) -> Self:
        return self.filter(Tache.active_project_filter())

    def alerting(self) -> Self:
        return self.filter(Tache.alerting_filter())


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
    nom = NameField(_("name"), max_length=200)
    description = NoteField(_("description"), blank=True, max_length=5000)
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
    avancement = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    date_fin_reelle = models.DateField(_("completed on"), null=True, blank=True)
    date_creation = models.DateTimeField(_("created"), auto_now_add=True)
    date_modification = models.DateTimeField(_("modified"), auto_now=True)
    # The owner's snooze of the advance alerts (never of the late ones, nor the lead's).
    report_alertes_jusqu_au = models.DateField(
        _("advance alerts snoozed until"), null=True, blank=True
    )
    report_motif = NoteField(_("snooze reason"), blank=True, max_length=1000)
    report_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("snoozed by"),
    )

    objects = TacheQuerySet.as_manager()

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
        constraints = [
            models.CheckConstraint(condition=Q(avancement__lte=100), name="tache_avancement_max"),
        ]

    def __str__(self) -> str:
        return self.nom

    def get_absolute_url(self) -> str:
        return reverse("core:task_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.statut in self.OPEN_STATUTS

    @staticmethod
    def open_filter(prefix: str = "") -> Q:
        """Open tasks, as a filter; ``prefix`` reaches them through a relation
        (``"taches__"`` from a project) for counts and annotations."""
        return Q(**{f"{prefix}statut__in": Tache.OPEN_STATUTS})

    @staticmethod
    def active_project_filter(prefix: str = "") -> Q:
        return Q(**{f"{prefix}projet__statut__in": Projet.ACTIVE_STATUTS})

    @staticmethod
    def alerting_filter(prefix: str = "") -> Q:
        """Open tasks of active projects: the tasks that raise alerts."""
        return Tache.open_filter(prefix) & Tache.active_project_filter(prefix)

    def schedule_warnings(self) -> list[str]:
        """Why the due date looks wrong for its phase or project: said, never enforced.

        A date outside the plan is information for the lead, not a reason to refuse
        closing or re-opening the task (needs ``etape`` and ``projet`` loaded).
        """
        due = self.date_echeance
        if due is None:
            return []
        bounds = [
            (self.projet.date_debut, -1, _("The due date is before the project start (%(date)s).")),
            (
                self.projet.date_fin_prevue,
                1,
                _("The due date is after the project end (%(date)s)."),
            ),
        ]
        if self.etape is not None:
            bounds += [
                (
                    self.etape.date_debut_prevue,
                    -1,
                    _("The due date is before the start of the phase “%(phase)s” (%(date)s)."),
                ),
                (
                    self.etape.date_fin_prevue,
                    1,
                    _("The due date is after the end of the phase “%(phase)s” (%(date)s)."),
                ),
            ]
        return [
            str(message)
            % {
                "date": formats.date_format(limit, "SHORT_DATE_FORMAT"),
                "phase": self.etape.nom if self.etape else "",
            }
            for limit, side, message in bounds
            if limit is not None and (due - limit).days * side > 0
        ]
