"""The DSI's portfolio: every project with its health, slips and late-task trend.

A fixed number of queries whatever the number of projects and tasks: a page of
projects with their counts and weekly late counts in one aggregate, the slipped
due dates of that page in one more, and the totals in a third.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from core.models import HistoriqueTache, Projet, Tache, User

TREND_WEEKS = 8
CSV_CHUNK = 500
OPEN = Tache.open_filter()


@dataclass(frozen=True)
class PortfolioFilters:
    lead_id: int | None = None
    statut: str = ""


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
    """The days the trend is measured on: today and the same weekday before."""
    return [today - datetime.timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]


def late_on(day: datetime.date, *, prefix: str = "") -> Q:
    """Tasks that were late on ``day``, as far as the data tells.

    Due before ``day``, created by then, and either still open or completed after
    it. The due date is today's (a slipped task counts by its newest date), and a
    cancelled or paused task is left out whatever its past.
    """

    def on(**lookups: object) -> Q:
        return Q(**{f"{prefix}{name}": value for name, value in lookups.items()})

    still_open = Tache.open_filter(prefix)
    closed_later = on(statut=Tache.Statut.TERMINEE, date_fin_reelle__gt=day)
    return on(date_echeance__lt=day, date_creation__date__lte=day) & (still_open | closed_later)


def filtered_projects(*, filters: PortfolioFilters) -> QuerySet[Projet]:
    projets = Projet.objects.all()
    if filters.lead_id is not None:
        projets = projets.filter(chef_de_projet_id=filters.lead_id)
    if filters.statut:
        projets = projets.filter(statut=filters.statut)
    return projets


def portfolio_projects(*, today: datetime.date, filters: PortfolioFilters) -> QuerySet[Projet]:
    """Projects with their counts (open, late, due today, late per week), the most
    late first; slips come from ``portfolio_rows``."""
    open_tasks = Tache.open_filter("taches__")
    weekly = {
        f"late_{n}": Count("taches", filter=late_on(day, prefix="taches__"))
        for n, day in enumerate(trend_days(today=today))
    }
    return (
        filtered_projects(filters=filters)
        .select_related("chef_de_projet")
        .annotate(
            open_count=Count("taches", filter=open_tasks),
            late_count=Count("taches", filter=open_tasks & Q(taches__date_echeance__lt=today)),
            due_today_count=Count("taches", filter=open_tasks & Q(taches__date_echeance=today)),
            **weekly,
        )
        .order_by("-late_count", "nom", "pk")
    )


def portfolio_rows(projets: list[Projet]) -> list[PortfolioRow]:
    """Rows for annotated ``projets``, with their slipped due dates: one query."""
    slips = dict(
        HistoriqueTache.objects.filter(HistoriqueTache.SLIP, tache__projet__in=projets)
        .order_by()
        .values_list("tache__projet_id")
        .annotate(n=Count("id"))
        .values_list("tache__projet_id", "n")
    )
    return [
        PortfolioRow(
            projet=projet,
            open_count=projet.open_count,  # type: ignore[attr-defined]
            late_count=projet.late_count,  # type: ignore[attr-defined]
            due_today_count=projet.due_today_count,  # type: ignore[attr-defined]
            slip_count=slips.get(projet.pk, 0),
            trend=[getattr(projet, f"late_{n}") for n in range(TREND_WEEKS)],
        )
        for projet in projets
    ]


def all_rows(*, today: datetime.date, filters: PortfolioFilters) -> Iterator[PortfolioRow]:
    """Every row, a chunk at a time (the CSV export): memory stays flat."""
    projets = portfolio_projects(today=today, filters=filters)
    start = 0
    while chunk := list(projets[start : start + CSV_CHUNK]):
        yield from portfolio_rows(chunk)
        start += CSV_CHUNK


def portfolio_totals(*, today: datetime.date, filters: PortfolioFilters) -> PortfolioTotals:
    """The whole filtered portfolio's figures and trend, in one aggregate."""
    projets = filtered_projects(filters=filters)
    weekly = {
        f"late_{n}": Count("id", filter=late_on(day))
        for n, day in enumerate(trend_days(today=today))
    }
    figures = Tache.objects.filter(projet__in=projets).aggregate(
        open_count=Count("id", filter=OPEN),
        late_count=Count("id", filter=OPEN & Q(date_echeance__lt=today)),
        due_today_count=Count("id", filter=OPEN & Q(date_echeance=today)),
        **weekly,
    )
    return PortfolioTotals(
        open_count=figures["open_count"],
        late_count=figures["late_count"],
        due_today_count=figures["due_today_count"],
        trend=[figures[f"late_{n}"] for n in range(TREND_WEEKS)],
    )


def leads() -> QuerySet[User]:
    """Everyone who leads a project: the choices of the lead filter."""
    return (
        User.objects.filter(projets_diriges__isnull=False)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
