"""One scenario of bench/faults.py on its stage: a fresh copy of the pre-morning
database, its own broker and SMTP server, workers, beat; the wait and the verdict."""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from _fault_health import HealthSeen, read_log, seen
from _fault_rig import (
    BenchError,
    Database,
    Processes,
    ScaledBeat,
    SmtpServer,
    Worker,
    Workers,
    send_as_beat,
    use_broker,
    wait_for,
)
from _fault_world import Reference, Verdict, judge, plan_daily_jobs

from tests.faults import PrivatePostgres, PrivateRedis, TcpProxy, candidate_port

HEALTH_WATCH = Path(__file__).resolve().parent / "_fault_health.py"

SCALED = {
    "JOB_RETRY_DELAY_S": "2",
    "CATCH_UP_GRACE_MINUTES": "0",
    "CELERY_VISIBILITY_TIMEOUT": "30",
    "CELERY_TASK_SOFT_TIME_LIMIT": "10",
    "CELERY_TASK_TIME_LIMIT": "20",
}
VISIBILITY_S = int(SCALED["CELERY_VISIBILITY_TIMEOUT"])
CATCH_UP_S, SWEEP_S = 10.0, 5.0
SETTLE_S = 2 * CATCH_UP_S + 1  # two more catch-ups and sweeps: nothing may follow
WORKERS = 2
SMTP_DOWN_S = 10
FAULT_TIMEOUT_S = 300.0
THROWAWAY_KEY = "bench-faults-throwaway-key"


@dataclass
class Stage:
    """One scenario's rig: the database reset (on the bench's own PostgreSQL,
    ``cluster``), a fresh broker and SMTP server, workers, beat played, health
    watched through ``proxy`` (the database as the services reach it: the
    workers too when a scenario cuts it)."""

    db: Database
    cluster: PrivatePostgres
    proxy: TcpProxy
    workdir: Path
    redis: PrivateRedis
    smtp: SmtpServer
    workers: Workers
    services: Processes  # health's watch, real beats
    watch: Worker  # health's (_fault_health.py)
    beat: ScaledBeat
    today: datetime.date
    emails_expected: int
    fired_at: float | None = None
    fault_at: float | None = None
    # Emails the SMTP server may receive twice (same Message-ID): at most one per
    # SMTP connection, the email in hand when the connection or its sender died.
    duplicates_allowed: bool = False
    checks: list[tuple[Callable[[], bool], str]] = field(default_factory=list)

    def start_workers(
        self, count: int = WORKERS, *, pool: str | None = None, concurrency: int = 1, **env: str
    ) -> list[Worker]:
        """Workers ready, their heartbeats written (health sees them)."""
        from core.models import Heartbeat

        started = self.workers.start(count, pool=pool, concurrency=concurrency, **env)
        wait_for(
            lambda: Heartbeat.objects.filter(kind="worker").count() >= len(self.workers.started),
            timeout=60,
            what="the workers' heartbeats",
        )
        return started

    def fault(self) -> None:
        """The fault starts now (by default: when beat publishes the day's jobs)."""
        self.fault_at = self.fault_at or time.monotonic()

    def persistent_broker(self) -> None:
        """The broker restarted as deploy/redis runs it (its append-only file)."""
        self.redis.persistent = True
        self.redis.stop()
        self.redis.start()
        use_broker(self.redis.url)

    def expect(self, condition: Callable[[], bool], what: str) -> None:
        """Once the day stayed complete, ``condition`` must hold, or the scenario
        is not exact (``what`` says what failed)."""
        self.checks.append((condition, what))

    def failed_checks(self) -> list[str]:
        return [what for condition, what in self.checks if not condition()]

    @property
    def db_via_proxy(self) -> str:
        return self.db.via(self.proxy.port)

    def failed_for_good(self, job: str) -> None:
        """Wait until a run of ``job`` failed beyond its retries (worker logs)."""
        wait_for(
            lambda: self.workers.count(rf"core\.tasks\.{job}\[\S+\] raised unexpected") > 0,
            timeout=FAULT_TIMEOUT_S,
            what=f"{job} to fail for good",
        )

    def fire(self, times: int = 1) -> float:
        """08:00: the daily jobs are due now, and beat publishes them."""
        from django.utils import timezone

        from core.jobs import registry

        plan_daily_jobs(timezone.now())
        for _ in range(times):
            send_as_beat(registry.CHECK_TASK_DEADLINES)
        for _ in range(times):
            send_as_beat(registry.SEND_DAILY_SUMMARY)
        self.beat.start()  # beat's periodic entries go on from now
        self.fired_at = self.fired_at or time.monotonic()
        return time.monotonic()

    def jobs_done(self) -> bool:
        from core.jobs import registry
        from core.models import JobDay

        keys = [job.key for job in registry.daily_jobs()]
        done = JobDay.objects.filter(business_date=self.today, job__in=keys, done_at__isnull=False)
        return done.count() == len(keys)

    def summary_sent(self) -> bool:
        from core.models import JobDay, OutboundEmail

        done = JobDay.objects.filter(
            job="send_daily_summary", business_date=self.today, done_at__isnull=False
        )
        unsent = OutboundEmail.objects.filter(kind="SUMMARY").exclude(status="SENT")
        return done.exists() and not unsent.exists()

    def day_complete(self) -> bool:
        from core.models import OutboundEmail

        self.workers.sample_rss()
        busy = OutboundEmail.objects.filter(status__in=["PENDING", "SENDING"]).exists()
        return self.jobs_done() and not busy

    def queued_messages(self) -> int:
        import redis

        return int(redis.Redis.from_url(self.redis.url).llen("celery"))


# --- Playing a scenario -----------------------------------------------------------------


@dataclass
class Row:
    name: str
    verdict: Verdict = field(default_factory=Verdict)
    seconds: float | None = None
    health: HealthSeen | None = None
    peak_rss_mb: float = 0.0
    error: str = ""
    logs: str = ""


@contextmanager
def stage_for(
    db: Database,
    cluster: PrivatePostgres,
    workdir: Path,
    *,
    today: datetime.date,
    reference: Reference,
    pool: str,
) -> Iterator[Stage]:
    """A fresh copy of the pre-morning database, broker and SMTP server, health
    watched; every process started here is stopped on the way out."""
    from django.db import connections

    connections.close_all()
    db.recreate(template=db.template)
    workdir.mkdir(parents=True)
    with ExitStack() as stack:
        redis = PrivateRedis(workdir, wait_for)
        stack.callback(redis.close)
        redis.start()
        smtp = SmtpServer(port=candidate_port())
        stack.callback(smtp.stop)
        smtp.start()
        use_broker(redis.url)
        env = worker_env(db, workdir, broker_url=redis.url, smtp_port=smtp.port)
        workers = Workers(workdir, env, pool=pool)
        stack.callback(workers.stop_all)
        proxy = TcpProxy(db.address)
        stack.callback(proxy.cut)
        proxy.start()
        services = Processes(workdir, env)
        stack.callback(services.stop_all)
        watch = services.launch("health", [str(HEALTH_WATCH)], DATABASE_URL=db.via(proxy.port))
        wait_for(lambda: bool(read_log(watch.log)), timeout=60, what="health's first reading")
        beat = ScaledBeat(catch_up_s=CATCH_UP_S, sweep_s=SWEEP_S)
        stack.callback(beat.stop)
        emails = len(reference.alert_recipients) + len(reference.summary_recipients)
        yield Stage(
            db, cluster, proxy, workdir, redis, smtp, workers, services, watch, beat, today, emails
        )


def worker_env(db: Database, workdir: Path, *, broker_url: str, smtp_port: int) -> dict[str, str]:
    ours = ("CELERY_", "DJANGO_", "DATABASE_", "EMAIL_", "LOG_", "VAR_DIR", *SCALED)
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env.update(
        DJANGO_SETTINGS_MODULE="si_gouvernance.settings",
        ENV_FILE=os.devnull,
        DATABASE_URL=db.url,
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND="django-db",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        VAR_DIR=str(workdir / "var"),
        LOG_DIR=str(workdir / "logs"),
        LOG_LEVEL="INFO",
        SECRET_KEY=THROWAWAY_KEY,
        PYTHONUNBUFFERED="1",
        **SCALED,
    )
    return env


def play(
    name: str,
    scenario: Callable[[Stage], float],
    *,
    db: Database,
    cluster: PrivatePostgres,
    reference: Reference,
    workdir: Path,
    today: datetime.date,
    timeout: float,
    pool: str,
) -> Row:
    """Inject the fault, wait for the day to be complete, watch for anything late
    (two more catch-ups and sweeps), stop everything, then judge; and say what
    health said from the fault on."""
    row = Row(name)
    staged = stage_for(db, cluster, workdir, today=today, reference=reference, pool=pool)
    with staged as stage:
        complete = False
        stage.beat.heartbeat.after_publish()  # beat runs before 08:00
        try:
            returned = scenario(stage)
            stage.beat.start()
            wait_for(stage.day_complete, timeout=timeout, what="the day to be complete")
            row.seconds, complete = time.monotonic() - returned, True
            settled = time.monotonic() + SETTLE_S
            wait_for(
                lambda: time.monotonic() > settled and stage.day_complete(),
                timeout=timeout,
                what="the day to stay complete",
            )
            if failed := stage.failed_checks():
                complete, row.error = False, "; ".join(f"not so: {what}" for what in failed)
            row.health = seen(
                read_log(stage.watch.log),
                fault=stage.fault_at or stage.fired_at or returned,
                returned=returned,
                end=time.monotonic(),
            )
        except BenchError as exc:
            row.error = str(exc)
        except Exception as exc:  # the bench's own failure: shown, the next scenario runs
            row.error = f"{type(exc).__name__}: {exc}"
        stage.beat.stop()
        stage.workers.stop_all()
        row.peak_rss_mb = stage.workers.peak_rss_mb
        row.logs = stage.workers.tails()
        received = list(stage.smtp.mailbox.received)
        row.verdict = judge(
            reference,
            received,
            today=today,
            complete=complete,
            duplicates_allowed=stage.duplicates_allowed,
        )
    return row
