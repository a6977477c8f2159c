"""Heartbeats: a worker or beat says it is alive (one upsert), old rows go."""

from __future__ import annotations

import datetime

from django.utils import timezone

from core.models import Heartbeat

# A process silent this long is forgotten (its row is only history by then).
FORGET_AFTER = datetime.timedelta(days=7)


def record_heartbeat(
    *, kind: str, hostname: str, pid: int, now: datetime.datetime | None = None
) -> None:
    """Insert the process's row, or move its ``last_seen``: one statement
    (``INSERT ... ON CONFLICT DO UPDATE``), safe from any number of processes."""
    now = now or timezone.now()
    row = Heartbeat(kind=kind, hostname=hostname[:255], pid=pid, started_at=now, last_seen=now)
    Heartbeat.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["kind", "hostname", "pid"],
        update_fields=["last_seen"],
    )


def forget_old_heartbeats(*, now: datetime.datetime | None = None) -> int:
    """Delete the rows of processes silent for ``FORGET_AFTER`` (gone for good)."""
    now = now or timezone.now()
    deleted, _by_model = Heartbeat.objects.filter(last_seen__lt=now - FORGET_AFTER).delete()
    return deleted
