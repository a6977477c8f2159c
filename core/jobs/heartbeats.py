"""Heartbeats of the worker and of beat, written where each does its work.

- A worker: a consumer bootstep (Celery's documented extension point,
  ``app.steps["consumer"]``) upserts its row when the consumer starts and then
  every ``INTERVAL_S`` on the consumer's timer. The consumer restarts its steps
  when the broker connection is lost, so a worker cut off from its broker stops
  beating: "seen" means "connected and turning". The write runs in a short
  thread, so a slow database never holds the worker's event loop.
- Beat: after each message beat publishes (Celery's ``after_task_publish``
  signal, connected at ``beat_init`` so only beat listens), a burst written once.
  ``send-pending-emails`` is published every minute: a beat that ticks beats.
  Beat's process writes its own host and pid, so two beats leave two rows.

No web request touches the broker for this: health reads the rows.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from celery import bootsteps
from celery.signals import after_task_publish, beat_init
from django.db import connection

from core.jobs.errors import first_line

logger = logging.getLogger(__name__)

INTERVAL_S = 60.0
# Beat writes after a publish unless it wrote this recently: less than a minute,
# or the per-minute sweep's publish would be skipped every other time.
BEAT_MIN_GAP_S = INTERVAL_S / 2
WORKER, BEAT = "worker", "beat"  # Heartbeat.Kind (no model import: Celery's settings load this)


def write(*, kind: str, hostname: str) -> bool:
    """Upsert this process's heartbeat; a database error is logged, never raised
    (a worker or beat keeps running while the database restarts)."""
    from core.services.heartbeats import forget_old_heartbeats, record_heartbeat

    try:
        record_heartbeat(kind=kind, hostname=hostname, pid=os.getpid())
        forget_old_heartbeats()
    except Exception as exc:
        logger.warning("Heartbeat (%s) not written: %s", kind, first_line(exc))
        connection.close_if_unusable_or_obsolete()  # beat's next query reconnects
        return False
    return True


class WorkerHeartbeat(bootsteps.StartStopStep):
    """The worker's heartbeat, while its consumer runs (``app.steps["consumer"]``)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry: Any = None
        self.writing = threading.Lock()

    def start(self, parent: Any) -> None:
        hostname = str(parent.hostname)
        self.beat(hostname)
        self.timer_entry = parent.timer.call_repeatedly(INTERVAL_S, self.beat, (hostname,))

    def stop(self, parent: Any) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    def beat(self, hostname: str) -> None:
        if not self.writing.acquire(blocking=False):
            return  # the last write still waits on the database: skip this one
        threading.Thread(
            target=self._write, args=(hostname,), name="worker-heartbeat", daemon=True
        ).start()

    def _write(self, hostname: str) -> None:
        try:
            write(kind=WORKER, hostname=hostname)
        finally:
            connection.close()  # this thread's own connection
            self.writing.release()


class BeatHeartbeat:
    """Beat's heartbeat: written after a publish, at most once per ``BEAT_MIN_GAP_S``
    (a burst of publishes, at 08:00, writes once)."""

    def __init__(self) -> None:
        self.hostname = socket.gethostname()
        self.last_written: float | None = None

    def after_publish(self, **_kwargs: Any) -> None:
        now = time.monotonic()
        if self.last_written is not None and now - self.last_written < BEAT_MIN_GAP_S:
            return
        if write(kind=BEAT, hostname=self.hostname):
            self.last_written = now


@beat_init.connect(dispatch_uid="core.jobs.heartbeats.beat")
def start_beat_heartbeat(**_kwargs: Any) -> None:
    heartbeat = BeatHeartbeat()
    after_task_publish.connect(
        heartbeat.after_publish, weak=False, dispatch_uid="core.jobs.heartbeats.publish"
    )
    heartbeat.after_publish()  # started: seen at once, before its first due entry
