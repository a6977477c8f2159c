"""The steps of the scale benchmark, each run in a child process of its own.

A step sets Django up, does its work, and prints one JSON line: its figures, the
seconds of the work itself (not the start-up) and the process's peak resident
memory (``ru_maxrss``), start-up included, so the baseline step shows what an idle
Django process weighs.
"""

from __future__ import annotations

import datetime
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup_django

TODAY = datetime.date(2026, 11, 25)
RERUNS = 3  # reruns are cheap: the median of three
Step = Callable[[dict[str, Any]], dict[str, Any]]
STEPS: dict[str, Step] = {}


def step(function: Step) -> Step:
    STEPS[function.__name__] = function
    return function


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


@step
def baseline(options: dict[str, Any]) -> dict[str, Any]:
    return {"seconds": 0.0}


@step
def world(options: dict[str, Any]) -> dict[str, Any]:
    import scale_world

    _, seconds = timed(lambda: scale_world.build(tasks=options["tasks"], today=TODAY))
    return {"seconds": seconds}


@step
def handwritten(options: dict[str, Any]) -> dict[str, Any]:
    """The reference: one hand-written INSERT ... SELECT scanning the tasks once."""
    import scale_world
    from scale_sql import HANDWRITTEN_INSERT

    scale_world.execute("TRUNCATE core_notificationtache")
    from django.db import connection

    def insert() -> int:
        with connection.cursor() as cursor:
            cursor.execute(HANDWRITTEN_INSERT, {"today": TODAY})
            return int(cursor.rowcount)

    scale_world.execute("CHECKPOINT")
    created, seconds = timed(insert)
    rerun = insert()
    rerun_seconds = median_seconds(insert, RERUNS)
    keys = scale_world.scalar(
        "SELECT md5(string_agg(tache_id || ':' || destinataire_id || ':' || type_notification, "
        "',' ORDER BY tache_id, destinataire_id, type_notification)) "
        "FROM core_notificationtache"
    )
    scale_world.execute("TRUNCATE core_notificationtache")
    scale_world.execute("VACUUM ANALYZE core_notificationtache")
    return {
        "seconds": seconds,
        "alerts": created,
        "rerun_seconds": rerun_seconds,
        "rerun_alerts": rerun,
        "keys": keys,
    }


@step
def engine(options: dict[str, Any]) -> dict[str, Any]:
    import scale_world

    from core.services.deadlines import create_deadline_alerts

    result, seconds = timed(lambda: create_deadline_alerts(today=TODAY))
    keys = scale_world.scalar(
        "SELECT md5(string_agg(tache_id || ':' || destinataire_id || ':' || type_notification, "
        "',' ORDER BY tache_id, destinataire_id, type_notification)) "
        "FROM core_notificationtache"
    )
    return {
        "seconds": seconds,
        "alerts": result.total_created,
        "skipped": result.skipped_count,
        "keys": keys,
    }


@step
def engine_rerun(options: dict[str, Any]) -> dict[str, Any]:
    from core.services.deadlines import create_deadline_alerts

    created = create_deadline_alerts(today=TODAY).total_created
    seconds = median_seconds(lambda: create_deadline_alerts(today=TODAY), RERUNS)
    return {"seconds": seconds, "alerts": created}


@step
def emails(options: dict[str, Any]) -> dict[str, Any]:
    import scale_world

    from core.services.alert_emails import queue_alert_emails

    queued, seconds = timed(lambda: queue_alert_emails(today=TODAY))
    largest = scale_world.scalar(
        "SELECT coalesce(max(length(body_text) + length(body_html)), 0) "
        "FROM core_outboundemail WHERE kind = 'ALERTS'"
    )
    from core.models import NotificationTache
    from core.services.alert_emails import unemailed_alerts

    unmarked = NotificationTache.objects.filter(unemailed_alerts(TODAY)).count()
    assert unmarked == 0, f"{unmarked} alerts of the day left out of the emails"
    return {"seconds": seconds, "emails": queued, "largest": largest}


@step
def summary(options: dict[str, Any]) -> dict[str, Any]:
    from core.models import OutboundEmail, User
    from core.services.summary import send_daily_summary

    OutboundEmail.objects.filter(kind=OutboundEmail.Kind.SUMMARY).delete()
    leads = list(
        User.objects.filter(projets_diriges__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)[: options["leads"]]
    )
    result, seconds = timed(lambda: send_daily_summary(today=TODAY, lead_ids=leads))
    return {"seconds": seconds, "emails": result.queued}


def _prepare_outbox(count: int) -> None:
    """``count`` pending emails copied from the alert emails just queued, the same
    ``count`` emails each time (the sender and the naive loop send alike), each
    with a creation time of its own as ``bulk_create`` gives them (one shared
    ``now()`` made the sender's ORDER BY created_at, id sort all of them per batch)."""
    import scale_world

    scale_world.execute("DELETE FROM core_outboundemail WHERE kind = 'OTHER'")
    scale_world.execute("UPDATE core_outboundemail SET status = 'SENT' WHERE status <> 'SENT'")
    scale_world.execute(
        "INSERT INTO core_outboundemail (kind, to_address, subject, body_text, body_html, "
        "headers, status, attempts, last_error, created_at) "
        "SELECT 'OTHER', 'r' || i || '@bench.example.org', e.subject, e.body_text, "
        "e.body_html, e.headers, 'PENDING', 0, '', clock_timestamp() "
        "FROM generate_series(1, %s) i JOIN LATERAL (SELECT * FROM core_outboundemail "
        "WHERE kind IN ('ALERTS', 'SUMMARY') ORDER BY id "
        "OFFSET i %% greatest(1, (SELECT count(*) FROM core_outboundemail "
        "WHERE kind IN ('ALERTS', 'SUMMARY'))) LIMIT 1) e ON true",
        [count],
    )


@step
def sender(options: dict[str, Any]) -> dict[str, Any]:
    from core.models import OutboundEmail
    from core.services.outbox import send_pending

    _prepare_outbox(options["emails"])

    def send_all() -> int:
        sent = 0
        while True:
            result = send_pending()
            sent += result.sent
            if result.claimed == 0:
                return sent

    sent, seconds = timed(send_all)
    pending = OutboundEmail.objects.exclude(status=OutboundEmail.Status.SENT).count()
    return {"seconds": seconds, "emails": sent, "not_sent": pending}


@step
def naive(options: dict[str, Any]) -> dict[str, Any]:
    """Django's naive loop: each email built and sent on a connection of its own.

    It sends fresh copies of the sender's emails: the rows the sender sent have
    lost their bodies."""
    from core.models import OutboundEmail
    from core.services.email_rendering import build_message

    _prepare_outbox(options["emails"])
    rows = OutboundEmail.objects.filter(kind=OutboundEmail.Kind.OTHER).order_by("id")

    def send_each() -> int:
        return sum(build_message(row).send() for row in rows.iterator(chunk_size=100))

    sent, seconds = timed(send_each)
    OutboundEmail.objects.filter(kind=OutboundEmail.Kind.OTHER).delete()
    return {"seconds": seconds, "emails": sent}


@step
def notifications(options: dict[str, Any]) -> dict[str, Any]:
    from scale_centre import measure_centre

    return measure_centre(options)


@step
def pages(options: dict[str, Any]) -> dict[str, Any]:
    from scale_pages import measure_pages

    return measure_pages(options)


def run_child(name: str, options: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as workdir:
        env = {"CELERY_BROKER_URL": "memory://localhost/", "ALLOWED_HOSTS": "testserver"}
        setup_django(Path(workdir), **{**env, **options.get("env", {})})
        figures = STEPS[name](options)
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures, default=str))


def median_seconds(work: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        _, seconds = timed(work)
        times.append(seconds)
    return statistics.median(times)


if __name__ == "__main__":
    run_child(sys.argv[1], json.loads(sys.argv[2]))
