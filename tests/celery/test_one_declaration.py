"""A periodic job is declared once: a registry row (and its task) is all the
machinery needs. A daily job added here, in no other file, is scheduled, caught
up, supervised with its label and figures, and in health."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import time_machine
from celery import Task, shared_task
from celery.schedules import crontab
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_celery_beat.models import PeriodicTask

from core.jobs import arguments, beat_rows, catch_up, registry
from core.jobs.plans import job_plans
from core.jobs.runs import run_job
from core.models import JobRun
from core.selectors import health
from si_gouvernance.celery import app
from tests.factories import SUPERVISION, UserFactory, grant
from tests.web.conftest import NOW, client_for

POLISH = registry.PeriodicJob(
    key="polish_widgets",
    beat_name="polish-widgets-daily",
    task="tests.celery.polish_widgets",
    schedule=crontab(hour=6, minute=30),
    label=gettext_lazy("Polishing of the widgets"),
    figures={"polished": gettext_lazy("widgets polished")},
    expires_s=registry.DAILY_EXPIRES_S,
    daily=True,
)


@shared_task(name=POLISH.task, bind=True)
def polish_widgets(self: Task, trigger: str = "MANUAL", today: str | None = None) -> Any:
    day = arguments.run_day(today, job=POLISH)
    return run_job(
        POLISH,
        lambda: {"polished": 3, "date": day.isoformat()},
        trigger=arguments.trigger(trigger),
        business_date=day,
        task_id=self.request.id or "",
    ).as_dict()


@pytest.fixture(autouse=True)
def declared(monkeypatch):
    monkeypatch.setattr(registry, "JOBS", (*registry.JOBS, POLISH))
    with time_machine.travel(NOW, tick=False):  # 10:00, Paris
        yield


@pytest.fixture
def unreachable_broker():
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    yield
    app.conf.broker_url = saved


def test_it_is_scheduled_in_the_beat_schedule_and_the_beat_rows(db):
    assert registry.beat_schedule()[POLISH.beat_name] == {
        "task": "tests.celery.polish_widgets",
        "schedule": crontab(hour=6, minute=30),
        "kwargs": {"trigger": "BEAT"},
        "options": {"expires": 3600},
    }
    assert beat_rows.sync_rows()[POLISH.beat_name] == "created"
    row = PeriodicTask.objects.select_related("crontab").get(name=POLISH.beat_name)
    assert (row.task, row.crontab.hour, row.crontab.minute) == (POLISH.task, "6", "30")
    assert (row.expire_seconds, json.loads(row.kwargs)) == (3600, {"trigger": "BEAT"})


def test_it_is_caught_up_when_missed(db):
    beat_rows.sync_rows()
    assert "polish_widgets" in catch_up.enqueue_missed_jobs()
    run = JobRun.objects.get(job="polish_widgets")
    assert (run.trigger, run.status, run.counts["polished"]) == ("CATCH_UP", "SUCCESS", 3)
    assert "polish_widgets" not in catch_up.enqueue_missed_jobs()  # done for today


def test_it_runs_for_today_only_unless_declared_a_backfill(db):
    with pytest.raises(arguments.InvalidArgument, match="Polishing of the widgets"):
        arguments.run_day(NOW.date() - datetime.timedelta(days=1), job=POLISH)


def test_it_is_supervised_with_its_label_and_figures(db, unreachable_broker):
    polish_widgets.apply(kwargs={"trigger": "BEAT"})
    admin = grant(UserFactory(username="admin"), *SUPERVISION)

    page = client_for(admin).get(reverse("core:supervision")).content.decode()

    assert "Polishing of the widgets" in page
    assert "widgets polished&nbsp;: <strong>3</strong>" in page
    assert "date&nbsp;:" not in page  # bookkeeping, not a declared figure


def test_it_is_in_health_with_its_next_run(db):
    polish_widgets.apply(kwargs={"trigger": "BEAT"})
    jobs = registry.JOBS  # what the supervision page passes
    statuses = health.job_statuses(jobs=jobs, plans=job_plans(jobs, now=timezone.now()))
    [status] = [s for s in statuses if s.key == "polish_widgets"]
    assert status.last_run is not None and status.last_run.status == "SUCCESS"
    next_run = timezone.localtime(status.plan.next_run)
    assert (next_run.date(), next_run.hour, next_run.minute) == (
        NOW.date() + datetime.timedelta(days=1),
        6,
        30,
    )
