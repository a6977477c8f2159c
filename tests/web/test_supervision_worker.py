"""Supervision against a real Redis broker and a real worker process."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import JobRun
from tests.celery.conftest import (  # noqa: F401 (fixtures shared with the Celery suite)
    redis_broker,
    start_worker,
    use_broker,
    wait_for,
    worker_database,
)
from tests.factories import SUPERVISION, UserFactory, grant
from tests.web.conftest import client_for

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_worker_answers_and_run_now_is_executed_by_it(request):
    broker = request.getfixturevalue("redis_broker")
    request.getfixturevalue("use_broker")(broker)
    launch_worker = request.getfixturevalue("start_worker")
    admin = grant(UserFactory(username="admin"), *SUPERVISION)
    client = client_for(admin)
    before = client.get(reverse("core:supervision"))
    assert not before.context["worker"].ok  # nobody listens yet

    launch_worker(broker)
    page = client.get(reverse("core:supervision"))
    assert page.context["worker"].ok
    assert "worker répond" in page.content.decode()

    client.post(reverse("core:supervision_run_check"))
    manual = JobRun.objects.filter(job="check_task_deadlines", trigger=JobRun.Trigger.MANUAL)
    wait_for(
        lambda: manual.filter(status=JobRun.Status.SUCCESS).exists(),
        timeout=60,
        what="the worker to run the manual deadline check",
    )
