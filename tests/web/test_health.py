"""GET /health/ as the DSI's supervision tool calls it: no session, JSON, 200 or 503."""

from __future__ import annotations

import datetime
import json
import os
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.jobs import registry
from core.models import Heartbeat, JobRun, OutboundEmail
from core.services.heartbeats import record_heartbeat
from tests.conftest import require_service

URL = reverse("core:health")


def daily_check_succeeded(*, hours_ago: float) -> None:
    finished = timezone.now() - datetime.timedelta(hours=hours_ago)
    JobRun.objects.create(
        job=registry.CHECK_TASK_DEADLINES.key,
        trigger=JobRun.Trigger.BEAT,
        business_date=timezone.localdate(finished),
        status=JobRun.Status.SUCCESS,
        started_at=finished,
        finished_at=finished,
    )


def get_health(client: Client | None = None, **extra: str) -> tuple[int, dict]:
    response = (client or Client()).get(URL, **extra)
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


@pytest.fixture(autouse=True)
def worker_and_beat_alive(db) -> None:
    """A worker and one beat wrote their heartbeat just now (as they do every minute)."""
    record_heartbeat(kind=Heartbeat.Kind.WORKER, hostname="celery@app1", pid=101)
    record_heartbeat(kind=Heartbeat.Kind.BEAT, hostname="app1", pid=102)


@pytest.fixture
def redis_broker_up(redis_url: str, settings) -> str:
    settings.CELERY_BROKER_URL = redis_url
    return redis_url


def test_healthy_application_answers_200_without_a_session(db, redis_broker_up):
    daily_check_succeeded(hours_ago=2)

    status, body = get_health()

    assert status == 200
    assert body["status"] == "ok"
    assert {name: c["status"] for name, c in body["components"].items()} == {
        "database": "ok",
        "broker": "ok",
        "daily_check": "ok",
        "outbox": "ok",
        "worker": "ok",
        "beat": "ok",
        "logs": "ok",
    }
    assert body["components"]["daily_check"]["age_hours"] == pytest.approx(2, abs=0.1)
    assert body["components"]["broker"]["transport"] == "redis"


def test_rabbitmq_as_broker_is_checked_too(db, settings):
    require_service("127.0.0.1", 5672, "RabbitMQ")
    settings.CELERY_BROKER_URL = os.environ.get(
        "TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"
    )
    daily_check_succeeded(hours_ago=1)

    status, body = get_health()

    assert status == 200, body
    assert body["components"]["broker"]["transport"] == "amqp"


@pytest.mark.process
def test_a_stopped_broker_answers_503_within_seconds(db, own_redis, settings):
    url, _start, stop = own_redis
    settings.CELERY_BROKER_URL = url
    daily_check_succeeded(hours_ago=1)
    assert get_health()[0] == 200

    stop()
    started = time.monotonic()
    status, body = get_health()

    assert time.monotonic() - started < 5
    assert status == 503
    assert body["status"] == "fail"
    assert body["components"]["broker"]["status"] == "fail"
    assert body["components"]["database"]["status"] == "ok"


def test_a_daily_check_older_than_the_allowed_age_answers_503(db, redis_broker_up, settings):
    settings.HEALTH_MAX_AGE_HOURS = 26
    daily_check_succeeded(hours_ago=27)

    status, body = get_health()

    assert status == 503
    check = body["components"]["daily_check"]
    assert check["status"] == "fail"
    assert check["max_age_hours"] == 26
    assert "26 heures" in check["message"]


def test_a_daily_check_that_never_ran_answers_503(db, redis_broker_up):
    status, body = get_health()
    assert status == 503
    assert body["components"]["daily_check"]["last_success_at"] is None


def test_an_email_stuck_in_the_outbox_answers_503_and_names_nobody(world, redis_broker_up):
    daily_check_succeeded(hours_ago=1)
    stuck = OutboundEmail.objects.create(
        to_address="bob@dsi.example.org", subject="Alertes de Bob", body_text="..."
    )
    OutboundEmail.objects.filter(id=stuck.id).update(
        created_at=timezone.now() - datetime.timedelta(minutes=90)
    )

    response = Client().get(URL)

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["components"]["outbox"]["pending"] == 1
    assert body["components"]["outbox"]["oldest_pending_minutes"] >= 90
    page = response.content.decode()
    assert "bob" not in page.lower() and "alertes de" not in page.lower()


def test_an_email_failed_for_good_today_answers_503(db, redis_broker_up):
    daily_check_succeeded(hours_ago=1)
    OutboundEmail.objects.create(
        to_address="x@example.org",
        subject="s",
        body_text="b",
        status=OutboundEmail.Status.FAILED,
    )
    status, body = get_health()
    assert status == 503
    assert body["components"]["outbox"]["failed_last_24h"] == 1


def test_the_token_guards_the_endpoint_when_set(db, redis_broker_up, settings):
    settings.HEALTH_TOKEN = "jeton-de-supervision"
    daily_check_succeeded(hours_ago=1)

    assert Client().get(URL).status_code == 403
    assert Client().get(URL, HTTP_AUTHORIZATION="Bearer mauvais").status_code == 403
    assert get_health(HTTP_AUTHORIZATION="Bearer jeton-de-supervision")[0] == 200
    assert Client().get(URL, {"token": "jeton-de-supervision"}).status_code == 200


def test_in_production_the_token_is_accepted_as_a_header_only(db, redis_broker_up, settings):
    """A query string is written verbatim by proxies and access logs: with
    DJANGO_SECURE, ``?token=`` is refused."""
    settings.HEALTH_TOKEN = "jeton-de-supervision"
    settings.SECURE = True
    daily_check_succeeded(hours_ago=1)

    assert Client().get(URL, {"token": "jeton-de-supervision"}).status_code == 403
    assert get_health(HTTP_AUTHORIZATION="Bearer jeton-de-supervision")[0] == 200


def test_supervision_over_plain_http_is_not_redirected_in_production(db, settings, redis_url):
    settings.SECURE_SSL_REDIRECT = True
    settings.CELERY_BROKER_URL = redis_url
    assert Client().get(URL).status_code in (200, 503)
    assert Client().get(reverse("login")).status_code == 301
