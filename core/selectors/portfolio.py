"""The DSI's portfolio: every project with its health, slips and late-task trend.

A fixed number of queries whatever the number of projects and tasks: a page of
projects with their counts in one aggregate, the slipped due dates of that page in
one more, their weekly late counts in a third, and the totals in a fourth.

The trend is the number of tasks late at the end of each of the last weeks, as the
tasks' history tells it: status and due date of the time (a task done then
re-opened was not late while done; a slipped one was late by its old date).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    Field,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models import HistoriqueTache, Projet, Tache, User

TREND_WEEKS = 8
CSV_CHUNK = 500
OPEN = Tache.open_filter()
ONE_DAY = datetime.timedelta(days=1)
Champ = HistoriqueTache.Champ
Statut = Tache.Statut


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
    """The ends of the last TREND_WEEKS weeks, oldest first: today and the same
    weekday before (the last measure is today's late count)."""
    return [today - datetime.timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]


# "No due date" at a moment of the past: a date no day is ever after.
NO_DUE_DATE = datetime.date.max
_STATUS_ROWS = (Champ.CREATION, Champ.STATUT)
_DUE_ROWS = (Champ.CREATION, Champ.ECHEANCE)


def _end_of(day: datetime.date) -> datetime.datetime:
    """The first moment after ``day``, in the site's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min)) + ONE_DAY


def _history(champs: tuple[str, ...]) -> QuerySet[HistoriqueTache]:
    return HistoriqueTache.objects.filter(tache=OuterRef("pk"), champ__in=champs)


def _as_of(end: datetime.datetime, *, champs: tuple[str, ...], new: Any, old: Any) -> list[Any]:
    """A tracked field's value at ``end`` from the history, as two subqueries: the
    newest change before ``end`` gives its new value, else the first change after
    it gives its old one (a task whose first rows are missing)."""
    before = _history(champs).filter(date__lt=end).order_by("-date", "-id")
    after = _history(champs[1:]).filter(date__gte=end).order_by("date", "id")
    return [Subquery(before.values(value=new)[:1]), Subquery(after.values(value=old)[:1])]


def status_on(day: datetime.date) -> Case:
    """A task's status at the end of ``day``: from its history, else (no history at
    all) its status now, a completed task counting as open before its completion."""
    now = Case(
        When(statut=Tache.Statut.TERMINEE, date_fin_reelle__gt=day, then=Value(Statut.A_FAIRE)),
        default=F("statut"),
    )
    changes = _as_of(
        _end_of(day), champs=_STATUS_ROWS, new=F("nouveau_statut"), old=F("ancien_statut")
    )
    return _unless_recent(Coalesce(*changes, now), now, output_field=CharField())


def due_on(day: datetime.date) -> Case:
    """A task's due date at the end of ``day``: from its history, else today's."""
    never = Value(NO_DUE_DATE)
    changes = _as_of(
        _end_of(day),
        champs=_DUE_ROWS,
        new=Coalesce("nouvelle_echeance", never),
        old=Coalesce("ancienne_echeance", never),
    )
    now = F("date_echeance")
    return _unless_recent(Coalesce(*changes, now), now, output_field=DateField())


def _unless_recent(from_history: Any, now: Any, *, output_field: Field[Any, Any]) -> Case:
    """``from_history`` for a task changed during the trend's weeks, else ``now``: a
    task unchanged since before them had its present status and due date all along
    (the subqueries run for the changed tasks only)."""
    return Case(When(recent=True, then=from_history), default=now, output_field=output_field)


def created_at() -> Coalesce:
    """When a task was created: its history's creation row, else its own timestamp
    (tasks imported with a history older than their row)."""
    creation = HistoriqueTache.objects.filter(tache=OuterRef("pk"), champ=Champ.CREATION)
    return Coalesce(Subquery(creation.values("date")[:1]), F("date_creation"))


def with_history(taches: QuerySet[Tache], *, today: datetime.date) -> QuerySet[Tache]:
    """Annotate each task's creation, and its status and due date at the end of each
    week of the trend (``status_<n>``, ``due_<n>``)."""
    weeks = list(enumerate(trend_days(today=today)))
    first_end = _end_of(weeks[0][1])
    changes = HistoriqueTache.objects.filter(
        tache=OuterRef("pk"), champ__in=_STATUS_ROWS + _DUE_ROWS, date__gte=first_end
    )
    return taches.annotate(
        recent=Exists(changes),
        created=created_at(),
        **{f"status_{n}": status_on(day) for n, day in weeks},
        **{f"due_{n}": due_on(day) for n, day in weeks},
    )


def late_on(n: int, day: datetime.date) -> Q:
    """Tasks late at the end of ``day``, the trend's n-th: created by then, open then
    and due before it then, as their history tells (a slipped task counts by its
    date of the time, a task done and re-opened by its status of the time)."""
    return Q(
        created__lt=_end_of(day),
        **{f"status_{n}__in": Tache.OPEN_STATUTS, f"due_{n}__lt": day},
    )


def _weekly_late(*, today: datetime.date) -> dict[str, Count]:
    return {
        f"late_{n}": Count("pk", filter=late_on(n, day))
        for n, day in enumerate(trend_days(today=today))
    }


def trends(projet_ids: list[int], *, today: datetime.date) -> dict[int, list[int]]:
    """Late tasks per week of each project: one aggregate over their tasks."""
    weekly = _weekly_late(today=today)
    rows = (
        with_history(Tache.objects.filter(projet_id__in=projet_ids), today=today)
        .order_by()
        .values("projet_id")
        .annotate(**weekly)
        .values_list("projet_id", *weekly)
    )
    return {projet_id: counts for projet_id, *counts in rows}


def filtered_projects(*, filters: PortfolioFilters) -> QuerySet[Projet]:
    projets = Projet.objects.all()
    if filters.lead_id is not None:
        projets = projets.filter(chef_de_projet_id=filters.lead_id)
    if filters.statut:
        projets = projets.filter(statut=filters.statut)
    return projets


def portfolio_projects(*, today: datetime.date, filters: PortfolioFilters) -> QuerySet[Projet]:
    """Projects with their counts (open, late, due today), the most late first;
    slips and trends come from ``portfolio_rows``."""
    open_tasks = Tache.open_filter("taches__")
    return (
        filtered_projects(filters=filters)
        .select_related("chef_de_projet")
        .annotate(
            open_count=Count("taches", filter=open_tasks),
            late_count=Count("taches", filter=open_tasks & Q(taches__date_echeance__lt=today)),
            due_today_count=Count("taches", filter=open_tasks & Q(taches__date_echeance=today)),
        )
        .order_by("-late_count", "nom", "pk")
    )


def portfolio_rows(projets: list[Projet], *, today: datetime.date) -> list[PortfolioRow]:
    """Rows for annotated ``projets``, with their slipped due dates and their
    trends: two queries."""
    slips = dict(
        HistoriqueTache.objects.filter(HistoriqueTache.SLIP, tache__projet__in=projets)
        .order_by()
        .values_list("tache__projet_id")
        .annotate(n=Count("id"))
        .values_list("tache__projet_id", "n")
    )
    weekly = trends([projet.pk for projet in projets], today=today)
    return [
        PortfolioRow(
            projet=projet,
            open_count=projet.open_count,  # type: ignore[attr-defined]
            late_count=projet.late_count,  # type: ignore[attr-defined]
            due_today_count=projet.due_today_count,  # type: ignore[attr-defined]
            slip_count=slips.get(projet.pk, 0),
            trend=weekly.get(projet.pk, [0] * TREND_WEEKS),
        )
        for projet in projets
    ]


def all_rows(*, today: datetime.date, filters: PortfolioFilters) -> Iterator[PortfolioRow]:
    """Every row, a chunk at a time (the CSV export): memory stays flat."""
    projets = portfolio_projects(today=today, filters=filters)
    start = 0
    while chunk := list(projets[start : start + CSV_CHUNK]):
        yield from portfolio_rows(chunk, today=today)
        start += CSV_CHUNK


def portfolio_totals(*, today: datetime.date, filters: PortfolioFilters) -> PortfolioTotals:
    """The whole filtered portfolio's figures and trend, in one aggregate."""
    projets = filtered_projects(filters=filters)
    figures = with_history(Tache.objects.filter(projet__in=projets), today=today).aggregate(
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


def leads() -> QuerySet[User]:
    """Everyone who leads a project: the choices of the lead filter."""
    return (
        User.objects.filter(projets_diriges__isnull=False)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
