"""The notification centre's writes: mark one notification read, or all of them.

"Mark all read" goes by bounded batches, each UPDATE its own short transaction
on the unread partial index, so a user with 300,000 unread notifications neither
holds locks for seconds nor keeps a request waiting: the web marks the first
``max_rows`` and leaves the rest to a background task (``up_to`` keeps both to
the notifications the user saw, not those arriving meanwhile).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from core.models import NotificationTache, User

BATCH_SIZE = 1000


@dataclass(frozen=True)
class MarkAllResult:
    marked: int
    remaining: bool  # stopped at max_rows: more may be unread


def mark_read(*, user: User, notification_id: int) -> bool:
    """Mark one of ``user``'s notifications read; whether it changed (a second
    call keeps the first reading time; someone else's notification never changes)."""
    unread = NotificationTache.objects.filter(pk=notification_id, destinataire=user, lue=False)
    return unread.update(lue=True, date_lecture=timezone.now()) == 1


def mark_all_read(
    *,
    user: User,
    up_to: datetime.datetime | None = None,
    max_rows: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> MarkAllResult:
    """Mark ``user``'s unread notifications created up to ``up_to`` read, batch by
    batch; at most ``max_rows`` of them (None: until none is left)."""
    now = timezone.now()
    unread = NotificationTache.objects.filter(
        destinataire=user, lue=False, date_creation__lte=up_to or now
    )
    marked = 0
    while max_rows is None or marked < max_rows:
        size = batch_size if max_rows is None else min(batch_size, max_rows - marked)
        batch = unread.order_by().values("id")[:size]
        changed = NotificationTache.objects.filter(id__in=batch, lue=False).update(
            lue=True, date_lecture=now
        )
        marked += changed
        if changed < size:
            return MarkAllResult(marked=marked, remaining=False)
    return MarkAllResult(marked=marked, remaining=True)
