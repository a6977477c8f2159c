"""A task's history, newest first, and its slipped due dates.

A history can be long (every update of every member), so nothing reads it whole:
the task page shows the latest ``HISTORY_PREVIEW`` entries and the counts, the
history page one page of ``HISTORY_PAGE_SIZE`` at a time; both are served by the
index ``historique_tache_date_idx``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from core.models import HistoriqueTache, Tache, User

HISTORY_PREVIEW = 20
HISTORY_PAGE_SIZE = 50


@dataclass(frozen=True)
class HistoryPreview:
    """The latest entries of a task's history and what the whole history counts."""

    latest: list[HistoriqueTache]
    total: int
    slips: int

    @property
    def has_more(self) -> bool:
        return self.total > len(self.latest)


def task_history(*, tache: Tache) -> QuerySet[HistoriqueTache]:
    """Every recorded change of ``tache`` with its people, newest first (lazy:
    slice it or page it)."""
    return (
        HistoriqueTache.objects.filter(tache=tache)
        .select_related("auteur", "ancien_responsable", "nouveau_responsable")
        .order_by("-date", "-id")
    )


def history_preview(*, tache: Tache, limit: int = HISTORY_PREVIEW) -> HistoryPreview:
    """The task page's history: two queries whatever its length (the counts, then
    the latest ``limit`` entries)."""
    counts = (
        HistoriqueTache.objects.filter(tache=tache)
        .order_by()
        .aggregate(total=Count("id"), slips=Count("id", filter=HistoriqueTache.SLIP))
    )
    latest = list(task_history(tache=tache)[:limit])
    return HistoryPreview(latest=latest, total=counts["total"], slips=counts["slips"])


@dataclass(frozen=True)
class RecentEntries:
    """How many history entries one author wrote lately: on one task, on all."""

    on_task: int
    on_all: int


def recent_entries(
    *, author: User, tache_id: int, task_since: datetime.datetime, all_since: datetime.datetime
) -> RecentEntries:
    """The author's entries since ``task_since`` on the task and since
    ``all_since`` on every task (``all_since`` is the earlier): one COUNT on the
    index historique_auteur_date_idx. A task's creation entry is not counted."""
    counts = (
        HistoriqueTache.objects.filter(auteur=author, date__gte=all_since)
        .exclude(champ=HistoriqueTache.Champ.CREATION)
        .order_by()
        .aggregate(
            on_all=Count("id"),
            on_task=Count("id", filter=Q(tache_id=tache_id, date__gte=task_since)),
        )
    )
    return RecentEntries(on_task=counts["on_task"], on_all=counts["on_all"])


def slip_count(*, tache_ref: str = "pk") -> Coalesce:
    """A subquery expression: how many times the referenced task's due date was
    pushed back. Annotate a queryset of tasks with it (``tache_ref`` names the
    task's id in the outer query)."""
    slips = (
        HistoriqueTache.objects.filter(HistoriqueTache.SLIP, tache_id=OuterRef(tache_ref))
        .order_by()
        .values("tache_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(slips, output_field=IntegerField()), 0)


# The entry that blocked a task: its reason and its date are the blockage's.
BLOCKING = Q(champ=HistoriqueTache.Champ.STATUT, nouveau_statut=Tache.Statut.BLOQUEE)


def blockage_reason(*, tache: Tache) -> str:
    """Why ``tache`` was last blocked (its latest blocking entry's reason)."""
    entry = HistoriqueTache.objects.filter(BLOCKING, tache=tache).order_by("-date", "-id").first()
    return entry.motif if entry else ""


def last_entry(column: str, condition: Q, *, tache_ref: str = "pk") -> Subquery:
    """A subquery expression: ``column`` of the referenced task's latest history
    entry matching ``condition`` (the reason of its blockage, of its last slip)."""
    entries = HistoriqueTache.objects.filter(condition, tache_id=OuterRef(tache_ref))
    return Subquery(entries.order_by("-date", "-id").values(column)[:1])
