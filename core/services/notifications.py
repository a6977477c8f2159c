"""Writes to a user's notifications."""

from __future__ import annotations

from django.utils import timezone

from core.models import NotificationTache, User


def mark_read(*, user: User, notification_id: int) -> bool:
    """Mark one of ``user``'s notifications read; False if it was already read."""
    updated = NotificationTache.objects.filter(
        pk=notification_id, destinataire=user, lue=False
    ).update(lue=True, date_lecture=timezone.now())
    return updated == 1
