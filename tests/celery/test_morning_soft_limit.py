"""The morning run told to stop by its soft time limit: it stops taking work
between two chunks of emails, its day stays to do, and the catch-up finishes the
emails the same morning, each alert in exactly one email.

The soft limit is raised here as the worker's pool raises it, through the flag
the task holds (``core.jobs.soft_limit``; its delivery by billiard is pinned in
``test_soft_limit_signal.py``): once the first chunk of emails is queued."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
import time_machine
from django.db.models import Count, Subquery

from core.jobs import catch_up, registry
from core.models import JobDay, JobRun, NotificationTache, OutboundEmail
from core.services import alert_emails
from core.services.alert_emails import covering_email, unemailed_alerts
from core.tasks import check_task_deadlines
from tests.celery.test_catch_up import at
from tests.conftest import TODAY
from tests.factories import MembreProjetFactory, TacheFactory, UserFactory

CHECK = registry.CHECK_TASK_DEADLINES


@pytest.fixture
def soft_limit_after_first_chunk(monkeypatch):
    """The task's soft-limit flag rises once the first chunk of emails is queued."""
    reached = threading.Event()
    queue_chunk = alert_emails._queue_alerts_chunk

    def chunk_then_limit(users, batch):
        queued = queue_chunk(users, batch)
        reached.set()
        return queued

    @contextmanager
    def flag():
        yield reached

    monkeypatch.setattr(alert_emails, "_queue_alerts_chunk", chunk_then_limit)
    monkeypatch.setattr("core.tasks.soft_limit_as_flag", flag)
    monkeypatch.setattr(alert_emails, "CHUNK_SIZE", 2)
    return reached


@pytest.fixture
def seven_recipients(world):
    """Six owners with a task due today, and alice who leads them all."""
    for i in range(6):
        owner = UserFactory(username=f"owner{i}")
        MembreProjetFactory(projet=world.projet, utilisateur=owner)
        TacheFactory(projet=world.projet, responsable=owner, date_echeance=TODAY)
    return world


def emails_per_alert() -> list[int]:
    covering = Subquery(covering_email().values("recipient").annotate(n=Count("id")).values("n"))
    return list(NotificationTache.objects.annotate(n=covering).values_list("n", flat=True))


@time_machine.travel(at(8, 0), tick=False)
def test_stopped_by_its_soft_limit_the_morning_run_leaves_its_day_to_the_catch_up(
    seven_recipients, soft_limit_after_first_chunk
):
    report = check_task_deadlines.apply(kwargs={"trigger": "BEAT"}).get()

    assert report["complete"] is False
    assert report["total_created"] == 12  # every alert: the soft limit came after
    # One chunk of two users (alice, who leads all six tasks, and bob, who has
    # none of them), then it stopped: the six owners' alerts wait.
    assert report["emails_queued"] == 1
    assert OutboundEmail.objects.filter(kind="ALERTS").count() == 1
    assert NotificationTache.objects.filter(unemailed_alerts(TODAY)).count() == 6
    day = JobDay.objects.get(job=CHECK.key, business_date=TODAY)
    assert day.done_at is None and day.lease_until is None  # free for the catch-up
    [run] = JobRun.objects.filter(job=CHECK.key)
    assert (run.status, run.counts["complete"]) == ("SUCCESS", False)


def test_the_catch_up_finishes_the_emails_the_same_morning_never_twice(
    seven_recipients, soft_limit_after_first_chunk, monkeypatch
):
    with time_machine.travel(at(8, 0), tick=False):
        check_task_deadlines.apply(kwargs={"trigger": "BEAT"}).get()
    # The catch-up's run has the whole of its time limit.
    monkeypatch.undo()
    monkeypatch.setattr(alert_emails, "CHUNK_SIZE", 2)

    with time_machine.travel(at(8, 10), tick=False):
        assert catch_up.enqueue_missed_jobs() == ["check_task_deadlines"]

    [caught_up] = JobRun.objects.filter(job=CHECK.key, trigger=JobRun.Trigger.CATCH_UP)
    assert caught_up.counts["total_created"] == 0  # the alerts were there
    assert caught_up.counts["emails_queued"] == 6  # the six owners
    assert caught_up.counts["complete"] is True
    assert sorted(emails_per_alert()) == [1] * 12  # each alert in one email exactly
    assert JobDay.objects.get(job=CHECK.key, business_date=TODAY).done_at is not None
    with time_machine.travel(at(8, 20), tick=False):
        assert catch_up.enqueue_missed_jobs() == []  # the day is done
