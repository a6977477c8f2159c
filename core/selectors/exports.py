"""A user's portfolio exports ("My exports"): their own only, the files unread."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from core.models import ExportPortefeuille, User

PAGE_SIZE = 20


def exports_of(*, user: User) -> QuerySet[ExportPortefeuille]:
    """Newest first (the index exports_owner_idx); the files are not loaded."""
    return (
        ExportPortefeuille.objects.filter(owner=user)
        .defer("content")
        .order_by("-created_at", "-id")
    )


def downloadable(
    *, user: User, pk: int, now: datetime.datetime | None = None
) -> ExportPortefeuille | None:
    """``user``'s own export ``pk``, ready and not expired; None otherwise (someone
    else's included: the same answer as an id that does not exist)."""
    return ExportPortefeuille.objects.filter(
        pk=pk,
        owner=user,
        status=ExportPortefeuille.Status.READY,
        expires_at__gt=now or timezone.now(),
    ).first()
