"""Real worker and beat processes write their heartbeat (issue 18): health sees a
live worker, a live beat, and two beats started together."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from core.models import Heartbeat
from core.selectors.liveness import beat_health, worker_health
from tests.celery.conftest import ROOT, wait_for, worker_env

pytestmark = [pytest.mark.process, pytest.mark.worker, pytest.mark.postgres]


@pytest.fixture
def start_beat(
    worker_database: str, redis_broker: str, tmp_path: Path
) -> Iterator[Callable[[], None]]:
    """Start real beat processes (each with its own schedule files); killed at teardown.
    They publish to Redis, as in production: two beats publishing into one SQLite
    broker file at the same second lock each other out, and kombu's SQLAlchemy
    channel never recovers (the first beat then stops publishing, and beating)."""
    beats: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        index = len(beats)
        env = worker_env(worker_database, redis_broker, tmp_path)
        command = [sys.executable, "-m", "celery", "-A", "si_gouvernance", "beat"]
        command += ["--loglevel=INFO", f"--pidfile={tmp_path / f'beat-{index}.pid'}"]
        beats.append(
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )

    yield start
    for beat in beats:
        beat.kill()
        beat.wait(timeout=30)


def beats_seen() -> int:
    return Heartbeat.objects.filter(kind=Heartbeat.Kind.BEAT).count()


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_running_worker_is_seen_by_health(start_worker, redis_broker, pool):
    assert not worker_health(now=timezone.now()).ok

    worker = start_worker(redis_broker, pool=pool)
    wait_for(
        lambda: Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER).exists(),
        timeout=30,
        what="the worker's heartbeat",
        workers=(worker,),
    )

    row = Heartbeat.objects.get(kind=Heartbeat.Kind.WORKER)
    assert row.hostname.startswith("test0@") and row.pid == worker.process.pid
    assert worker_health(now=timezone.now()).ok


def test_one_beat_ticks_and_two_beats_are_an_error(start_beat):
    start_beat()
    wait_for(lambda: beats_seen() == 1, timeout=60, what="beat's heartbeat")
    assert beat_health(now=timezone.now()).ok

    start_beat()
    wait_for(lambda: beats_seen() == 2, timeout=60, what="the second beat's heartbeat")
    # Both ticking is proven when the first beats again after the second started:
    # at its next publish, within a minute (the email sweep, every minute).
    wait_for(lambda: not beat_health(now=timezone.now()).ok, timeout=240, what="two beats reported")
    report = beat_health(now=timezone.now())
    assert report.figures["ticking"] == 2
    assert report.message.startswith("2 beats tournent en même temps")
