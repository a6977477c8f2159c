"""Real Celery worker processes for the tests, sharing the test's PostgreSQL database.

A worker is ``celery -A si_gouvernance worker`` started as a subprocess with the
production settings module and an explicit environment: the test database (pytest's
``transactional_db`` commits, so the worker sees the rows), a broker chosen by the
test, ``var/`` and ``logs/`` under ``tmp_path``. SQLite's in-memory test database
cannot be shared with another process, so these tests need the PostgreSQL run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import kombu.pools
import pytest
from django.db import connection
from django.utils import timezone

from core.jobs import registry, runs
from core.models import JobRun
from si_gouvernance.celery import app
from tests.conftest import require_service
from tests.faults import PrivateRedis

ROOT = Path(__file__).resolve().parents[2]
# This suite's Redis database (never 0, which a developer's own setup may use).
WORKER_REDIS_URL = os.environ.get("TEST_CELERY_REDIS_URL", "redis://127.0.0.1:6379/11")


def wait_for(
    condition: Callable[[], bool], *, timeout: float, what: str, workers: tuple[Worker, ...] = ()
) -> None:
    """Poll ``condition`` (a process or a row to appear), failing with ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    logs = "\n".join(worker.output()[-3000:] for worker in workers)
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{logs}")


@pytest.fixture
def worker_database(transactional_db: None) -> str:
    """The test database as a DATABASE_URL a subprocess can use (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        if os.environ.get("CI") and os.environ.get("DATABASE_URL"):
            pytest.fail("CI runs the worker tests on PostgreSQL")
        pytest.skip("a worker process needs the PostgreSQL test database (DATABASE_URL)")
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def redis_broker() -> str:
    """A clean Redis database of this suite's own (stale messages would be consumed)."""
    require_service("127.0.0.1", 6379, "Redis")
    import redis

    redis.Redis.from_url(WORKER_REDIS_URL).flushdb()
    return WORKER_REDIS_URL


@pytest.fixture
def use_broker() -> Iterator[Callable[[str], None]]:
    """Point this test process's Celery app at a broker, with eager mode off."""
    saved = {
        key: app.conf[key]
        for key in ("broker_url", "task_always_eager", "broker_transport_options")
    }

    def configure(url: str) -> None:
        app.conf.update(broker_url=url, task_always_eager=False)
        _drop_connections()

    yield configure
    app.conf.update(saved)
    _drop_connections()


def _drop_connections() -> None:
    # Producers and connections are pooled (per app and in kombu's global pools):
    # forget those of the last broker rather than reuse a dead connection.
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group: the main process and its pool children."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)


@pytest.fixture
def start_worker(worker_database: str, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start real worker processes; every one is killed at teardown."""
    workers: list[Worker] = []

    def start(
        broker_url: str,
        *,
        pool: str = "solo",
        concurrency: int = 1,
        today_done: bool = True,
        **extra_env: str,
    ) -> Worker:
        if today_done:
            # Today's 08:00 check "already ran": no catch-up at worker start to race
            # with the test's own tasks (the catch-up tests pass today_done=False).
            record_todays_check()
        index = len(workers)
        log = tmp_path / f"worker-{index}.out"
        env = worker_env(worker_database, broker_url, tmp_path, **extra_env)
        command = [sys.executable, "-m", "celery", "-A", "si_gouvernance", "worker"]
        command += [f"--pool={pool}", f"--concurrency={concurrency}", "--loglevel=INFO"]
        command += [f"--hostname=test{index}@%h", "--without-gossip", "--without-mingle"]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process=process, log=log)
        workers.append(worker)
        wait_for(
            lambda: " ready." in worker.output() or process.poll() is not None,
            timeout=60,
            what="the worker to be ready",
        )
        assert process.poll() is None, worker.output()
        return worker

    yield start
    for worker in workers:
        if worker.process.poll() is None:
            worker.kill(signal.SIGTERM if sys.platform == "win32" else signal.SIGKILL)


def record_todays_check() -> None:
    """Today's daily jobs "already ran": nothing for a starting worker to catch up."""
    now = timezone.now()
    for job in registry.daily_jobs():
        JobRun.objects.get_or_create(
            job=job.key,
            trigger=JobRun.Trigger.COMMAND,
            business_date=timezone.localdate(now),
            defaults={"status": JobRun.Status.SUCCESS, "started_at": now, "finished_at": now},
        )
        runs.mark_done(job, timezone.localdate(now))


def worker_env(database_url: str, broker_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "DJANGO_", "DATABASE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="si_gouvernance.settings",
        ENV_FILE=os.devnull,
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND="django-db",
        VAR_DIR=str(tmp_path / "var"),
        LOG_DIR=str(tmp_path / "logs"),
        SECRET_KEY="worker-test-secret",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private redis-server the test can stop, kill and start again on its port."""
    server = PrivateRedis(tmp_path, wait_for)
    server.start()
    yield server
    server.close()


@pytest.fixture
def own_redis(private_redis: PrivateRedis):
    """A private redis-server the test can stop and start again on the same port."""
    return private_redis.url, private_redis.start, private_redis.stop
