"""The scan is set-based: its number of queries does not grow with the number of tasks.

On PostgreSQL the whole run is a fixed number of queries. On SQLite Django splits
``bulk_create`` into batches of at most 999 parameters (90 alerts per INSERT),
so there only the reads are fixed and the INSERTs grow with the alerts created.
"""

from __future__ import annotations

import math

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
    inserts = sum(1 for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("INSERT"))
    return len(ctx.captured_queries), inserts


def test_query_count_does_not_grow_with_tasks(world: World) -> None:
    _add_due_today(world, 10)
    small_total, small_inserts = _run_queries()
    _add_due_today(world, 990)
    large_total, large_inserts = _run_queries()

    assert NotificationTache.objects.count() == 2000  # owner + lead for each of 1,000 tasks
    assert small_total - small_inserts == large_total - large_inserts  # the reads are fixed
    if connection.vendor == "postgresql":
        assert (small_total, small_inserts) == (large_total, large_inserts)
        assert large_inserts == 1
    else:
        fields = [f for f in NotificationTache._meta.concrete_fields if not f.primary_key]
        per_batch = connection.ops.bulk_batch_size(fields, [None] * 2000)
        assert large_inserts == math.ceil(2000 / per_batch)
