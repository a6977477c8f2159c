"""Beat's rows in the database, in step with the registry; administrators' edits stay.

Beat runs django-celery-beat's own ``DatabaseScheduler``, which plans from the rows
of ``PeriodicTask`` (editable in the admin). ``sync_rows`` keeps them in step with
``core.jobs.registry``, through the models' public API, at each beat start and by
``manage.py setup_periodic_tasks``. Each row written from the code's default leaves
a fingerprint (``BeatEntryDefault``):
- a missing row is created from the code;
- a row whose fingerprint still matches was not edited: it follows the code's
  current default (``"updated"`` when that changed it);
- a row that differs was edited by an administrator: it is kept (``"modified"``),
  shown as such in the admin and on the supervision page, until an administrator
  puts it back to the default (``reset_entry``);
- a row the code no longer declares, unedited, is removed.

The one workaround, ``BeatScheduler``: the stock scheduler writes
``app.conf.beat_schedule`` over the rows when it sets up (``update_or_create``,
celery/django-celery-beat#153), which would undo every edit; Celery's
``beat_init`` signal only comes after that setup (``Service.start`` builds the
scheduler first), and django-celery-beat's admin wants CELERY_BEAT_SCHEDULER to
name a ``DatabaseScheduler`` class. So its setup, a public method, runs
``sync_rows`` instead. tests/celery/test_beat_schedule.py pins the library
behaviour this relies on.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from core.jobs import registry
from core.jobs.registry import PeriodicJob
from core.models import BeatEntryDefault

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
MODIFIED, RESET, REMOVED = "modified", "reset", "removed"
# What an administrator can change in a row (not its run counters), the schedule aside.
EDITABLE: tuple[str, ...] = (
    "task",
    "args",
    "kwargs",
    "queue",
    "exchange",
    "routing_key",
    "headers",
)
EDITABLE += ("priority", "expire_seconds", "one_off", "enabled")


def fingerprint(row: PeriodicTask) -> str:
    state: dict[str, Any] = {name: getattr(row, name) for name in EDITABLE}
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
    """Every editable field of ``job``'s row as the code declares it; the rest as
    the model's defaults (no queue, no start time, enabled...)."""
    blank = PeriodicTask()
    crontab = CrontabSchedule.from_schedule(job.schedule)  # the stored one, else unsaved
    if crontab.pk is None:
        crontab.save()
    return {
        **{name: getattr(blank, name) for name in (*EDITABLE, "expires", "start_time")},
        **{kind: None for kind in ("interval", "solar", "clocked")},
        "crontab": crontab,
        "task": job.task,
        "kwargs": json.dumps(dict(job.kwargs)),
        "expire_seconds": job.expires_s,
    }


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


def sync_rows() -> dict[str, str]:
    """Bring the table in line with the registry, keeping administrators' edits;
    return what happened to each entry."""
    outcome = {job.beat_name: _sync(job) for job in registry.JOBS}
    for name in set(stored_fingerprints()) - set(outcome):
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
    job = registry.by_beat_name(name)
    if job is None:
        return False
    _write_default(job)
    return True


def reset_all() -> dict[str, str]:
    return {job.beat_name: RESET for job in registry.JOBS if reset_entry(job.beat_name)}


class BeatScheduler(DatabaseScheduler):
    """Beat's scheduler (``CELERY_BEAT_SCHEDULER``): django-celery-beat's own, whose
    setup syncs the rows (``sync_rows``) instead of writing ``app.conf.beat_schedule``
    over them. Only public names: ``setup_schedule`` is the hook Celery's
    schedulers are built to override, ``install_default_entries`` the stock
    setup's other half (Celery's ``celery.backend_cleanup``)."""

    def setup_schedule(self) -> None:
        with _stop_signals_deferred():
            sync_rows()
            self.install_default_entries(self.schedule)


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
