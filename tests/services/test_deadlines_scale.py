"""The engine is set-based: its number of queries does not grow with the number of tasks.

Two reads and one prepared INSERT per alert type, run with ``executemany`` (which
Django records as one query), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import NotificationTache, Tache
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY, World


def _add_due_today(world: World, count: int) -> None:
    Tache.objects.bulk_create(
        Tache(projet=world.projet, nom=f"T{i}", responsable=world.bob, date_echeance=TODAY)
        for i in range(count)
    )


def _run_queries() -> tuple[int, int]:
    """(all queries, INSERT queries) of one run of the engine."""
    NotificationTache.objects.all().delete()
    with CaptureQueriesContext(connection) as ctx:
        create_deadline_alerts(today=TODAY)
    # executemany is logged as "<n> times: INSERT ...".
    inserts = sum(1 for q in ctx.captured_queries if "INSERT INTO" in q["sql"].upper())
    return len(ctx.captured_queries), inserts


def test_query_count_does_not_grow_with_tasks(world: World) -> None:
    _add_due_today(world, 10)
    small_total, small_inserts = _run_queries()
    _add_due_today(world, 990)
    large_total, large_inserts = _run_queries()

    assert NotificationTache.objects.count() == 2000  # owner + lead for each of 1,000 tasks
    assert (small_total, small_inserts) == (large_total, large_inserts)
    assert large_inserts == 1  # one prepared INSERT per alert type (here: due today only)
