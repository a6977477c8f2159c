"""A task's history, newest first, and its slipped due dates."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from core.models import HistoriqueTache, Tache


def task_history(*, tache: Tache) -> list[HistoriqueTache]:
    """Every recorded change of ``tache`` with its people: one query."""
    return list(
        HistoriqueTache.objects.filter(tache=tache)
        .select_related("auteur", "ancien_responsable", "nouveau_responsable")
        .order_by("-date", "-id")
    )


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
