"""The DSI's portfolio: every project with its health, slips and late-task trend.

A fixed number of queries whatever the number of projects and tasks: a page of
projects with their counts in one aggregate, the slipped due dates and weekly late
counts of that page in one more, and the totals in a third.

The trend is the number of tasks late at the end of each of the last weeks, as the
tasks' history tells it: status and due date of the time (a task done then
re-opened was not late while done; a slipped one was late by its old date).
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
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

from core.models import HistoriqueTache, Projet, Tache

TREND_WEEKS = 8
CSV_CHUNK = 500
OPEN = Tache.open_filter()
OPEN_STATUTS = list(Tache.OPEN_STATUTS)
ONE_DAY = datetime.timedelta(days=1)
Champ = HistoriqueTache.Champ
Statut = Tache.Statut


# The portfolio's orders: the most late first (the default), the most slipped
# first, by lead, by name; each ends on the name and id, so pages never overlap.
SORTS = {
    "retard": ("-late_count", "nom", "pk"),
    "glissements": ("-slip_total", "-late_count", "nom", "pk"),
    "chef": ("chef_de_projet__last_name", "chef_de_projet__first_name", "nom", "pk"),
    "nom": ("nom", "pk"),
}
DEFAULT_SORT = "retard"


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


def _weekly_late(*, today: datetime.date) -> dict[str, Coalesce]:
    return {
        f"late_{n}": Coalesce(Sum(late_on(day)), 0) for n, day in enumerate(trend_days(today=today))
    }


def _slips() -> Subquery:
    """How many times a task's due date was pushed back."""
    slips = HistoriqueTache.objects.filter(HistoriqueTache.SLIP, tache=OuterRef("pk")).order_by()
    count = slips.values("tache").annotate(n=Count("id")).values("n")
    return Subquery(count[:1], output_field=IntegerField())


def history_figures(
    projet_ids: list[int], *, today: datetime.date
) -> dict[int, tuple[int, list[int]]]:
    """Each project's slipped due dates and late tasks per week (oldest first), in
    one aggregate over their tasks."""
    weekly = _weekly_late(today=today)
    rows = (
        Tache.objects.filter(projet_id__in=projet_ids)
        .order_by()
        .values("projet_id")
        .annotate(slips=Coalesce(Sum(_slips()), 0), **weekly)
        .values_list("projet_id", "slips", *weekly)
    )
    return {projet_id: (slips, counts) for projet_id, slips, *counts in rows}


def trends(projet_ids: list[int], *, today: datetime.date) -> dict[int, list[int]]:
    """Late tasks per week of each project."""
    return {pk: weekly for pk, (_slips, weekly) in history_figures(projet_ids, today=today).items()}


def filtered_projects(*, filters: PortfolioFilters) -> QuerySet[Projet]:
    projets = Projet.objects.all()
    if filters.lead_id is not None:
        projets = projets.filter(chef_de_projet_id=filters.lead_id)
    if filters.statut:
        projets = projets.filter(statut=filters.statut)
    return projets


def portfolio_projects(*, today: datetime.date, filters: PortfolioFilters) -> QuerySet[Projet]:
    """Projects with their counts (open, late, due today), in the filters' order
    (the most late first by default); slips and trends come from ``portfolio_rows``."""
    open_tasks = Tache.open_filter("taches__")
    projets = (
        filtered_projects(filters=filters)
        .select_related("chef_de_projet")
        .annotate(
            open_count=Count("taches", filter=open_tasks),
            late_count=Count("taches", filter=open_tasks & Q(taches__date_echeance__lt=today)),
            due_today_count=Count("taches", filter=open_tasks & Q(taches__date_echeance=today)),
        )
    )
    if filters.sort == "glissements":
        projets = projets.annotate(slip_total=Coalesce(_project_slips(), 0))
    return projets.order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT]))


def _project_slips() -> Subquery:
    """How many times the due dates of a project's tasks were pushed back (the
    order "most slipped first", which needs it for every project)."""
    slips = HistoriqueTache.objects.filter(
        HistoriqueTache.SLIP, tache__projet=OuterRef("pk")
    ).order_by()
    count = slips.values("tache__projet").annotate(n=Count("id")).values("n")
    return Subquery(count[:1], output_field=IntegerField())


def portfolio_rows(projets: list[Projet], *, today: datetime.date) -> list[PortfolioRow]:
    """Rows for annotated ``projets``, with their slipped due dates and their
    trends: one query."""
    figures = history_figures([projet.pk for projet in projets], today=today)
    nothing = (0, [0] * TREND_WEEKS)
    return [
        PortfolioRow(
            projet=projet,
            open_count=projet.open_count,  # type: ignore[attr-defined]
            late_count=projet.late_count,  # type: ignore[attr-defined]
            due_today_count=projet.due_today_count,  # type: ignore[attr-defined]
            slip_count=figures.get(projet.pk, nothing)[0],
            trend=figures.get(projet.pk, nothing)[1],
        )
        for projet in projets
    ]


def all_rows(*, today: datetime.date, filters: PortfolioFilters) -> Iterator[PortfolioRow]:
    """Every row, a chunk at a time (the CSV export): memory stays flat, and the
    counts are one aggregate read as it streams (not one per chunk, which grew
    with the square of the number of projects), the history one query per chunk."""
    projets = portfolio_projects(today=today, filters=filters).iterator(chunk_size=CSV_CHUNK)
    while chunk := list(itertools.islice(projets, CSV_CHUNK)):
        yield from portfolio_rows(chunk, today=today)


def portfolio_totals(*, today: datetime.date, filters: PortfolioFilters) -> PortfolioTotals:
    """The whole filtered portfolio's figures and trend, in one aggregate."""
    projets = filtered_projects(filters=filters)
    figures = Tache.objects.filter(projet__in=projets).aggregate(
        open_count=Count("id", filter=OPEN),
        late_count=Count("id", filter=OPEN & Q(date_echeance__lt=today)),
        due_today_count=Count("id", filter=OPEN & Q(date_echeance=today)),
        **_weekly_late(today=today),
    )
    return PortfolioTotals(
        open_count=figures["open_count"],
        late_count=figures["late_count"],
        due_today_count=figures["due_today_count"],
        trend=[figures[f"late_{n}"] for n in range(TREND_WEEKS)],
    )
