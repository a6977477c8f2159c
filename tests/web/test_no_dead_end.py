"""No dead end: the account links, the favicon, the 403 that says why, the summary
setting for leads only, page titles, and supervision's "today" line and run buttons."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from core.models import JobRun, NotificationTache
from tests.conftest import TODAY
from tests.factories import SUPERVISION, TacheFactory, UserFactory, grant
from tests.web.conftest import NOW, client_for

pytestmark = pytest.mark.usefixtures("frozen")
SUPERVISION_URL = reverse("core:supervision")


def test_the_account_links_reach_preferences_password_and_admin(world):
    page = client_for(world.bob).get(reverse("core:dashboard")).content.decode()
    assert f'href="{reverse("core:preferences")}"' in page
    assert f'href="{reverse("password_change")}"' in page
    assert f'href="{reverse("admin:index")}"' not in page  # bob is not staff
    staff = UserFactory(username="staff", is_staff=True)
    assert f'href="{reverse("admin:index")}"' in client_for(staff).get("/").content.decode()
    # A directory account has no local password to change.
    world.bob.set_unusable_password()
    world.bob.save()
    page = client_for(world.bob).get("/").content.decode()
    assert f'href="{reverse("password_change")}"' not in page


def test_the_favicon_is_served(world):
    client = client_for(world.bob)
    page = client.get("/").content.decode()
    assert 'rel="icon" href="/static/core/favicon.svg"' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/core/favicon.svg"


def test_the_403_page_says_why(world):
    tache = TacheFactory(projet=world.projet, responsable=world.alice)
    response = client_for(world.bob).get(reverse("core:task_edit", args=[tache.pk]))
    assert response.status_code == 403
    assert "Seul le chef de projet peut modifier les tâches du projet." in (
        response.content.decode().replace("&#x27;", "'")
    )


def test_the_summary_setting_is_offered_to_leads_only(world):
    url = reverse("core:preferences")
    assert "email_summary" in client_for(world.alice).get(url).content.decode()
    page = client_for(world.bob).get(url).content.decode()
    assert "email_summary" not in page
    world.bob.email_summary = False
    world.bob.save()
    response = client_for(world.bob).post(url, {"email_alerts": "off"})
    assert response.status_code == 302
    world.bob.refresh_from_db()
    assert (world.bob.email_alerts, world.bob.email_summary) == (False, False)  # kept


def test_page_titles_name_the_task_and_the_error_state(world):
    tache = TacheFactory(projet=world.projet, nom="Migrer l'annuaire", responsable=world.bob)
    client = client_for(world.bob)
    names = ("core:task_detail", "core:task_finish", "core:task_block")
    pages = {name: client.get(reverse(name, args=[tache.pk])).content.decode() for name in names}
    for name, page in pages.items():
        assert "<title>" in page and "Migrer l&#x27;annuaire" in page.split("</title>")[0], name
    assert len({page.split("</title>")[0] for page in pages.values()}) == 3
    refused = client.post(reverse("core:task_block", args=[tache.pk]), {"motif": ""})
    assert "<title>Erreur&nbsp;: Signaler un blocage" in refused.content.decode()


@pytest.fixture
def operator(db):
    return grant(UserFactory(username="admin"), *SUPERVISION)


def record(job: str, *, status: str = JobRun.Status.SUCCESS, **kwargs) -> JobRun:
    return JobRun.objects.create(
        job=job,
        business_date=TODAY,
        status=status,
        started_at=NOW - datetime.timedelta(hours=2),
        finished_at=NOW - datetime.timedelta(hours=2),
        **kwargs,
    )


def test_supervision_says_for_each_daily_job_whether_today_was_done(operator):
    record("check_task_deadlines")
    record("send_daily_summary", status=JobRun.Status.FAILURE)
    page = client_for(operator).get(SUPERVISION_URL).content.decode()
    assert "Aujourd'hui&nbsp;:" in page
    check = page.split('id="today-check_task_deadlines"')[1].split("</p>")[0]
    summary = page.split('id="today-send_daily_summary"')[1].split("</p>")[0]
    assert "OK, fait à 08:00" in check
    assert "échec à 08:00" in summary
    assert 'id="today-cleanup_old_notifications"' not in page  # weekly, not daily


def test_a_daily_job_not_run_past_its_time_is_missed(operator):
    # 10:00, nothing recorded: both daily jobs (08:00 and 08:15) were missed.
    page = client_for(operator).get(SUPERVISION_URL).content.decode()
    check = page.split('id="today-check_task_deadlines"')[1].split("</p>")[0]
    assert "manqué" in check


@pytest.mark.parametrize("job", ["check_task_deadlines", "send_daily_summary"])
def test_every_daily_job_runs_from_the_page_and_the_run_shows(operator, world, job):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    client = client_for(operator)
    page = client.get(SUPERVISION_URL).content.decode()
    url = reverse("core:supervision_run_job", args=[job])
    assert f'action="{url}"' in page

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{SUPERVISION_URL}?job={job}&queued=")
    run = JobRun.objects.get(job=job)
    assert run.trigger == JobRun.Trigger.MANUAL  # eager here: it ran at once
    page = client.get(response["Location"]).content.decode()
    assert "mis en file d'attente" in page
    assert f'id="queued-{job}"' not in page  # started: shown as a run, not as pending
    if job == "check_task_deadlines":
        assert NotificationTache.objects.exists()


def test_a_run_queued_and_not_started_shows_pending(operator):
    query = "?job=send_daily_summary&queued=0f2c-not-started"
    page = client_for(operator).get(SUPERVISION_URL + query).content.decode()
    assert 'id="queued-send_daily_summary"' in page
    assert "en attente d'un processus Celery" in page


def test_only_the_recorded_jobs_run_from_the_page(operator):
    client = client_for(operator)
    assert client.post(reverse("core:supervision_run_job", args=["nope"])).status_code == 404
    url = reverse("core:supervision_run_job", args=["catch_up_missed_jobs"])
    assert client.post(url).status_code == 404


def test_a_status_has_one_colour_on_every_page(world):
    """ "Bloquée" was grey on the dashboards and amber elsewhere: one class, one rule."""
    tache = TacheFactory(
        projet=world.projet, responsable=world.bob, statut="BLOQUEE", date_echeance=TODAY
    )
    client = client_for(world.bob)
    for url in (
        reverse("core:dashboard"),
        reverse("core:project_detail", args=[world.projet.pk]),
        reverse("core:task_detail", args=[tache.pk]),
    ):
        assert 'class="pill status-bloquee"' in client.get(url).content.decode(), url
    css = (Path(settings.BASE_DIR) / "core/static/core/app.css").read_text()
    assert css.count(".pill.status-bloquee {") == 1
