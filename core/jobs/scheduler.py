"""Beat entries in the database: the code's defaults flow, administrators' edits stay.

django-celery-beat's stock ``DatabaseScheduler`` writes every declared entry over
its row at each start (``ModelEntry.from_entry`` is an ``update_or_create``,
celery/django-celery-beat#153): a time an administrator changed in the admin is
silently put back. Never writing over a row has the opposite flaw: a new default
in the code (another time, an expiry) never reaches an existing installation.

Here each row written from the code's default leaves a fingerprint
(``BeatEntryDefault``). At each start (beat, ``setup_periodic_tasks``):
- a missing row is created from the code;
- a row whose fingerprint still matches was not edited: it follows the code's
  current default (``"updated"`` when that changed it);
- a row that differs was edited by an administrator: it is kept (``"modified"``),
  shown as such in the admin and on the supervision page, until an administrator
  puts it back to the default (``reset_entry``);
- a row the code no longer declares, unedited, is removed.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from django.db import transaction
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

from core.jobs.registry import BY_BEAT_NAME, JOBS, PeriodicJob, beat_schedule
from core.models import BeatEntryDefault

CREATED, UPDATED, UNCHANGED, MODIFIED, RESET, REMOVED = (
    "created",
    "updated",
    "unchanged",
    "modified",
    "reset",
    "removed",
)


def fingerprint(row: PeriodicTask) -> str:
    """What an administrator can change in a row, hashed (not its run counters)."""
    fields = [
        "task",
        "args",
        "kwargs",
        "queue",
        "exchange",
        "routing_key",
        "headers",
        "priority",
        "expire_seconds",
        "one_off",
        "enabled",
    ]
    state: dict[str, Any] = {name: getattr(row, name) for name in fields}
    state["schedule"] = _schedule_state(row)
    state["expires"] = row.expires.isoformat() if row.expires else None
    state["start_time"] = row.start_time.isoformat() if row.start_time else None
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


def _schedule_state(row: PeriodicTask) -> list[str]:
    if row.crontab is not None:
        c = row.crontab
        # str(): a row just saved holds ints where a loaded one holds strings.
        parts = [c.minute, c.hour, c.day_of_week, c.day_of_month, c.month_of_year, c.timezone]
        return ["crontab", *map(str, parts)]
    if row.interval is not None:
        return ["interval", str(row.interval.every), row.interval.period]
    if row.solar is not None:
        return ["solar", row.solar.event, str(row.solar.latitude), str(row.solar.longitude)]
    if row.clocked is not None:
        return ["clocked", row.clocked.clocked_time.isoformat()]
    return ["none"]


def default_fields(job: PeriodicJob) -> dict[str, Any]:
    """The row's fields for the code's default of ``job``.

    ``ModelEntry._unpack_options`` only knows ``expire_seconds`` and drops the
    entry's ``expires``: passed as ``expire_seconds`` so it reaches the row.
    """
    entry = job.beat_entry()
    options = dict(entry.pop("options", {}))
    if "expires" in options:
        options["expire_seconds"] = int(options.pop("expires"))
    fields: dict[str, Any] = ModelEntry._unpack_fields(**entry, options=options)
    return {**fields, "enabled": True, "one_off": False, "start_time": None, "expires": None}


def _write_default(job: PeriodicJob) -> PeriodicTask:
    row, _created = PeriodicTask.objects.update_or_create(
        name=job.beat_name, defaults=default_fields(job)
    )
    BeatEntryDefault.objects.update_or_create(
        name=job.beat_name, defaults={"fingerprint": fingerprint(row)}
    )
    return row


def is_modified(row: PeriodicTask, stored: dict[str, str]) -> bool:
    """Whether an administrator changed ``row`` since the code last wrote it
    (``stored``: fingerprint by entry name). A row never written by this code
    (an entry an administrator added) is theirs too."""
    return stored.get(row.name) != fingerprint(row)


def stored_fingerprints(names: Iterable[str] | None = None) -> dict[str, str]:
    rows = BeatEntryDefault.objects.all()
    if names is not None:
        rows = rows.filter(name__in=list(names))
    return dict(rows.values_list("name", "fingerprint"))


def sync_entries() -> dict[str, str]:
    """Bring the table in line with the code, keeping administrators' edits;
    return what happened to each entry."""
    outcome = {job.beat_name: _sync(job) for job in JOBS}
    for name in set(stored_fingerprints()) - set(BY_BEAT_NAME):
        outcome[name] = _remove_if_unedited(name)
    return outcome


@transaction.atomic
def _sync(job: PeriodicJob) -> str:
    row = PeriodicTask.objects.select_for_update().filter(name=job.beat_name).first()
    if row is None:
        _write_default(job)
        return CREATED
    if is_modified(row, stored_fingerprints([job.beat_name])):
        return MODIFIED
    before = fingerprint(row)
    after = fingerprint(_write_default(job))
    return UNCHANGED if after == before else UPDATED


@transaction.atomic
def _remove_if_unedited(name: str) -> str:
    row = PeriodicTask.objects.select_for_update().filter(name=name).first()
    if row is not None and is_modified(row, stored_fingerprints([name])):
        return MODIFIED
    if row is not None:
        row.delete()
    BeatEntryDefault.objects.filter(name=name).delete()
    return REMOVED


@transaction.atomic
def reset_entry(name: str) -> bool:
    """Put a declared entry back to the code's default (the administrator's way
    back); False for a name the code does not declare."""
    job = BY_BEAT_NAME.get(name)
    if job is None:
        return False
    _write_default(job)
    return True


def reset_all() -> dict[str, str]:
    return {job.beat_name: RESET for job in JOBS if reset_entry(job.beat_name)}


class _CreateOnlyEntry(ModelEntry):
    """An entry as stored: created if missing (Celery's own housekeeping entry,
    ``celery.backend_cleanup``), never overwritten (``sync_entries`` did the rest)."""

    @classmethod
    def from_entry(cls, name: str, app: Celery | None = None, **entry: Any) -> _CreateOnlyEntry:
        row = PeriodicTask.objects.filter(name=name).first()
        if row is None:
            row, _created = PeriodicTask.objects.get_or_create(
                name=name, defaults=cls._unpack_fields(**entry)
            )
        return cls(row, app=app)


class SyncingDatabaseScheduler(DatabaseScheduler):
    """django-celery-beat's database scheduler, installing the declared entries
    with ``sync_entries`` instead of overwriting every row."""

    Entry = _CreateOnlyEntry

    def setup_schedule(self) -> None:
        with _stop_signals_deferred():
            sync_entries()
            self.install_default_entries(self.schedule)
            # As the stock scheduler does, load the declared entries now (as
            # stored, edits included): its periodic reads only take crontabs near
            # the hour.
            self.update_from_dict(beat_schedule())


@contextmanager
def _stop_signals_deferred() -> Iterator[None]:
    """Hold SIGTERM and SIGINT until the scheduler is set up.

    Beat's stop handler syncs "the" scheduler; arriving during its setup it
    builds a second one, whose first query waits on the connection the first
    setup is committing on: beat hangs for good (seen when stopped right after
    start). Held, the signal is handled once setup is over. (Windows has no
    signal masks; its service manager stops beat with CTRL_BREAK.)
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
