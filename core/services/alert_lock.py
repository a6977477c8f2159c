"""The locks between the inserts of notifications and what reads them by id range.

The day's alerts and the alert emails; the events (what someone changed on a task)
and the channel messages that list them above each channel's watermark.

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

# Arbitrary constants of this application.
ALERTS_LOCK = 0x5167_0001
EVENTS_LOCK = 0x5167_0002


@contextmanager
def alert_writes() -> Iterator[None]:
    """Inside a transaction that inserts alerts (``date_alerte`` set)."""
    _lock("pg_advisory_xact_lock_shared", ALERTS_LOCK)
    yield


def lock_for_alert_emails() -> None:
    """Inside a transaction of the alert emails: until it commits, no alert is
    being inserted."""
    _lock("pg_advisory_xact_lock", ALERTS_LOCK)


@contextmanager
def event_writes() -> Iterator[None]:
    """Inside a transaction that inserts events (a page's change, which may hold
    its transaction a while after the insert: the portfolio's figures, an import)."""
    _lock("pg_advisory_xact_lock_shared", EVENTS_LOCK)
    yield


def lock_for_event_messages() -> None:
    """Inside the transaction that moves the channels' event watermarks: until it
    commits, no event is being inserted, so none can commit below a watermark."""
    _lock("pg_advisory_xact_lock", EVENTS_LOCK)


def _lock(function: str, key: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [key])
