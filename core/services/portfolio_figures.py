"""The portfolio's stored figures (``ChiffresProjet``, ``TendanceProjet``), kept
so that a page of the portfolio costs the same at 5,000 projects as at 50.

- Each project's counts (open, late, due today, slipped due dates) are computed
  in the database, for every project in one statement by the morning run (the late
  and due-today counts change with the day), and for the projects of a write in
  the write's own transaction (``refresh_projects``: a task created, its status,
  due date or project changed, tasks imported or deleted). In the transaction
  rather than after the commit: the figures can never miss a committed write, nor
  show a rolled-back one, and the tests' transactions see them.
- Two writers of one project's tasks must not leave the figures of the first:
  each locks the project's figures row first (its own statement), then counts in
  the next statement, whose snapshot sees every write committed before the lock
  was granted. The rows are locked in the order of the project ids, and nothing
  that locks a figures row then waits for a task, so this never deadlocks.
- A row not of today (the morning run has not run yet, or a project without a
  row) is refreshed by ``ensure_fresh`` before a page or an export reads it: one
  query when every row is fresh. ``computed_on`` is the day of the row's last
  count by the morning run (or the read standing in for it), which writes the
  trend's points first; a write's recount keeps it.
- The trend's past days are written once, from the tasks' history (the true
  trend, ``core.selectors.portfolio.late_on``), the first time the trend needs
  them, a week after the day: the first run backfills the last weeks.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from core.models import ChiffresProjet, HistoriqueTache, Projet, Tache, TendanceProjet
from core.selectors import portfolio

COLUMNS = ("open_count", "late_count", "due_today_count", "slip_count")
# Past this many stale rows, refreshing them all is one plain statement.
STALE_AS_ALL = 500
SNAPSHOT_BATCH = 2000


@dataclass(frozen=True)
class FiguresRun:
    """What the morning refresh did: rows refreshed, trend days written."""

    projects: int
    trend_days: int


def refresh_all(*, today: datetime.date | None = None) -> int:
    """Every project's figures of ``today`` (the morning run, after the trend's
    points): two statements."""
    return _refresh(None, today=today or timezone.localdate(), dated=True)


def refresh_projects(
    projet_ids: Iterable[int | None], *, today: datetime.date | None = None
) -> int:
    """The figures of the projects a write touched, in the write's transaction.
    Their ``computed_on`` stays as it was: a row of yesterday still calls for the
    day's refresh before a read, which writes the trend's new point first."""
    ids = sorted({pk for pk in projet_ids if pk is not None})
    return _refresh(ids, today=today or timezone.localdate(), dated=False) if ids else 0


def ensure_fresh(*, today: datetime.date) -> int:
    """Before the portfolio is read: the projects whose row is missing or not of
    ``today`` (the morning run has not run yet) are counted again, after the
    trend's missing points. One query when the morning run has done its work."""
    stale = list(portfolio.stale_projects(today=today)[: STALE_AS_ALL + 1])
    if not stale:
        return 0
    write_trend(today=today)
    return _refresh(None if len(stale) > STALE_AS_ALL else stale, today=today, dated=True)


def write_trend(*, today: datetime.date | None = None) -> int:
    """The late counts of the trend's past days not written yet, each day in one
    aggregate over the tasks' history; returns how many days were written."""
    days = portfolio.trend_days(today=today or timezone.localdate())[:-1]
    stored = TendanceProjet.objects.filter(jour__in=days).order_by().values_list("jour", flat=True)
    written = set(stored.distinct())
    missing = [day for day in days if day not in written]
    for day in missing:
        points = [
            TendanceProjet(projet_id=pk, jour=day, late_count=count)
            for pk, count in portfolio.history_late_counts(day=day).items()
        ]
        TendanceProjet.objects.bulk_create(points, ignore_conflicts=True, batch_size=SNAPSHOT_BATCH)
    return len(missing)


def morning_refresh(*, today: datetime.date) -> FiguresRun:
    """The morning run's part: every project's figures, the trend's new day, and
    the days the trend no longer shows deleted."""
    days = write_trend(today=today)
    projects = refresh_all(today=today)
    oldest = portfolio.trend_days(today=today)[0]
    TendanceProjet.objects.filter(jour__lt=oldest).delete()
    return FiguresRun(projects=projects, trend_days=days)


def _refresh(ids: list[int] | None, *, today: datetime.date, dated: bool) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(*_lock_sql(ids))
        cursor.execute(*_figures_sql(ids, today=today, dated=dated))
        return max(cursor.rowcount, 0)


def _table(model: type[Projet] | type[ChiffresProjet]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _where_ids(ids: list[int] | None, column: str) -> tuple[str, list[Any]]:
    """``column IN (ids)``, or always true; a WHERE clause either way (SQLite reads
    ``INSERT ... SELECT ... FROM t ON CONFLICT`` as a join without one)."""
    if ids is None:
        return "1 = 1", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _lock_sql(ids: list[int] | None) -> tuple[str, list[Any]]:
    """Create the missing rows and lock them all, in the order of the ids."""
    where, params = _where_ids(ids, "p.id")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = (
        # Names from the models and placeholders only: no value is spliced in.
        f"INSERT INTO {_table(ChiffresProjet)} (projet_id, {', '.join(COLUMNS)}, updated_at) "  # noqa: S608
        f"SELECT p.id, 0, 0, 0, 0, %s FROM {_table(Projet)} p WHERE {where} ORDER BY p.id "
        "ON CONFLICT (projet_id) DO UPDATE SET updated_at = excluded.updated_at"
    )
    return sql, [now, *params]


def _figures_sql(
    ids: list[int] | None, *, today: datetime.date, dated: bool
) -> tuple[str, list[Any]]:
    """One INSERT ... SELECT ... ON CONFLICT DO UPDATE: the counts of the open
    tasks and of the slipped due dates per project, with the ORM's own definitions
    of "open" and "slipped" (``Tache.open_filter``, ``HistoriqueTache.SLIP``)."""
    open_sql, open_params = _sql(_open_counts(ids, today=today))
    slips_sql, slips_params = _sql(_slip_counts(ids))
    where, params = _where_ids(ids, "p.id")
    kept = (*COLUMNS, "computed_on", "updated_at") if dated else (*COLUMNS, "updated_at")
    updates = ", ".join(f"{c} = excluded.{c}" for c in kept)
    sql = (
        f"INSERT INTO {_table(ChiffresProjet)} "  # noqa: S608  (names and placeholders)
        f"(projet_id, {', '.join(COLUMNS)}, computed_on, updated_at) "
        "SELECT p.id, COALESCE(o.n_open, 0), COALESCE(o.n_late, 0), COALESCE(o.n_today, 0), "
        "COALESCE(s.n_slips, 0), %s, %s "
        f"FROM {_table(Projet)} p "
        f"LEFT JOIN ({open_sql}) o ON o.projet_id = p.id "
        f"LEFT JOIN ({slips_sql}) s ON s.projet_id = p.id "
        f"WHERE {where} ON CONFLICT (projet_id) DO UPDATE SET {updates}"
    )
    day = connection.ops.adapt_datefield_value(today if dated else None)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return sql, [day, now, *open_params, *slips_params, *params]


def _open_counts(ids: list[int] | None, *, today: datetime.date) -> QuerySet[Any, Any]:
    tasks = Tache.objects.filter(Tache.open_filter())
    if ids is not None:
        tasks = tasks.filter(projet_id__in=ids)
    return (
        tasks.order_by()
        .values("projet_id")
        .annotate(
            n_open=Count("id"),
            n_late=Count("id", filter=Q(date_echeance__lt=today)),
            n_today=Count("id", filter=Q(date_echeance=today)),
        )
    )


def _slip_counts(ids: list[int] | None) -> QuerySet[Any, Any]:
    slips = HistoriqueTache.objects.filter(HistoriqueTache.SLIP)
    if ids is not None:
        slips = slips.filter(tache__projet_id__in=ids)
    return slips.order_by().values(projet_id=F("tache__projet_id")).annotate(n_slips=Count("id"))


def _sql(queryset: QuerySet[Any, Any]) -> tuple[str, list[Any]]:
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql, list(params)
