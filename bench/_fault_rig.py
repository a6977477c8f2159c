"""The moving parts of bench/faults.py: the throwaway database and its reset, real
worker processes, an SMTP server that records and can go down, a scaled beat.

Linux only (``/proc`` for the memory figures, ``redis-server`` for the broker).
"""

from __future__ import annotations

import asyncio
import email
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """A scenario could not be played as designed (not a verdict on the product)."""


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``condition`` every 0.2 s; a timeout is a ``BenchError`` naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")


# --- The database -------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """The benchmark database (its name contains "bench") and its pre-morning copy,
    a template it is recreated from before each scenario."""

    url: str

    @property
    def parts(self) -> Any:
        return urlsplit(self.url)

    @property
    def name(self) -> str:
        return str(self.parts.path.lstrip("/"))

    @property
    def template(self) -> str:
        return f"{self.name}_premorning"

    @property
    def address(self) -> tuple[str, int]:
        return self.parts.hostname or "127.0.0.1", self.parts.port or 5432

    def connect(self, name: str | None = None) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.address[0],
            port=self.address[1],
            user=self.parts.username or "postgres",
            password=self.parts.password or None,
            dbname=name or self.name,
            autocommit=True,
        )

    def via(self, port: int) -> str:
        """This database's URL through a local TCP proxy listening on ``port``."""
        netloc = self.parts.netloc.rsplit("@", 1)
        credentials = f"{netloc[0]}@" if len(netloc) == 2 else ""
        return f"{self.parts.scheme}://{credentials}127.0.0.1:{port}/{self.name}"

    def recreate(self, *, template: str | None = None) -> None:
        """Drop this database (its sessions too) and create it, empty or as a copy."""
        with self.connect("postgres") as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
            create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name))
            if template:
                create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(create)
            # PostgreSQL 15 copies the template's pages through the WAL, sequences
            # with their count of values logged ahead: until the next checkpoint
            # nextval() logs nothing, and a crash (the host reboot) sets every
            # sequence back to the template's value (duplicate keys). Not so after one.
            conn.execute("CHECKPOINT")

    def snapshot(self) -> None:
        """Copy the database as it is now into the template (the pre-morning state)."""
        with self.connect("postgres") as conn:
            ident = sql.Identifier(self.template)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(ident, sql.Identifier(self.name))
            )

    def drop_template(self) -> None:
        with self.connect("postgres") as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.template))
            )

    def insert_blocked(self) -> bool:
        """Whether a session waits for the notifications table (a check mid-run).

        Asked of ``pg_locks``: the statement's text in ``pg_stat_activity`` is cut
        at 1 kB, before the INSERT of a query with a long list of rules."""
        with self.connect() as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted "
                "AND relation = 'core_notificationtache'::regclass"
            ).fetchone()
        return bool(row and row[0])

    @contextmanager
    def notifications_locked(self) -> Iterator[None]:
        """Reads allowed, inserts wait: a check that starts is caught in mid-run."""
        conn = self.connect()
        conn.autocommit = False
        try:
            conn.execute("LOCK TABLE core_notificationtache IN EXCLUSIVE MODE")
            yield
        finally:
            conn.rollback()
            conn.close()


# --- Workers ------------------------------------------------------------------------


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path
    peak_rss_kb: int = 0

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def in_hand(self) -> list[str]:
        """The tasks (names) this worker received and has not finished (no
        ``celery.app.trace`` line for their id yet), read from its log."""
        log = self.output()
        received = re.findall(r"Task (\S+)\[([0-9a-f-]+)\] received", log)
        finished = set(re.findall(r"celery\.app\.trace: Task \S+\[([0-9a-f-]+)\]", log))
        return [name for name, task_id in received if task_id not in finished]

    def sample_rss(self) -> None:
        """Keep the largest high-water mark (VmHWM) of the worker's processes (its
        pool's children too) while they live."""
        for pid in self._group():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            if match := re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE):
                self.peak_rss_kb = max(self.peak_rss_kb, int(match.group(1)))

    def _group(self) -> list[int]:
        """The processes of the worker's process group (its session, see _launch)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (kill -9 by default)."""
        if self.alive:
            self.sample_rss()
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)


@dataclass
class Processes:
    """Python processes of the stage, each in a session of its own (a ``kill -9``
    reaches its children) with ``env``, its output in a log of ``workdir``."""

    workdir: Path
    env: dict[str, str]
    started: list[Worker] = field(default_factory=list)

    def launch(self, name: str, args: list[str], **extra_env: str) -> Worker:
        log = self.workdir / f"{name}-{len(self.started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env={**self.env, **extra_env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process=process, log=log)
        self.started.append(worker)
        return worker

    def start_beat(self) -> Worker:
        """A real ``celery beat`` (elsewhere the bench plays beat: ``ScaledBeat``)."""
        pidfile = self.workdir / f"beat-{len(self.started)}.pid"
        args = ["-m", "celery", "-A", "si_gouvernance", "beat", "--loglevel=INFO"]
        return self.launch("beat", [*args, f"--pidfile={pidfile}"])

    def stop_all(self) -> None:
        for worker in self.started:
            worker.kill()

    def tails(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {w.log.name}\n{w.output()[-chars:]}" for w in self.started)


@dataclass
class Workers(Processes):
    """``celery -A si_gouvernance worker`` processes, one task at a time by default."""

    pool: str = "solo"

    def start(
        self, count: int, *, pool: str | None = None, concurrency: int = 1, **extra_env: str
    ) -> list[Worker]:
        """``count`` workers of ``pool`` (the bench's by default), once all are ready."""
        new = [self._launch(pool or self.pool, concurrency, **extra_env) for _ in range(count)]
        for worker in new:
            wait_for(
                lambda w=worker: " ready." in w.output() or not w.alive,  # type: ignore[misc]
                timeout=120,
                what="a worker to be ready",
            )
            if not worker.alive:
                raise BenchError(f"a worker stopped at start:\n{worker.output()[-2000:]}")
        return new

    def _launch(self, pool: str, concurrency: int, **extra_env: str) -> Worker:
        hostname = f"bench{len(self.started)}@%h"
        args = ["-m", "celery", "-A", "si_gouvernance", "worker", f"--hostname={hostname}"]
        args += [f"--pool={pool}", f"--concurrency={concurrency}", "--loglevel=INFO"]
        return self.launch("worker", [*args, "--without-gossip", "--without-mingle"], **extra_env)

    def sample_rss(self) -> None:
        for worker in self.started:
            worker.sample_rss()

    @property
    def peak_rss_mb(self) -> float:
        return max((w.peak_rss_kb for w in self.started), default=0) / 1024

    def count(self, pattern: str) -> int:
        """Lines matching ``pattern`` in every worker's log."""
        return sum(len(re.findall(pattern, w.output())) for w in self.started)

    def running(self, task_id: str) -> Worker:
        """The live worker that received task ``task_id``."""
        for worker in self.started:
            if worker.alive and f"[{task_id}] received" in worker.output():
                return worker
        raise BenchError(f"no live worker received task {task_id}")

    def kill_all(self) -> None:
        """``kill -9`` of every worker at once (then reaped)."""
        for worker in self.started:
            if worker.alive:
                os.killpg(worker.process.pid, signal.SIGKILL)
        self.stop_all()


# --- SMTP ---------------------------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler that records each accepted message's Message-ID,
    recipient and SMTP connection (numbered from 1). After ``accept_limit``
    messages it answers 421 (service closing) to every new message, as a server
    going down does, without ever taking a message it does not acknowledge.

    ``drop_every``: every n-th message is taken (recorded) and its connection
    dropped, ``drops_left`` times: alternately *before* answering the DATA (the
    client cannot know the server has it: a duplicate when it sends it again) and
    *after* the "250" (the client knows; its next command finds the connection
    gone). ``seconds_per_email``: a slow server, each DATA answered that late."""

    accept_limit: int | None = None
    drop_every: int | None = None
    drops_left: int = 0
    drops: int = 0
    seconds_per_email: float = 0.0
    received: list[tuple[str, str, int]] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def refusing(self) -> bool:
        return self.accept_limit is not None and len(self.received) >= self.accept_limit

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refusing:
            return "421 4.3.2 Service shutting down"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.seconds_per_email:
            await asyncio.sleep(self.seconds_per_email)
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            if not hasattr(session, "bench_connection"):
                self.connections += 1
                session.bench_connection = self.connections
            for recipient in envelope.rcpt_tos:
                self.received.append(
                    (str(message["Message-ID"]), recipient, session.bench_connection)
                )
            drop = self._drop_now()
        if drop == "before":
            server.transport.abort()  # the answer below goes nowhere
        elif drop == "after":
            asyncio.get_running_loop().call_soon(server.transport.close)  # after the 250
        return "250 Message accepted for delivery"

    def _drop_now(self) -> str | None:
        """Whether this message's connection is dropped, and when (lock held)."""
        if not self.drop_every or not self.drops_left or len(self.received) % self.drop_every:
            return None
        self.drops_left -= 1
        self.drops += 1
        return "before" if self.drops % 2 else "after"


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox = field(default_factory=Mailbox)
    controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# --- The broker and beat -------------------------------------------------------------


def use_broker(url: str) -> None:
    """Point this process's Celery app at ``url``, forgetting pooled connections
    (a restarted broker leaves them dead)."""
    import kombu.pools

    from si_gouvernance.celery import app

    app.conf.update(broker_url=url, task_always_eager=False)
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()


def send_as_beat(job: Any) -> None:
    """Publish ``job`` (a ``core.jobs.registry.PeriodicJob``) as beat does."""
    from si_gouvernance.celery import app

    app.send_task(job.task, kwargs=dict(job.kwargs), expires=job.expires_s)


class ScaledBeat:
    """Beat's periodic entries on a shortened clock: the catch-up every
    ``catch_up_s`` (ten minutes in production) and the outbox sweep every
    ``sweep_s`` (one minute), and beat's heartbeat after them, as beat writes it
    (``core.jobs.heartbeats``). A send that fails (broker down) is counted, as
    beat logs it, and the next tick tries again."""

    def __init__(self, *, catch_up_s: float, sweep_s: float) -> None:
        from core.jobs import registry
        from core.jobs.heartbeats import BeatHeartbeat

        self.entries = [
            (registry.CATCH_UP_MISSED_JOBS, catch_up_s),
            (registry.SEND_PENDING_EMAILS, sweep_s),
        ]
        self.failed_sends = 0
        self.heartbeat = BeatHeartbeat()  # beat's own, written after its publishes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stopped (as a killed beat); ``start()`` starts it again."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def _run(self) -> None:
        from django.db import connection

        due = {job.key: time.monotonic() + period for job, period in self.entries}
        while not self._stop.wait(0.5):
            for job, period in self.entries:
                if time.monotonic() >= due[job.key]:
                    due[job.key] += period
                    try:
                        send_as_beat(job)
                    except Exception:
                        self.failed_sends += 1
                    else:
                        self.heartbeat.after_publish()
        connection.close()  # this thread's own, for the heartbeat
