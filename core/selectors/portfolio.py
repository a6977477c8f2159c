"""The DSI's portfolio: every project with its health, slips and late-task trend.

A page costs the same at 5,000 projects as at 50: it reads the stored figures
(``ChiffresProjet``, one row per project, kept by ``core.services.portfolio_figures``)
in the filters' order, the trend of its projects from the stored daily points
(``TendanceProjet``) in one more query, and the totals of the whole filtered
portfolio in two aggregates over the same tables. Callers refresh stale rows
first (``portfolio_figures.ensure_fresh``): the morning run keeps them fresh.

The trend is the number of tasks late at the end of each of the last weeks, as the
tasks' history tells it: status and due date of the time (a task done then
re-opened was not late while done; a slipped one was late by its old date). Its
last point is today's late count; the past ones are written from the history
(``late_on``) once each, when the trend first needs them.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import timezone

from core.models import ChiffresProjet, HistoriqueTache, Projet, Tache, TendanceProjet

TREND_WEEKS = 8
CSV_CHUNK = 500
OPEN_STATUTS = list(Tache.OPEN_STATUTS)
ONE_DAY = datetime.timedelta(days=1)
Champ = HistoriqueTache.Champ
Statut = Tache.Statut


# The portfolio's orders: the most late first (the default), the most slipped
# first, by lead, by name; each ends on the name and id, so pages never overlap.
SORTS = {
    "retard": ("-late_count", "nom", "pk"),
    "glissements": ("-slip_count", "-late_count", "nom", "pk"),
    "chef": ("chef_de_projet__last_name", "chef_de_projet__first_name", "nom", "pk"),
    "nom": ("nom", "pk"),
}
DEFAULT_SORT = "retard"
# The stored counts of a project (ChiffresProjet), as PortfolioRow names them.
FIGURES = ("open_count", "late_count", "due_today_count", "slip_count")


@dataclass(frozen=True)
class PortfolioFilters:
    lead_id: int | None = None
    statut: str = ""
    sort: str = DEFAULT_SORT


@dataclass(frozen=True)
class PortfolioRow:
    projet: Projet
    open_count: int
    late_count: int
    due_today_count: int
    slip_count: int
    trend: list[int]  # late tasks at the end of each of the last weeks, oldest first


@dataclass(frozen=True)
class PortfolioTotals:
    open_count: int
    late_count: int
    due_today_count: int
    trend: list[int]
    slip_count: int = 0


def trend_days(*, today: datetime.date) -> list[datetime.date]:
    """The ends of the last TREND_WEEKS weeks, oldest first: today and the same
    weekday before (the last measure is today's late count)."""
    return [today - datetime.timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]


TRACKED = (Champ.CREATION, Champ.STATUT, Champ.ECHEANCE)


def _end_of(day: datetime.date) -> datetime.datetime:
    """The first moment after ``day``, in the site's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min)) + ONE_DAY


def _flag(condition: Any) -> Case:
    """1 where ``condition`` holds, else 0."""
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _changed_since(end: datetime.datetime, delta: Any) -> Subquery:
    """The sum of ``delta`` over a task's changes from ``end`` on; None if none."""
    changes = HistoriqueTache.objects.filter(
        tache=OuterRef("pk"), champ__in=TRACKED, date__gte=end
    ).order_by()
    total = changes.values("tache").annotate(total=Sum(delta)).values("total")
    return Subquery(total[:1], output_field=IntegerField())


def late_on(day: datetime.date) -> Case:
    """Whether a task was late at the end of ``day`` (1 or 0): created by then, and
    open and past due then, worked back from today through its history since.

    Each status change since adds 1 to "was open" if it closed the task, takes 1
    away if it opened it (its creation included); each due date change likewise for
    "was past due". The sums telescope to the state of the time, read from the
    task's recent history only (usually empty), however long its whole history.
    A task with no change since counts by its status and due date of today, a
    completed one without history as open until its completion date.
    """
    end = _end_of(day)
    status_rows = Q(champ__in=(Champ.CREATION, Champ.STATUT))
    opened = _flag(status_rows & Q(nouveau_statut__in=OPEN_STATUTS)) - _flag(
        status_rows & Q(ancien_statut__in=OPEN_STATUTS)
    )
    due_rows = Q(champ=Champ.ECHEANCE)
    overdue = _flag(due_rows & Q(nouvelle_echeance__lt=day)) - _flag(
        due_rows & Q(ancienne_echeance__lt=day)
    )
    open_now = _flag(Q(statut__in=OPEN_STATUTS))
    open_without_history = _flag(
        Q(statut__in=OPEN_STATUTS) | Q(statut=Statut.TERMINEE, date_fin_reelle__gt=day)
    )
    late_now = _flag(Q(date_echeance__lt=day) & Q(Exact(open_without_history, 1)))
    was_open = Coalesce(open_now - _changed_since(end, opened), open_without_history)
    was_overdue = _flag(Q(date_echeance__lt=day)) - Coalesce(_changed_since(end, overdue), 0)
    return Case(
        When(date_creation__gte=end, then=Value(0)),
        # Not saved since: no change to undo (every change saves the task), and no
        # subquery for the tasks nobody touched in weeks.
        When(date_modification__lt=end, then=late_now),
        When(Q(Exact(was_open, 1), Exact(was_overdue, 1)), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def history_late_counts(*, day: datetime.date) -> dict[int, int]:
    """Each project's tasks late at the end of ``day``, from their history: one
    aggregate over every task (the source of the stored trend points)."""
    rows = (
        Tache.objects.order_by()
        .values("projet_id")
        .annotate(late=Coalesce(Sum(late_on(day)), 0))
        .values_list("projet_id", "late")
    )
    return dict(rows)


def history_trends(projet_ids: list[int], *, today: datetime.date) -> dict[int, list[int]]:
    """Late tasks per week of each project computed from the history alone, in one
    aggregate (what the stored points hold; the tests compare the two)."""
    weekly = {
        f"late_{n}": Coalesce(Sum(late_on(day)), 0) for n, day in enumerate(trend_days(today=today))
    }
    rows = (
        Tache.objects.filter(projet_id__in=projet_ids)
        .order_by()
        .values("projet_id")
        .annotate(**weekly)
        .values_list("projet_id", *weekly)
    )
    return {projet_id: counts for projet_id, *counts in rows}


def stale_projects(*, today: datetime.date) -> QuerySet[Projet, int]:
    """The ids of the projects whose figures are missing or not of ``today``."""
    stale = Q(chiffres__isnull=True) | ~Q(chiffres__computed_on=today)
    return Projet.objects.filter(stale).order_by("pk").values_list("pk", flat=True)


def _filter(filters: PortfolioFilters, prefix: str = "") -> Q:
    condition = Q()
    if filters.lead_id is not None:
        condition &= Q(**{f"{prefix}chef_de_projet_id": filters.lead_id})
    if filters.statut:
        condition &= Q(**{f"{prefix}statut": filters.statut})
    return condition


def filtered_projects(*, filters: PortfolioFilters) -> QuerySet[Projet]:
    return Projet.objects.filter(_filter(filters))


def portfolio_projects(*, today: datetime.date, filters: PortfolioFilters) -> QuerySet[Projet]:
    """Projects with their stored counts (open, late, due today, slips) and the
    stored points of their trend's past weeks, in the filters' order (the most late
    first by default): one query for a page, whatever the size of the portfolio."""
    past = {
        f"late_{n}": Subquery(
            TendanceProjet.objects.filter(projet=OuterRef("pk"), jour=day).values("late_count")[:1]
        )
        for n, day in enumerate(trend_days(today=today)[:-1])
    }
    projets = (
        filtered_projects(filters=filters)
        .select_related("chef_de_projet")
        .annotate(**{name: F(f"chiffres__{name}") for name in FIGURES}, **past)
    )
    return projets.order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT]))


def _figure(projet: Projet, name: str) -> int:
    return getattr(projet, name, None) or 0


def portfolio_rows(projets: list[Projet], *, today: datetime.date) -> list[PortfolioRow]:
    """Rows for ``projets`` as ``portfolio_projects`` annotates them (no query):
    the trend's last point is today's late count."""
    weeks = range(TREND_WEEKS - 1)
    return [
        PortfolioRow(
            projet=projet,
            open_count=_figure(projet, "open_count"),
            late_count=_figure(projet, "late_count"),
            due_today_count=_figure(projet, "due_today_count"),
            slip_count=_figure(projet, "slip_count"),
            trend=[_figure(projet, f"late_{n}") for n in weeks] + [_figure(projet, "late_count")],
        )
        for projet in projets
    ]


def all_rows(*, today: datetime.date, filters: PortfolioFilters) -> Iterator[PortfolioRow]:
    """Every row, a chunk at a time (the CSV export): memory stays flat, and the
    stored figures and trend points are one query read as it streams."""
    projets = portfolio_projects(today=today, filters=filters).iterator(chunk_size=CSV_CHUNK)
    while chunk := list(itertools.islice(projets, CSV_CHUNK)):
        yield from portfolio_rows(chunk, today=today)


def portfolio_totals(*, today: datetime.date, filters: PortfolioFilters) -> PortfolioTotals:
    """The whole filtered portfolio's figures in one aggregate over the stored
    figures, and its trend in one over the stored points."""
    figures = ChiffresProjet.objects.filter(_filter(filters, "projet__")).aggregate(
        **{name: Coalesce(Sum(name), 0) for name in FIGURES}
    )
    days = trend_days(today=today)[:-1]
    points = (
        TendanceProjet.objects.filter(_filter(filters, "projet__"), jour__in=days)
        .order_by()
        .values("jour")
        .annotate(late=Sum("late_count"))
        .values_list("jour", "late")
    )
    past = dict(points)
    return PortfolioTotals(
        trend=[past.get(day, 0) for day in days] + [figures["late_count"]], **figures
    )
