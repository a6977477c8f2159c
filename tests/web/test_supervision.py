"""Supervision (``core.view_supervision``; ``core.run_job`` to run now): runs, next run,
worker, outbox, run-now button."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import JobRun, NotificationTache, OutboundEmail, Tache
from si_gouvernance.celery import app as celery_app
from tests.conftest import TODAY
from tests.factories import SUPERVISION, TacheFactory, UserFactory, grant
from tests.web.conftest import NOW, client_for

pytestmark = pytest.mark.usefixtures("frozen")

URL = reverse("core:supervision")
RUN_NOW = reverse("core:supervision_run_check")


@pytest.fixture
def admin(db):
    return grant(UserFactory(username="admin"), *SUPERVISION)


@pytest.fixture
def unreachable_broker():
    """No broker listens on port 1: the page must still answer, quickly."""
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    yield
    celery_app.conf.broker_url = saved


def record(job: str, *, minutes_ago: int, **kwargs) -> JobRun:
    started = NOW - datetime.timedelta(minutes=minutes_ago)
    defaults = {
        "trigger": JobRun.Trigger.BEAT,
        "business_date": TODAY,
        "status": JobRun.Status.SUCCESS,
        "started_at": started,
        "finished_at": started + datetime.timedelta(seconds=2, milliseconds=500),
    }
    return JobRun.objects.create(job=job, **{**defaults, **kwargs})


@pytest.mark.parametrize("method", ["get", "post"])
def test_non_staff_gets_403(world, method):
    url = URL if method == "get" else RUN_NOW
    response = getattr(client_for(world.alice), method)(url)
    assert response.status_code == 403
    assert not JobRun.objects.exists()


def test_supervision_follows_its_permissions_not_the_staff_flag(world):
    """Issue 16, finding 9: staff with no permission at all ran the deadline check."""
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    staff = client_for(UserFactory(username="staff", is_staff=True))
    viewer = client_for(grant(UserFactory(username="viewer"), "core.view_supervision"))

    assert staff.get(URL).status_code == 403
    assert staff.post(RUN_NOW).status_code == 403
    page = viewer.get(URL)
    assert page.status_code == 200
    assert RUN_NOW not in page.content.decode()  # no button without core.run_job
    assert viewer.post(RUN_NOW).status_code == 403
    assert not JobRun.objects.exists()
    assert not NotificationTache.objects.exists()


def test_the_supervision_group_runs_the_check_from_the_page(admin, unreachable_broker):
    page = client_for(admin).get(reverse("core:dashboard")).content.decode()
    assert f'href="{URL}"' in page
    assert f'href="{reverse("core:portfolio")}"' not in page
    run_now = reverse("core:supervision_run_job", args=["check_task_deadlines"])
    assert run_now in client_for(admin).get(URL).content.decode()


def test_shows_recent_runs_with_figures_and_errors(admin, unreachable_broker):
    record("check_task_deadlines", minutes_ago=60, counts={"total_created": 7, "date": "x"})
    record(
        "check_task_deadlines",
        minutes_ago=30,
        status=JobRun.Status.FAILURE,
        error="OperationalError: database is locked",
    )
    for i in range(12):
        record("cleanup_old_notifications", minutes_ago=100 + i, counts={"deleted": i})

    response = client_for(admin).get(URL)

    jobs = {panel.status.key: panel.status for panel in response.context["jobs"]}
    assert {"check_task_deadlines", "cleanup_old_notifications", "send_daily_summary"} <= set(jobs)
    check = jobs["check_task_deadlines"]
    assert [run.status for run in check.runs] == ["FAILURE", "SUCCESS"]
    assert len(jobs["cleanup_old_notifications"].runs) == 10  # the recent ones only
    content = response.content.decode()
    assert "alertes créées&nbsp;: <strong>7</strong>" in content
    assert "total_created" not in content
    assert "2.50&nbsp;s" in content or "2,50&nbsp;s" in content
    assert "database is locked" in content
    assert "Aucune exécution enregistrée pour le moment." in content  # send_daily_summary


def test_next_planned_run_from_the_schedule(admin, unreachable_broker):
    response = client_for(admin).get(URL)

    jobs = {panel.status.key: panel.status for panel in response.context["jobs"]}
    next_check = timezone.localtime(jobs["check_task_deadlines"].plan.next_run)
    # Now is 10:00 on Wednesday 25: the 08:00 check next runs tomorrow.
    assert (next_check.date(), next_check.hour, next_check.minute) == (
        datetime.date(2026, 11, 26),
        8,
        0,
    )
    next_cleanup = timezone.localtime(jobs["cleanup_old_notifications"].plan.next_run)
    assert (next_cleanup.date(), next_cleanup.hour) == (datetime.date(2026, 11, 30), 2)


def test_next_planned_run_follows_the_database_schedule(admin, unreachable_broker):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    crontab = CrontabSchedule.objects.create(hour="7", minute="30", timezone="Europe/Paris")
    PeriodicTask.objects.create(
        name="check-task-deadlines-daily", task="core.tasks.check_task_deadlines", crontab=crontab
    )

    response = client_for(admin).get(URL)

    check = next(
        p.status for p in response.context["jobs"] if p.status.key == "check_task_deadlines"
    )
    assert check.plan.from_database
    assert timezone.localtime(check.plan.next_run).strftime("%d %H:%M") == "26 07:30"


def test_no_broker_means_no_worker_and_the_page_still_answers(admin, unreachable_broker):
    response = client_for(admin).get(URL)

    assert response.status_code == 200
    assert not response.context["worker"].ok
    assert "Aucun worker ne répond." in response.content.decode()


def test_outbox_counts(admin, unreachable_broker):
    for status, n in [("PENDING", 2), ("SENDING", 1), ("FAILED", 4), ("SENT", 5)]:
        for i in range(n):
            OutboundEmail.objects.create(
                to_address=f"{status}{i}@example.org", subject="s", body_text="b", status=status
            )
    outbox = client_for(admin).get(URL).context["outbox"]
    assert (outbox.pending, outbox.failed) == (3, 4)


def test_flower_link_only_when_configured(admin, unreachable_broker, settings):
    settings.FLOWER_URL = ""
    assert 'id="flower-link"' not in client_for(admin).get(URL).content.decode()
    settings.FLOWER_URL = "https://flower.dsi.example.org/"
    content = client_for(admin).get(URL).content.decode()
    assert 'href="https://flower.dsi.example.org/"' in content


def test_run_now_runs_the_deadline_check_once_however_often_pressed(world, admin):
    # Eager Celery in tests: the task runs in-process, through the real service.
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    client = client_for(admin)

    first = client.post(RUN_NOW, follow=True)
    client.post(RUN_NOW)

    assert first.status_code == 200
    assert "mis en file d'attente" in str(next(iter(first.context["messages"])))
    runs = JobRun.objects.filter(job="check_task_deadlines")
    assert [run.trigger for run in runs] == [JobRun.Trigger.MANUAL] * 2
    # Due today: the owner and the lead, once each, despite two presses.
    alerts = NotificationTache.objects.filter(type_notification="ALERTE_CRITIQUE")
    assert sorted(a.destinataire.username for a in alerts) == ["alice", "bob"]
    assert Tache.objects.count() == 1


def test_run_now_with_broker_down_says_so(admin):
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "broker_url")}
    celery_app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:1/0")
    try:
        response = client_for(admin).post(RUN_NOW, follow=True)
    finally:
        celery_app.conf.update(saved)

    message = str(next(iter(response.context["messages"])))
    assert "n'a pas pu être mis en file d'attente" in message
    assert not JobRun.objects.exists()


def test_run_now_needs_csrf(admin):
    response = client_for(admin, enforce_csrf_checks=True).post(RUN_NOW)
    assert response.status_code == 403
    assert not JobRun.objects.exists()


def test_a_summary_that_arrived_after_its_day_is_shown_skipped_not_failed(
    admin, unreachable_broker
):
    """Issue 18, item 5: a catch-up queued at 23:55 and run at 00:02 did not fail."""
    record("send_daily_summary", minutes_ago=5, status=JobRun.Status.SKIPPED)
    page = client_for(admin).get(URL).content.decode()
    runs = page.split('id="outbox-status"', 1)[1]  # the jobs' panels (not the broker's)
    assert "Ignoré\u00a0: jour passé" in runs
    assert 'class="error"' not in runs
