"""Housekeeping: old read notifications (and, with the outbox, old sent emails)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from core.models import NotificationTache

DEFAULT_BATCH_SIZE = 5000


def validate_days(days: object) -> int:
    """``days`` as a positive int, or ``ValueError`` with a clear message."""
    if isinstance(days, bool) or not isinstance(days, int | str):
        raise ValueError(f"days must be a positive integer, got {days!r}")
    try:
        value = int(days)
    except ValueError:
        raise ValueError(f"days must be a positive integer, got {days!r}") from None
    if value < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}")
    return value


def cleanup_old_notifications(
    *,
    days: int = 30,
    now: datetime.datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, int]:
    """Delete read notifications created more than ``days`` ago, in batches.

    Unread notifications are always kept. Batches keep each transaction short so
    the web pages are never blocked behind a long delete.
    """
    days = validate_days(days)
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    old_read = NotificationTache.objects.filter(lue=True, date_creation__lt=cutoff)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(old_read.values_list("id", flat=True)[:batch_size])
            if not ids:
                break
            count, _ = NotificationTache.objects.filter(id__in=ids).delete()
            deleted += count
    return {"deleted": deleted, "days": days}
