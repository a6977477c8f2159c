"""The portfolio's stored figures: each project's counts of the day and its daily
late counts, so that the portfolio reads a page of projects without counting their
tasks (``core.services.portfolio_figures`` writes them, ``core.selectors.portfolio``
reads them)."""

from __future__ import annotations

from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from core.models.projects import Projet


class ChiffresProjet(models.Model):
    """A project's task counts as of ``computed_on``: refreshed for every project
    by the morning run (the late and due-today counts change with the day) and for
    one project in the transaction of any write that changes a task's status, due
    date or project. A row older than today is refreshed before it is read."""

    projet = models.OneToOneField(
        Projet,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="chiffres",
        verbose_name=_("project"),
    )
    open_count = models.PositiveIntegerField(_("open tasks"), default=0)
    late_count = models.PositiveIntegerField(_("late tasks"), default=0)
    due_today_count = models.PositiveIntegerField(_("due today"), default=0)
    slip_count = models.PositiveIntegerField(_("slipped due dates"), default=0)
    computed_on = models.DateField(_("computed on"), null=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("project figures")
        verbose_name_plural = _("project figures")
        indexes = [
            # Serve the portfolio's orders (core.selectors.portfolio.SORTS): the most
            # late first, the most slipped first; the name breaks ties in the join.
            models.Index(F("late_count").desc(), name="chiffres_retard_idx"),
            models.Index(
                F("slip_count").desc(), F("late_count").desc(), name="chiffres_glissements_idx"
            ),
            # Serves the check for stale rows before a read (computed_on < today).
            models.Index(fields=["computed_on"], name="chiffres_computed_on_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.projet_id} {self.computed_on}"


class TendanceProjet(models.Model):
    """A project's late tasks at the end of ``jour``, as the tasks' history tells it
    (``core.selectors.portfolio.late_on``): written once, the first time the
    portfolio's trend needs that day (a week after it), and never changed, since
    the history of a past day does not change."""

    projet = models.ForeignKey(
        Projet, on_delete=models.CASCADE, related_name="tendances", verbose_name=_("project")
    )
    jour = models.DateField(_("day"))
    late_count = models.PositiveIntegerField(_("late tasks"))

    class Meta:
        verbose_name = _("project trend point")
        verbose_name_plural = _("project trend points")
        constraints = [
            # One point per project and day (insert-or-ignore), and the index that
            # serves the page's trend: WHERE projet_id IN (...) AND jour IN (...).
            models.UniqueConstraint(fields=["projet", "jour"], name="tendance_projet_jour_uniq"),
        ]
        indexes = [
            # Serves "is this day written?" and the totals' trend (by jour), and the
            # pruning of the days the trend no longer shows.
            models.Index(fields=["jour"], name="tendance_jour_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.projet_id} {self.jour} {self.late_count}"
