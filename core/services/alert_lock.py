"""The lock between the inserts of the day's alerts and the alert emails.

An alert email covers a range of alert ids (``core.services.alert_emails``). Ids
are taken when a row is inserted, not when it commits: without this lock, a run
could email up to id 120 while a concurrent insert still holds id 110, which
would then never be emailed. The inserts share the lock, each chunk of the
alert emails takes it alone: the chunk waits for the inserts in flight, and new
ones wait for the chunk. A transaction-level PostgreSQL advisory lock, released
at commit; SQLite serialises write transactions itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

# An arbitrary constant of this application.
ALERTS_LOCK = 0x5167_0001


@contextmanager
def alert_writes() -> Iterator[None]:
    """Inside a transaction that inserts alerts (``date_alerte`` set)."""
    _lock("pg_advisory_xact_lock_shared")
    yield


def lock_for_alert_emails() -> None:
    """Inside a transaction of the alert emails: until it commits, no alert is
    being inserted."""
    _lock("pg_advisory_xact_lock")


def _lock(function: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [ALERTS_LOCK])
