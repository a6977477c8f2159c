"""Nothing lost: the morning's daily jobs survive a database outage and a broker
that restarts empty, with real workers, a real SMTP server, exactly once.

Times are scaled down (retries 1 s apart, no catch-up grace) and the catch-up is
sent by the test as beat sends it every ten minutes; in production the day is
complete at most ten minutes (plus the run) after the service comes back.
"""

from __future__ import annotations

import ast
import datetime
import zoneinfo

import pytest
from celery.result import AsyncResult
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from core.jobs import registry
from core.jobs.beat_rows import sync_rows
from core.models import JobDay, JobRun, NotificationTache, OutboundEmail
from core.tasks import catch_up_missed_jobs, check_task_deadlines, send_daily_summary
from tests.celery.conftest import Worker, wait_for
from tests.emails.conftest import smtp_server  # noqa: F401  (the SMTP fixture)
from tests.factories import TacheFactory
from tests.faults import PrivateRedis, TcpProxy

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis, pytest.mark.smtp]
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SCALED = {"JOB_RETRY_DELAY_S": "1", "CATCH_UP_GRACE_MINUTES": "0"}


def plan_at_midnight(job: registry.PeriodicJob, *, only: bool = True) -> None:
    """The job planned at 00:00, so "its time has passed" holds whenever the test
    runs; with ``only``, the other daily job disabled (one job per scenario)."""
    sync_rows()
    midnight, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone=PARIS
    )
    PeriodicTask.objects.filter(name=job.beat_name).update(crontab=midnight)
    if only:
        others = [j.beat_name for j in registry.daily_jobs() if j != job]
        PeriodicTask.objects.filter(name__in=others).update(enabled=False)


def smtp_env(server) -> dict[str, str]:
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(server.port),
    }


def caught_up(worker: Worker, sent: AsyncResult) -> list[str]:
    """The jobs a catch-up task queued, read from the worker's log once it has run
    (the task keeps no result): proof it ran, before asserting nothing more came."""
    done = f"[{sent.id}] succeeded in "
    wait_for(lambda: done in worker.output(), timeout=60, what="the catch-up", workers=(worker,))
    line = next(line for line in worker.output().splitlines() if done in line)
    return ast.literal_eval(line.split(done, 1)[1].split(": ", 1)[1].strip())


def alerts() -> list[tuple[int, str, str]]:
    return sorted(
        NotificationTache.objects.values_list(
            "tache_id", "destinataire__username", "type_notification"
        )
    )


def test_a_database_outage_at_8_still_ends_with_the_days_alerts_and_emails_once(
    world,
    smtp_server,  # noqa: F811
    redis_broker,
    use_broker,
    start_worker,
    worker_database,
):
    today = timezone.localdate()
    due = TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=today)
    late = TacheFactory(
        projet=world.projet, responsable=world.bob, date_echeance=today - datetime.timedelta(3)
    )
    expected = sorted(
        (task.pk, user, kind)
        for task, kind in ((due, "ALERTE_CRITIQUE"), (late, "ALERTE_RETARD"))
        for user in ("alice", "bob")
    )
    plan_at_midnight(registry.CHECK_TASK_DEADLINES)
    settings_dict = connection.settings_dict
    database = TcpProxy((settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432)))
    proxied = worker_database.replace(
        f"@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/",
        f"@127.0.0.1:{database.port}/",
    )
    use_broker(redis_broker)
    # The database is down before 08:00 and stays down through the run and its
    # three retries; the worker starting then cannot catch up either.
    worker = start_worker(
        redis_broker, today_done=False, DATABASE_URL=proxied, **SCALED, **smtp_env(smtp_server)
    )
    check_task_deadlines.apply_async(kwargs={"trigger": "BEAT"})  # beat at 08:00
    wait_for(
        lambda: (
            worker.output().count("check_task_deadlines") >= 2
            and "raised unexpected" in worker.output()
        ),
        timeout=90,
        what="the 08:00 check to fail for good",
        workers=(worker,),
    )
    assert alerts() == [] and not smtp_server.received

    database.restore()
    catch_up_missed_jobs.apply_async()  # beat's next catch-up tick
    wait_for(
        lambda: len(smtp_server.received) == 2,
        timeout=90,
        what="the day's two alert emails",
        workers=(worker,),
    )
    # The one after finds the day done: it ran, and queued nothing.
    assert caught_up(worker, catch_up_missed_jobs.apply_async()) == []

    assert alerts() == expected
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "alice@dsi.example.org",
        "bob@dsi.example.org",
    ]
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"SENT"}
    # One run did the day: the catch-up, or a retry of beat's run if the database
    # came back before its retries ran out; the other found the day done.
    [run] = JobRun.objects.filter(job="check_task_deadlines", status="SUCCESS")
    assert run.trigger in ("CATCH_UP", "BEAT")
    assert JobDay.objects.get(job="check_task_deadlines", business_date=today).done_at


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path, wait_for)
    server.start()
    yield server
    server.close()


def test_a_summary_lost_in_a_broker_restart_is_sent_once(
    world,
    smtp_server,  # noqa: F811
    private_redis,
    use_broker,
    start_worker,
):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=timezone.localdate())
    plan_at_midnight(registry.SEND_DAILY_SUMMARY)
    use_broker(private_redis.url)
    # Beat fires the summary while no worker runs; the broker then restarts empty.
    send_daily_summary.apply_async(kwargs={"trigger": "BEAT"})
    private_redis.stop()
    private_redis.start()

    worker = start_worker(
        private_redis.url, today_done=False, **SCALED, **smtp_env(smtp_server)
    )  # its start catches the day up
    wait_for(
        lambda: len(smtp_server.received) == 1, timeout=90, what="the summary", workers=(worker,)
    )
    # Beat's next tick finds the day done: it ran, and queued nothing.
    assert caught_up(worker, catch_up_missed_jobs.apply_async()) == []

    [summary] = smtp_server.received
    assert summary.rcpt_tos == ["alice@dsi.example.org"]
    assert OutboundEmail.objects.filter(kind="SUMMARY").count() == 1
    assert [r.trigger for r in JobRun.objects.filter(job="send_daily_summary")] == ["CATCH_UP"]
