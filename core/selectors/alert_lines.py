"""The lines a message lists: per recipient (an email, a channel), its most
urgent notifications up to a limit and how many there are in all, computed by
the database in one query (a window per recipient), whatever their number."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, F, QuerySet
from django.db.models.expressions import Window
from django.db.models.functions import Coalesce, RowNumber

from core.models import NotificationTache

# What a phase's or a project's alert is about has no task: its project all the same.
PROJECT_NAME = Coalesce("tache__projet__nom", "etape__projet__nom", "projet__nom")
PROJECT_ID = Coalesce("tache__projet_id", "etape__projet_id", "projet_id")
# The name it is annotated under (one expression, once: the window's outer query
# would merge two equal ones into a single column).
PROJECT = "subject_project_id"


def ranked_lines(
    notifications: QuerySet[NotificationTache],
    *,
    partition: str,
    order: list[Any],
    limit: int,
) -> tuple[dict[Any, list[dict[str, Any]]], dict[Any, int]]:
    """Per value of ``partition`` (a field, through relations, or ``PROJECT``: the
    project the notification is about): its first ``limit`` notifications in
    ``order`` (dicts of their fields), and its total."""
    rows = (
        notifications.annotate(**{PROJECT: PROJECT_ID})
        .annotate(
            rank=Window(RowNumber(), partition_by=[F(partition)], order_by=order),
            total=Window(Count("id"), partition_by=[F(partition)]),
        )
        .filter(rank__lte=limit)
        .order_by(partition, "rank")
        .values(
            partition,
            "total",
            "type_notification",
            "titre",
            "message",
            "tache_id",
            "date_echeance",
            "date_alerte",
            PROJECT,
            task=F("tache__nom"),
            project=PROJECT_NAME,
        )
    )
    listed: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    totals: dict[Any, int] = {}
    for row in rows:
        key = row[partition]
        listed[key].append({**row, "project_id": row[PROJECT]})
        totals[key] = row["total"]
    return listed, totals
