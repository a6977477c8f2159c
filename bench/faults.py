"""Benchmark: the fault-injection audit, replayed at its scale against real processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_faults .venv/bin/python bench/faults.py
        [--pool solo|prefork] [--only "worker kill -9"]... [--keep] [--timeout 600]

One organisation (``bench/_fault_world.py``: 46 leads, 6,000 tasks; 3,141
alerts, 218 alert emails and 44 summaries a morning) is built in a PostgreSQL
server of the bench's own (``tests.faults.PrivatePostgres``: initdb in /tmp,
since scenarios restart and crash it), in a database of the name DATABASE_URL
gives (it must contain "bench"; the server DATABASE_URL names is not used),
and copied as a template, the *pre-morning* state (yesterday's check
succeeded, health is green). The
morning's services, run once in this process on that state, give the
**reference**: every alert (task, recipient, type, day) and every email
(recipient, kind). Then each scenario starts from a fresh copy of the template,
a fresh private ``redis-server`` (the broker), a local SMTP server (aiosmtpd,
recording each message's Message-ID and recipient) and two real workers
(``celery worker --pool=solo --concurrency=1``, as on Windows; ``--pool
prefork`` for Linux's default), plays "08:00" (the check and the summary
published as beat publishes them, with their one-hour expiry), injects its
fault, and waits until the day is complete: both daily jobs done
(``JobDay``) and no email left to send. Meanwhile this process plays beat's
periodic entries: the catch-up and the outbox sweep.

The scenarios and what each injects:

1. **clean** -- nothing: the baseline.
2. **database down** -- the workers reach PostgreSQL through a TCP proxy
   (``tests/faults.py``), cut before 08:00: the check and the summary fail
   their first try and their three retries; the database comes back once both
   have failed for good; the catch-up completes the day.
3. **database lost mid-check** -- the same proxy, cut while the check is
   inserting its alerts (held by a lock, as in 6, so the cut falls inside the
   run: day claimed, run recorded, transaction open): the worker cannot give
   the day back; its retries fail; the database comes back; the catch-up
   retakes the day once the lost run's lease ends (hard limit + 60 s). (The
   summaries are sent before the cut.)
4. **broker restarted empty** -- no worker runs at 08:00; the broker restarts
   with the check and the summary inside and comes back empty; the workers
   start after it, and their start-up catch-up queues the day.
5. **broker restarted mid-check** -- the broker restarts empty while the check
   runs (caught mid-run as in 6): its message, unacknowledged, is gone with
   the broker; a worker of the prefork pool cancels the running check when its
   broker connection drops. The run goes on (solo) or the catch-up retakes the
   day once it is free.
6. **worker kill -9** -- the notifications table is locked so the check is
   caught mid-run (scanned, claimed, inserting); the worker running it is
   killed (``kill -9`` of its process group); after the broker's visibility
   timeout a worker is started again: redelivery (or the catch-up) completes.
7. **SMTP down** -- the server answers 421 after a third of the morning's
   emails, then stops listening for 10 s once every other email has failed
   once, and comes back; the outbox retries them at the per-minute sweep.
8. **two beats** -- the check and the summary are each published twice at the
   same moment, taken by the two workers at once. (Whether health *sees* two
   beats: "two real beats", below.)
9. **SMTP drops after DATA** -- every 30th message the server takes, six times,
   it drops the connection: three times before answering the DATA (the sender
   cannot know the server has it, and sends it again after its one-minute
   backoff: a duplicate), three times just after its "250" (the sender marked it
   SENT; its next email finds the connection gone and waits a minute).
10. **Redis kill -9, busy worker** -- one prefork worker (concurrency 2, as the
    systemd unit runs it) sends to a slow SMTP server (each DATA answered 0.1 s
    late); once 20 emails are in and one sender is in hand (the other process
    free: the case that crashed Celery 5.7; if no such moment comes before the
    last 20 emails, under what is in hand then, as printed), the private
    ``redis-server`` is killed
    (``kill -9``) and started again, empty, on its port. The same worker must
    still be alive and take tasks afterwards (``core.jobs.broker_loss``); the
    interrupted sender's rows wait for their lease, then the sweep sends them.
11. **PostgreSQL restart mid-send** -- the two workers send to the slow server;
    once 20 emails are in, ``pg_ctl restart -m fast``: every session ends (the
    senders' marks fail, their rows wait for their lease), the server is back
    when the command returns.
12. **host reboot mid-send** -- the same, Redis run as deploy/redis runs it
    (append-only file); once 20 emails are in, every process of the host at
    once: the workers (``kill -9``), beat, Redis (``kill -9``), PostgreSQL
    (``pg_ctl stop -m immediate``, a crash); 2 s later PostgreSQL (replaying
    its WAL), Redis (replaying its file), then the workers and beat start again.
    The SMTP relay, elsewhere, stays up.

Then, apart (no email): **two real beats** -- two ``celery -A si_gouvernance
beat`` processes, the second started once the first has written its heartbeat:
whether health's beat component fails, and how long after the second started.

Time is scaled through the settings' environment variables: retries 2 s apart
(``JOB_RETRY_DELAY_S``, 300 s in production), no catch-up grace
(``CATCH_UP_GRACE_MINUTES=0``, 10), the catch-up every 10 s (every 10 minutes),
the outbox sweep every 5 s (every minute), a visibility timeout of 30 s (1,800)
with time limits of 10 and 20 s below it (enforced by the prefork pool only;
they also size the day's lease: hard limit + 60 s). The outbox's own backoff is not
scaled: an email refused once waits one minute. "08:00" is the current minute:
the daily jobs' beat rows are planned at 23:59 until then, so a starting worker
has nothing to catch up before the fault; the bench therefore refuses to run in
the last hour before midnight (Europe/Paris).

The table shows, per scenario: alerts of the day (created / reference; "diff"
counts the keys missing or extra in the whole table, compared key by key;
"dup" the duplicates), alert emails and summaries received exactly once
(/ expected, "+n" for any extra message: distinct Message-IDs), "dup
(SMTP)": the messages the SMTP server received more than once (same
Message-ID and recipient; each is charged to the connection that took it
before), the trigger of each job's successful
run, "s to done": the seconds from the service's return (the database, the
broker, the restarted worker, the SMTP server; beat's publication when nothing
fails) to the day being complete, the largest peak RSS of a worker
process, and what health said (``bench/_fault_health.py``: ``system_health``,
as ``GET /health/`` reads it, every second in a process of its own that reaches
the database as the services do, through the proxy scenarios 2 and 3 cut; beat's
heartbeat is written by the bench, which plays beat, after each publish):
"health red" names each component that failed from the fault on, with the
seconds from the fault's start (beat's publication when nothing fails; the
first 421 or drop for the SMTP faults) to its first failing reading, "never"
when health stayed green throughout; "back to green" the seconds from the
service's return to health's last turn to green ("still red" at the end).
Health's own thresholds are not scaled (a worker unseen for 5 minutes, beat for
15, a row SENDING 2 minutes past its lease): faults of seconds stay green there.
A scenario is exact when every alert is there once, every email
reached the server, none twice -- except in the scenarios that drop an SMTP
connection or kill the sender mid-send (9 to 12), where at most one email per SMTP
connection may be received twice (the email in hand; the outbox marks each
accepted email SENT at once) -- and nothing failed. The exit status is non-zero
if a scenario is not exact.
Linux only (``/proc``, ``redis-server``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # the bench helpers, and tests/faults.py
from _django import setup_django  # noqa: E402
from _fault_health import read_log  # noqa: E402
from _fault_rig import BenchError, Database, use_broker, wait_for  # noqa: E402
from _fault_stage import (  # noqa: E402
    FAULT_TIMEOUT_S,
    SMTP_DOWN_S,
    THROWAWAY_KEY,
    VISIBILITY_S,
    Row,
    Stage,
    play,
    stage_for,
)
from _fault_world import (  # noqa: E402
    PARIS,
    Reference,
    Verdict,
    build_world,
    plan_daily_jobs,
    take_reference,
)

from tests.faults import PrivatePostgres  # noqa: E402

# --- The scenarios: each injects its fault and returns when the service came back ----


def clean(stage: Stage) -> float:
    stage.start_workers()
    return stage.fire()


def database_down(stage: Stage) -> float:
    proxy = stage.proxy
    stage.start_workers(DATABASE_URL=stage.db_via_proxy)
    stage.fault()
    proxy.cut()
    stage.fire()
    stage.failed_for_good("check_task_deadlines")
    stage.failed_for_good("send_daily_summary")
    proxy.restore()
    return time.monotonic()


def database_lost_mid_check(stage: Stage) -> float:
    proxy = stage.proxy
    stage.start_workers(DATABASE_URL=stage.db_via_proxy)
    with stage.db.notifications_locked():
        stage.fire()
        wait_for(
            lambda: stage.db.insert_blocked() and stage.summary_sent(),
            timeout=FAULT_TIMEOUT_S,
            what="the check mid-run, the summaries sent",
        )
        stage.fault()
        proxy.cut()
    # The worker saw its connection drop: it cannot give the day back, whose
    # lease must end before the catch-up may retake it.
    stage.failed_for_good("check_task_deadlines")
    proxy.restore()
    return time.monotonic()


def broker_restarted_empty(stage: Stage) -> float:
    stage.fire()  # no worker yet: the messages wait in the broker
    wait_for(lambda: stage.queued_messages() >= 2, timeout=60, what="the messages in the broker")
    stage.redis.stop()
    stage.redis.start()
    use_broker(stage.redis.url)
    if stage.queued_messages():
        raise BenchError("the restarted broker is not empty")
    returned = time.monotonic()
    stage.start_workers()  # their start-up catch-up
    return returned


def broker_restarted_mid_check(stage: Stage) -> float:
    stage.start_workers()
    with stage.db.notifications_locked():
        stage.fire()
        wait_for(
            lambda: stage.db.insert_blocked() and stage.summary_sent(),
            timeout=FAULT_TIMEOUT_S,
            what="the check mid-run, the summaries sent",
        )
        stage.fault()
        stage.redis.stop()
        stage.redis.start()
        use_broker(stage.redis.url)
    return time.monotonic()


def worker_killed(stage: Stage) -> float:
    from core.models import JobDay

    stage.start_workers()
    with stage.db.notifications_locked():
        stage.fire()
        wait_for(stage.db.insert_blocked, timeout=FAULT_TIMEOUT_S, what="the check mid-run")
        holder = JobDay.objects.get(job="check_task_deadlines", business_date=stage.today)
        stage.fault()
        stage.workers.running(holder.task_id).kill()
    time.sleep(VISIBILITY_S + 1)  # the broker's redelivery delay, not business time
    returned = time.monotonic()
    stage.start_workers(1)
    return returned


def smtp_down(stage: Stage) -> float:
    from core.models import OutboundEmail

    stage.smtp.mailbox.accept_limit = stage.emails_expected // 3
    stage.start_workers()
    stage.fire()
    wait_for(lambda: stage.smtp.mailbox.refusing, timeout=FAULT_TIMEOUT_S, what="the first 421")
    stage.fault()

    def every_other_email_failed_once() -> bool:
        rows = OutboundEmail.objects
        sent = rows.filter(status="SENT").count()
        waiting = rows.filter(status="PENDING", attempts__gte=1).count()
        return stage.jobs_done() and sent + waiting == stage.emails_expected

    wait_for(every_other_email_failed_once, timeout=FAULT_TIMEOUT_S, what="the refused emails")
    stage.smtp.stop()
    time.sleep(SMTP_DOWN_S)  # the outage itself
    stage.smtp.mailbox.accept_limit = None
    stage.smtp.start()
    return time.monotonic()


def two_beats(stage: Stage) -> float:
    stage.start_workers()
    return stage.fire(times=2)


def smtp_drops_after_data(stage: Stage) -> float:
    mailbox = stage.smtp.mailbox
    mailbox.drop_every, mailbox.drops_left = SMTP_DROP_EVERY, SMTP_DROPS
    stage.duplicates_allowed = True
    stage.start_workers()
    stage.fire()
    wait_for(lambda: mailbox.drops > 0, timeout=FAULT_TIMEOUT_S, what="the first drop")
    stage.fault()
    wait_for(
        lambda: mailbox.drops == SMTP_DROPS, timeout=FAULT_TIMEOUT_S, what="the dropped connections"
    )
    return time.monotonic()  # the server behaves from now on


def sending_slowly(stage: Stage) -> Callable[[], bool]:
    """A slow SMTP server (each DATA answered late), a connection's email in hand
    allowed twice; returns whether the outbox is in mid-send (20 emails in, 20
    more at least to go)."""
    mailbox = stage.smtp.mailbox
    mailbox.seconds_per_email = SLOW_SMTP_S
    stage.duplicates_allowed = True

    def sending() -> bool:
        sent = len(mailbox.received)
        return BUSY_AFTER_EMAILS <= sent < stage.emails_expected - BUSY_AFTER_EMAILS

    return sending


def redis_killed_busy_worker(stage: Stage) -> float:
    sending = sending_slowly(stage)
    [worker] = stage.start_workers(1, pool="prefork", concurrency=2)
    stage.fire()

    def one_free_process() -> bool:
        # Celery/kombu 5.7's crash needs a task in hand and a free pool process
        # (core.jobs.broker_loss): one sender busy, the other process idle.
        return sending() and worker.in_hand() == ["core.tasks.send_pending_emails"]

    wait_for(sending, timeout=FAULT_TIMEOUT_S, what="the worker to be sending")
    # The first moment with a free process, or the last one of the sending.
    wait_for(
        lambda: one_free_process() or not sending(),
        timeout=FAULT_TIMEOUT_S,
        what="a free pool process",
    )
    in_hand = worker.in_hand()
    stage.fault()
    stage.redis.kill()
    seen = len(worker.output())
    print(f"     Redis killed with {in_hand} in hand, out of 2 pool processes")
    stage.redis.start()  # empty, on its port
    use_broker(stage.redis.url)
    stage.expect(lambda: worker.alive, "the worker outlived the Redis kill")
    stage.expect(
        lambda: "] received" in worker.output()[seen:],
        "the same worker took tasks after Redis came back",
    )
    return time.monotonic()


def postgres_restarted_mid_send(stage: Stage) -> float:
    from django.db import connections

    sending = sending_slowly(stage)
    stage.start_workers()
    stage.fire()
    wait_for(sending, timeout=FAULT_TIMEOUT_S, what="the outbox to be sending")
    stage.fault()
    stage.cluster.restart()  # pg_ctl restart -m fast: back when it returns
    connections.close_all()  # this process's, ended by the restart
    return time.monotonic()


def host_reboot_mid_send(stage: Stage) -> float:
    from django.db import connections

    stage.persistent_broker()
    sending = sending_slowly(stage)
    stage.start_workers()
    stage.fire()
    wait_for(sending, timeout=FAULT_TIMEOUT_S, what="the outbox to be sending")
    stage.fault()
    # The power cut: every process of the host at once (the SMTP relay is elsewhere).
    stage.beat.stop()
    stage.workers.kill_all()
    stage.redis.kill()
    stage.cluster.crash()
    connections.close_all()
    time.sleep(REBOOT_S)
    stage.cluster.start()  # replays its WAL
    stage.redis.start()  # replays its append-only file
    use_broker(stage.redis.url)
    returned = time.monotonic()
    stage.start_workers()  # then beat, at the stage's end
    return returned


SCENARIOS: list[tuple[str, Callable[[Stage], float]]] = [
    ("clean", clean),
    ("database down", database_down),
    ("database lost mid-check", database_lost_mid_check),
    ("broker restarted empty", broker_restarted_empty),
    ("broker restarted mid-check", broker_restarted_mid_check),
    ("worker kill -9", worker_killed),
    ("SMTP down", smtp_down),
    ("two beats", two_beats),
    ("SMTP drops after DATA", smtp_drops_after_data),
    ("Redis kill -9, busy worker", redis_killed_busy_worker),
    ("PostgreSQL restart mid-send", postgres_restarted_mid_send),
    ("host reboot mid-send", host_reboot_mid_send),
]
# SMTP drops after DATA: every 30th message's connection dropped, six times.
SMTP_DROP_EVERY, SMTP_DROPS = 30, 6
# Mid-send faults: a slow server (each DATA answered 0.1 s late), the fault
# injected once 20 emails are in (and 20 still to send). A batch of the sender
# (100 emails, 10 s) must take less than its lease (the hard time limit, 20 s):
# past it, the sweep takes the batch's last rows while they are being sent.
SLOW_SMTP_S, BUSY_AFTER_EMAILS = 0.1, 20
# Host reboot: how long the host stays down.
REBOOT_S = 2.0


# --- Two real beats: does health see them? --------------------------------------------

TWO_REAL_BEATS = "two real beats"
TWO_BEATS_TIMEOUT_S = 240.0


def two_real_beats(
    db: Database,
    cluster: PrivatePostgres,
    workdir: Path,
    today: datetime.date,
    reference: Reference,
) -> str:
    """Two real ``celery beat`` processes (no worker: what they publish waits in the
    broker), the second started once the first has beaten: whether health's beat
    component fails, and how long after the second beat started."""
    from django.utils import timezone

    from core.models import Heartbeat
    from core.selectors.liveness import beat_health

    def beat_red_since(moment: float) -> list[float]:
        return [r.at for r in read_log(stage.watch.log) if r.at >= moment and "beat" in r.red]

    with stage_for(db, cluster, workdir, today=today, reference=reference, pool="solo") as stage:
        try:
            stage.services.start_beat()
            wait_for(
                lambda: Heartbeat.objects.filter(kind="beat").exists(),
                timeout=120,
                what="the first beat's heartbeat",
            )
            beaten = time.monotonic()
            time.sleep(3)  # three readings with one beat
            second = time.monotonic()
            stage.services.start_beat()
            wait_for(
                lambda: bool(beat_red_since(second)),
                timeout=TWO_BEATS_TIMEOUT_S,
                what="health to fail on two beats",
            )
        except BenchError as exc:
            return f"NOT SEEN: {exc}"
        one_beat = "red" if [t for t in beat_red_since(beaten) if t < second] else "green"
        seconds = beat_red_since(second)[0] - second
        message = beat_health(now=timezone.now()).message
    return (
        f"with one beat, health's beat component was {one_beat}; it failed {seconds:.0f} s "
        f"after the second beat started: « {message} »"
    )


# --- Set-up and report -------------------------------------------------------------------


def prepare(db: Database, workdir: Path, *, tasks_per_project: int) -> tuple[Reference, str]:
    """Build the organisation, keep it as the pre-morning template, take the reference."""
    from django.db import connections
    from django.utils import timezone

    from core.jobs.beat_rows import sync_rows

    today = timezone.localdate()
    size = build_world(today=today, tasks_per_project=tasks_per_project, seed=2026)
    sync_rows()
    plan_daily_jobs(None)  # "before 08:00"
    connections.close_all()
    db.snapshot()
    reference = take_reference(today=today)
    described = ", ".join(f"{n:,} {what}" for what, n in size.items())
    return reference, described


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks-per-project", type=int, default=120)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per scenario")
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the worker logs")
    parser.add_argument(
        "--pool", choices=("solo", "prefork"), default="solo", help="the workers' pool"
    )
    args = parser.parse_args()
    named = Database(os.environ.get("DATABASE_URL", ""))
    if named.parts.scheme not in ("postgres", "postgresql") or "bench" not in named.name:
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench'.")
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed (the scenarios start their own).")
    paris_now = datetime.datetime.now(tz=PARIS)
    if paris_now.hour == 23:
        sys.exit("Run it before 23:00 Europe/Paris: a scenario must not cross midnight.")
    workdir = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    # The scenarios restart and crash PostgreSQL: the bench's own server, never
    # the one DATABASE_URL names (only its database name is used).
    cluster = PrivatePostgres()
    try:
        cluster.start()
        run(args, cluster=cluster, db=Database(cluster.url(named.name)), workdir=workdir)
    finally:
        cluster.close()


def run(args: argparse.Namespace, *, cluster: PrivatePostgres, db: Database, workdir: Path) -> None:
    os.environ["DATABASE_URL"] = db.url
    db.recreate()
    # Celery prefers CELERY_BROKER_URL from the environment to its configuration:
    # gone, so that each scenario can point this process at its own broker.
    os.environ.pop("CELERY_BROKER_URL", None)
    setup_django(workdir, CELERY_TASK_ALWAYS_EAGER="false", SECRET_KEY=THROWAWAY_KEY)
    use_broker("memory://localhost/")  # the reference's dispatches go nowhere
    reference, size = prepare(db, workdir, tasks_per_project=args.tasks_per_project)
    from django.utils import timezone

    today = timezone.localdate()
    print(f"\nFault scenarios, {today}, workers --pool={args.pool}: {size}")
    print(f"Database {db.name} on the bench's own PostgreSQL ({cluster.bin_dir}, initdb)")
    print(
        f"Reference morning: {reference.alerts_today:,} alerts, "
        f"{len(reference.alert_recipients)} alert emails, "
        f"{len(reference.summary_recipients)} summaries\n"
    )
    rows = []
    for index, (name, scenario) in enumerate(SCENARIOS, start=1):
        if args.only and name not in args.only:
            continue
        scenario_dir = workdir / f"{index}-{name.replace(' ', '-')}"
        rows.append(
            play(
                name,
                scenario,
                db=db,
                cluster=cluster,
                reference=reference,
                workdir=scenario_dir,
                today=today,
                timeout=args.timeout,
                pool=args.pool,
            )
        )
        print(f"  {index}. {name}: {'exact' if rows[-1].verdict.exact else 'NOT EXACT'}")
    beats = None
    if not args.only or TWO_REAL_BEATS in args.only:
        beats = two_real_beats(db, cluster, workdir / "two-real-beats", today, reference)
    db.drop_template()
    print_table(rows, reference)
    if beats:
        print(f"\n{TWO_REAL_BEATS}: {beats}")
    if all(row.verdict.exact for row in rows):
        if args.keep:
            print(f"Worker logs in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    for row in rows:
        if not row.verdict.exact:
            print(f"\n{row.name}: {row.error or 'not exact'}\n{row.logs}")
    sys.exit(f"\nNot exact; worker logs kept in {workdir}")


def print_table(rows: list[Row], reference: Reference) -> None:
    print(
        f"\n{'scenario':<28}{'alerts':>12}{'diff':>6}{'dup':>5}{'alert emails':>14}"
        f"{'summaries':>11}{'dup (SMTP)':>11}  {'done by (check / summary)':<27}"
        f"{'s to done':>10}{'RSS MB':>8}  {'health red (s after fault)':<34}"
        f"{'back to green':<18}exact"
    )
    for row in rows:
        v = row.verdict
        print(
            f"{row.name:<28}{f'{v.alerts_today:,}/{reference.alerts_today:,}':>12}"
            f"{v.alerts_missing + v.alerts_extra:>6}{v.alert_duplicates:>5}"
            f"{_once(v.alert_emails_once, v.alert_emails_expected, v.alert_emails_extra):>14}"
            f"{_once(v.summaries_once, v.summaries_expected, v.summaries_extra):>11}"
            f"{v.smtp_duplicates:>11}  "
            f"{_done_by(v):<27}{_seconds(row.seconds):>10}{row.peak_rss_mb:>8.0f}  "
            f"{row.health.red if row.health else '-':<34}"
            f"{row.health.after_back if row.health else '-':<18}"
            f"{'yes' if v.exact else 'NO'}"
        )
    if rows and all(row.verdict.exact for row in rows):
        print(
            f"\n{reference.alerts_today:,} alerts / {len(reference.alert_recipients)} alert "
            f"emails / {len(reference.summary_recipients)} summaries exactly once after each "
            "fault (by Message-ID; a scenario that drops an SMTP connection or the "
            "sender in hand allows one email received twice per connection)."
        )


def _once(once: int, expected: int, extra: int) -> str:
    return f"{once}/{expected}" + (f" +{extra}" if extra else "")


def _done_by(verdict: Verdict) -> str:
    jobs = ("check_task_deadlines", "send_daily_summary")
    return " / ".join("+".join(verdict.done_by.get(job, ["-"])) for job in jobs)


def _seconds(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}"


if __name__ == "__main__":
    main()
