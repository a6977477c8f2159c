"""Liveness in health (issue 18): a dead worker, a silent beat, two beats, emails
stuck in SENDING, a mail server that refuses, lost logs. /health/, the supervision
page and ``check_health --full`` read the same module; no worker runs here: the
heartbeats are written as workers and beat write them."""

from __future__ import annotations

import datetime
import json

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import lost_logs
from core.jobs import registry
from core.models import Heartbeat, JobRun, OutboundEmail
from core.selectors import liveness
from core.services.heartbeats import forget_old_heartbeats, record_heartbeat
from tests.factories import SUPERVISION, UserFactory, grant
from tests.web.conftest import NOW, client_for

pytestmark = pytest.mark.usefixtures("frozen")

URL = reverse("core:health")
MINUTE = datetime.timedelta(minutes=1)
WORKER, BEAT = Heartbeat.Kind.WORKER, Heartbeat.Kind.BEAT


@pytest.fixture(autouse=True)
def daily_check_done(db, settings, redis_url) -> None:
    settings.CELERY_BROKER_URL = redis_url
    JobRun.objects.create(
        job=registry.CHECK_TASK_DEADLINES.key,
        business_date=timezone.localdate(NOW),
        status=JobRun.Status.SUCCESS,
        started_at=NOW - 2 * 60 * MINUTE,
        finished_at=NOW - 2 * 60 * MINUTE,
    )


@pytest.fixture(autouse=True)
def no_lost_logs():
    lost_logs.forget()
    yield
    lost_logs.forget()


def beat_at(moment: datetime.datetime, *, kind: str, hostname: str, pid: int) -> None:
    with time_machine.travel(moment, tick=False):
        record_heartbeat(kind=kind, hostname=hostname, pid=pid)


def alive(*, worker_ago: int = 0, beat_ago: int | None = 0) -> None:
    beat_at(NOW - worker_ago * MINUTE, kind=WORKER, hostname="celery@app1", pid=11)
    if beat_ago is not None:
        beat_at(NOW - beat_ago * MINUTE, kind=BEAT, hostname="app1", pid=12)


def get_health() -> tuple[int, dict]:
    response = Client().get(URL)
    return response.status_code, json.loads(response.content)


# --- Heartbeats ---------------------------------------------------------------------


def test_a_heartbeat_is_one_row_per_process_its_start_kept(db):
    beat_at(NOW - 3 * MINUTE, kind=WORKER, hostname="celery@app1", pid=11)
    beat_at(NOW, kind=WORKER, hostname="celery@app1", pid=11)

    row = Heartbeat.objects.get()
    assert (row.started_at, row.last_seen) == (NOW - 3 * MINUTE, NOW)


def test_processes_silent_for_a_week_are_forgotten(db):
    beat_at(NOW - 8 * 24 * 60 * MINUTE, kind=BEAT, hostname="old", pid=1)
    alive()
    assert forget_old_heartbeats() == 1
    assert not Heartbeat.objects.filter(hostname="old").exists()


# --- Workers ------------------------------------------------------------------------


def test_with_no_worker_ever_seen_health_fails_in_one_french_line(db):
    beat_at(NOW, kind=BEAT, hostname="app1", pid=12)

    status, body = get_health()

    assert status == 503
    worker = body["components"]["worker"]
    assert worker["status"] == "fail"
    assert worker["message"] == (
        "Aucun worker vu depuis 5 minutes\u00a0: les courriels et les tâches attendent."
    )
    assert worker["last_seen_minutes"] is None


def test_a_worker_silent_past_the_allowed_age_fails_health(db, settings):
    settings.HEALTH_WORKER_MAX_AGE_MINUTES = 5
    alive(worker_ago=4)
    assert get_health()[0] == 200

    Heartbeat.objects.filter(kind=WORKER).update(last_seen=NOW - 6 * MINUTE)
    status, body = get_health()

    assert status == 503
    assert body["components"]["worker"]["last_seen_minutes"] == 6.0


def test_one_live_worker_among_dead_ones_is_enough(db):
    alive()
    beat_at(NOW - 60 * MINUTE, kind=WORKER, hostname="celery@app2", pid=21)
    status, body = get_health()
    assert status == 200, body
    assert body["components"]["worker"]["alive"] == 1


# --- Beat ---------------------------------------------------------------------------


def test_a_beat_silent_for_15_minutes_fails_health(db):
    alive(beat_ago=14)
    assert get_health()[0] == 200

    Heartbeat.objects.filter(kind=BEAT).update(last_seen=NOW - 16 * MINUTE)
    status, body = get_health()

    assert status == 503
    assert body["components"]["beat"]["message"] == (
        "Beat n'a pas battu depuis 15 minutes\u00a0: aucune tâche n'est planifiée ni rattrapée."
    )


def two_beats() -> None:
    """Two beats, each writing every minute since 10 minutes ago."""
    alive(beat_ago=None)
    for pid, hostname in ((31, "app2"), (12, "app1")):
        beat_at(NOW - 10 * MINUTE, kind=BEAT, hostname=hostname, pid=pid)
        beat_at(NOW - MINUTE, kind=BEAT, hostname=hostname, pid=pid)


def test_two_beats_ticking_fail_health_without_naming_hosts(db):
    two_beats()

    status, body = get_health()

    assert status == 503
    beat = body["components"]["beat"]
    assert beat["ticking"] == 2
    assert beat["message"].startswith("2 beats tournent en même temps")
    assert "app2" not in json.dumps(body)


def test_two_beats_are_shown_as_an_error_on_the_supervision_page(db):
    two_beats()
    admin = grant(UserFactory(username="admin"), *SUPERVISION)

    page = client_for(admin).get(reverse("core:supervision")).content.decode()

    assert "2 beats tournent en même temps" in page
    assert "app1 (pid 12)" in page and "app2 (pid 31)" in page


def test_a_restarted_beat_is_one_beat(db):
    """The old process's last heartbeat comes before the new one's first."""
    alive(beat_ago=None)
    beat_at(NOW - 30 * MINUTE, kind=BEAT, hostname="app1", pid=12)
    beat_at(NOW - 2 * MINUTE - MINUTE / 2, kind=BEAT, hostname="app1", pid=12)  # stopped
    beat_at(NOW - 2 * MINUTE, kind=BEAT, hostname="app1", pid=13)  # started
    beat_at(NOW, kind=BEAT, hostname="app1", pid=13)

    status, body = get_health()

    assert status == 200, body
    assert body["components"]["beat"]["ticking"] == 1


# --- The sender ---------------------------------------------------------------------


def email(**fields) -> OutboundEmail:
    return OutboundEmail.objects.create(to_address="x@example.org", subject="s", **fields)


def test_rows_sending_past_their_lease_fail_health(db):
    alive()
    email(status=OutboundEmail.Status.SENDING, next_attempt_at=NOW + MINUTE, last_attempt_at=NOW)
    assert get_health()[0] == 200  # being sent now

    OutboundEmail.objects.update(next_attempt_at=NOW - 3 * MINUTE)
    status, body = get_health()

    assert status == 503
    assert body["components"]["outbox"]["stuck_sending"] == 1
    assert "bail" in body["components"]["outbox"]["message"]


def test_a_mail_server_refusing_most_attempts_fails_health(db):
    """4xx answers and dropped connections leave rows PENDING with an error."""
    alive()
    refused = {"status": OutboundEmail.Status.PENDING, "last_error": "421 Try again later"}
    for _ in range(3):
        email(**refused, last_attempt_at=NOW - 5 * MINUTE, next_attempt_at=NOW + MINUTE)
    email(status=OutboundEmail.Status.SENT, last_attempt_at=NOW - 5 * MINUTE)

    status, body = get_health()

    assert status == 503
    outbox = body["components"]["outbox"]
    assert (outbox["failing_last_30_min"], outbox["attempted_last_30_min"]) == (3, 4)
    assert "3 sur 4" in outbox["message"]


def test_a_few_refusals_among_accepted_emails_stay_healthy(db):
    alive()
    email(status=OutboundEmail.Status.PENDING, last_error="421", last_attempt_at=NOW - MINUTE)
    for _ in range(2):
        email(status=OutboundEmail.Status.SENT, last_attempt_at=NOW - MINUTE)
    # Old refusals are history.
    for _ in range(5):
        email(
            status=OutboundEmail.Status.PENDING,
            last_error="421",
            last_attempt_at=NOW - 40 * MINUTE,
            next_attempt_at=NOW + MINUTE,
        )
    OutboundEmail.objects.update(created_at=NOW - 5 * MINUTE)

    assert get_health()[0] == 200


# --- Logs ---------------------------------------------------------------------------


def test_lost_log_records_are_a_warning_not_a_failure(db):
    alive()
    lost_logs.record_failure(path="/var/log/x.log", error=OSError(28, "No space left on device"))

    status, body = get_health()

    assert status == 200  # pages and jobs go on: no load balancer takes the site out
    assert body["status"] == "ok"
    logs = body["components"]["logs"]
    assert logs["status"] == "warn"
    assert logs["errors"] == ["ENOSPC"]
    assert "LOG_DIR" in logs["message"] and "/var/log" not in logs["message"]


def test_the_supervision_page_lists_every_liveness_line(db):
    admin = grant(UserFactory(username="admin"), *SUPERVISION)
    lost_logs.record_failure(path="/var/log/x.log", error=OSError(28, "No space left"))

    page = client_for(admin).get(reverse("core:supervision")).content.decode()

    assert "Aucun worker vu depuis 5 minutes" in page
    assert "pas battu depuis 15 minutes" in page
    assert "pas pu être écrites" in page


def test_liveness_reads_in_two_queries_beside_the_outbox(db, django_assert_num_queries):
    two_beats()
    outbox = liveness.outbox_figures(now=NOW)
    with django_assert_num_queries(2):
        liveness.liveness(now=NOW, outbox=outbox)
