"""Every list page is bounded: a page of rows (or the latest few, with how many
more), in the same number of queries at two sizes 10x apart.

Each list is grown from a small to a ten-times larger size; the counts of
queries must be equal, and what a user sees (the next rows on page 2, the
search kept across pages) is checked at the larger size.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.jobs.registry import JOBS
from core.models import (
    Absence,
    Heartbeat,
    HistoriqueProjet,
    JobRun,
    OutboundEmail,
    Projet,
    Tache,
    User,
)
from core.selectors.health import RECENT_RUNS
from si_gouvernance.celery import app as celery_app
from tests.conftest import TODAY
from tests.factories import PORTFOLIO, SUPERVISION, UserFactory, add_projects, grant
from tests.web.conftest import NOW, client_for

pytestmark = pytest.mark.usefixtures("frozen")

DAY = datetime.timedelta(days=1)
PROJECTS = reverse("core:project_list")


def queries(client, url: str, data: dict | None = None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data or {})
    assert response.status_code == 200, response.status_code
    return len(captured), response


def names(response) -> list[str]:
    return [projet.nom for projet in response.context["page"]]


# --- The project list -------------------------------------------------------------


def test_the_dsi_project_list_costs_the_same_at_60_and_600_projects(world):
    dsi = grant(UserFactory(username="dsi"), *PORTFOLIO)
    client = client_for(dsi)
    add_projects(59, lead=world.charlie)
    small = [queries(client, PROJECTS, data)[0] for data in ({}, {"page": 2}, {"q": "p0"})]
    add_projects(540, lead=world.charlie)
    large = [queries(client, PROJECTS, data)[0] for data in ({}, {"page": 2}, {"q": "p0"})]

    assert large == small
    _count, response = queries(client, PROJECTS)
    assert len(response.context["page"].object_list) == 50
    assert response.context["page"].paginator.count == 600


def test_a_members_project_list_costs_the_same_at_6_and_60_projects(world):
    add_projects(5, lead=world.charlie, member=world.bob)
    small, _response = queries(client_for(world.bob), PROJECTS)
    add_projects(54, lead=world.charlie, member=world.bob)
    large, response = queries(client_for(world.bob), PROJECTS)

    assert large == small
    assert response.context["page"].paginator.count == 60


def test_the_project_list_pages_by_50_sorted_by_name_with_its_figures(world):
    dsi = grant(UserFactory(username="dsi"), *PORTFOLIO)
    add_projects(120, lead=world.charlie)
    client = client_for(dsi)

    first = client.get(PROJECTS)
    second = client.get(PROJECTS, {"page": 2})
    every = sorted(Projet.objects.values_list("nom", flat=True))
    assert names(first) == every[:50]
    assert names(second) == every[50:100]
    assert "Page 2 sur 3" in second.content.decode()
    assert "121 projets" in first.content.decode()
    # Each row's own figures: one late (due yesterday), two open, one done this week.
    row = next(p for p in second.context["page"] if p.code.startswith("p"))
    assert (row.open_count, row.late_count) == (2, 1)
    assert row.chef_de_projet == world.charlie


def test_the_search_finds_by_name_or_code_and_is_kept_across_pages(world):
    dsi = grant(UserFactory(username="dsi"), *PORTFOLIO)
    add_projects(130, lead=world.charlie)
    client = client_for(dsi)

    by_code = client.get(PROJECTS, {"q": "P001"})  # codes p00100 to p00130, any case
    assert names(by_code) == [f"Projet {i:05d}" for i in range(100, 131)]
    by_name = client.get(PROJECTS, {"q": "portail"})
    assert names(by_name) == ["Refonte du portail"]

    searched = client.get(PROJECTS, {"q": "Projet 000"})  # 99 projects: two pages
    html = searched.content.decode()
    assert 'href="?q=Projet+000&amp;page=2"' in html
    second = client.get(PROJECTS, {"q": "Projet 000", "page": 2})
    assert names(second) == [f"Projet {i:05d}" for i in range(51, 100)]
    assert 'value="Projet 000"' in second.content.decode()

    nothing = client.get(PROJECTS, {"q": "introuvable"}).content.decode()
    assert "Aucun projet ne correspond à cette recherche." in nothing


def test_a_member_searches_only_their_own_projects(world):
    add_projects(3, lead=world.charlie)  # not bob's
    add_projects(2, lead=world.charlie, member=world.bob)
    response = client_for(world.bob).get(PROJECTS, {"q": "Projet"})
    assert names(response) == ["Projet 00004", "Projet 00005"]
    assert names(client_for(world.bob).get(PROJECTS)) == [
        "Projet 00004",
        "Projet 00005",
        "Refonte du portail",
    ]


# --- Supervision ------------------------------------------------------------------

SUPERVISION_URL = reverse("core:supervision")
RECORDED = [job.key for job in JOBS if job.recorded]


@pytest.fixture
def supervisor(world):
    """An operator with the supervision's permissions; no broker listens on port 1."""
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    yield client_for(grant(UserFactory(username="operator"), *SUPERVISION))
    celery_app.conf.broker_url = saved


def add_history(n: int) -> None:
    """``n`` more days of runs of every recorded job, ``n`` sent emails (kept until
    the cleanup), and ``n`` workers and beats gone silent long ago."""
    start = JobRun.objects.count()
    JobRun.objects.bulk_create(
        JobRun(
            job=job,
            business_date=TODAY - (start + i) * DAY,
            status=JobRun.Status.SUCCESS,
            started_at=NOW - (start + i) * DAY,
            finished_at=NOW - (start + i) * DAY,
            counts={"total_created": start + i},
        )
        for i in range(n)
        for job in RECORDED
    )
    long_ago = NOW - 30 * DAY
    OutboundEmail.objects.bulk_create(
        OutboundEmail(
            to_address=f"sent{start + i}@dsi.example.org",
            subject="Envoyé",
            status=OutboundEmail.Status.SENT,
            last_attempt_at=long_ago,
        )
        for i in range(n)
    )
    Heartbeat.objects.bulk_create(
        Heartbeat(
            kind=kind, hostname=f"host{start + i}", pid=i, started_at=long_ago, last_seen=long_ago
        )
        for i in range(n)
        for kind in (Heartbeat.Kind.WORKER, Heartbeat.Kind.BEAT)
    )


def test_the_supervision_page_costs_the_same_with_20_or_200_days_of_history(supervisor):
    OutboundEmail.objects.create(to_address="a@dsi.example.org", subject="En attente")
    OutboundEmail.objects.create(
        to_address="b@dsi.example.org", subject="Échoué", status=OutboundEmail.Status.FAILED
    )
    add_history(20)
    small, _response = queries(supervisor, SUPERVISION_URL)
    add_history(180)
    large, response = queries(supervisor, SUPERVISION_URL)

    assert large == small
    panels = {panel.status.key: panel for panel in response.context["jobs"]}
    for job in RECORDED:  # the latest RECENT_RUNS runs, newest first
        started = [row.run.started_at for row in panels[job].rows]
        assert started == [NOW - i * DAY for i in range(RECENT_RUNS)]
    outbox = response.context["outbox"]
    assert (outbox.pending, outbox.failed) == (1, 1)
    html = response.content.decode()
    assert html.count("<tr>") == len(RECORDED) * (RECENT_RUNS + 1)  # rows and heads
    assert "host" not in html  # the silent beats are not listed as ticking


# --- Absences ---------------------------------------------------------------------

ABSENCES = reverse("core:absences")


def add_absences(user: User, n: int) -> None:
    """``n`` more week-long absences of ``user``, one a fortnight back in time."""
    start = Absence.objects.filter(utilisateur=user).count()
    Absence.objects.bulk_create(
        Absence(utilisateur=user, debut=monday, fin=monday + 4 * DAY, motif=f"Congés {k}")
        for k in range(start, start + n)
        for monday in [TODAY - 14 * k * DAY]
    )


def test_the_absences_page_costs_the_same_at_6_and_60_absences_and_pages_them(world):
    client = client_for(world.bob)
    add_absences(world.charlie, 70)  # someone else's: never listed
    add_absences(world.bob, 6)
    small = [queries(client, ABSENCES, data)[0] for data in ({}, {"page": 2})]
    add_absences(world.bob, 54)
    large = [queries(client, ABSENCES, data)[0] for data in ({}, {"page": 2})]

    assert large == small
    first = client.get(ABSENCES)
    motifs = [absence.motif for absence in first.context["page"]]
    assert motifs == [f"Congés {k}" for k in range(50)]  # the latest first
    assert 'href="?page=2"' in first.content.decode()
    second = client.get(ABSENCES, {"page": 2})
    assert [absence.motif for absence in second.context["page"]] == [
        f"Congés {k}" for k in range(50, 60)
    ]
    assert "Page 2 sur 2" in second.content.decode()


# --- A project's history ------------------------------------------------------------


def add_project_history(world, n: int) -> None:
    """``n`` more hand-overs of the project, a minute apart back in time, each
    naming two leads by id (the page puts their names in words)."""
    start = HistoriqueProjet.objects.filter(projet=world.projet).count()
    leads = UserFactory.create_batch(2)
    HistoriqueProjet.objects.bulk_create(
        HistoriqueProjet(
            projet=world.projet,
            auteur=world.alice,
            action=HistoriqueProjet.Action.PASSATION,
            champ="chef_de_projet",
            ancienne_valeur=str(leads[k % 2].pk),
            nouvelle_valeur=str(world.alice.pk),
            motif=f"Passation {k}",
            date=NOW - k * datetime.timedelta(minutes=1),
        )
        for k in range(start, start + n)
    )


def test_a_project_history_costs_the_same_at_60_and_600_entries_and_pages_them(world):
    url = reverse("core:project_history", args=[world.projet.pk])
    client = client_for(world.bob)  # a member reads it
    add_project_history(world, 60)
    small = [queries(client, url, data)[0] for data in ({}, {"page": 2})]
    add_project_history(world, 540)
    large = [queries(client, url, data)[0] for data in ({}, {"page": 2})]

    assert large == small
    second = client.get(url, {"page": 2})
    lines = second.context["lines"]
    assert [line.entry.motif for line in lines] == [f"Passation {k}" for k in range(50, 100)]
    assert lines[0].new == "Alice Martin"
    html = second.content.decode()
    assert "Page 2 sur 12" in html and 'href="?page=3"' in html


# --- Project admin: a leaving member's open tasks -----------------------------------


def test_removing_a_member_lists_20_of_their_open_tasks_at_25_or_250_with_a_link(world):
    url = reverse("core:member_remove", args=[world.projet.pk, world.bob.pk])
    client = client_for(world.alice)

    def give_bob(n: int) -> None:
        Tache.objects.bulk_create(
            Tache(projet=world.projet, nom=f"Tâche {k}", responsable=world.bob) for k in range(n)
        )

    give_bob(25)
    small, _response = queries(client, url)
    give_bob(225)
    large, response = queries(client, url)

    assert large == small
    html = response.content.decode()
    assert html.count("<li><a href=") == 20
    link = response.context["open_filter"], world.bob.pk
    href = reverse("core:project_detail", args=[world.projet.pk])
    assert f'href="{href}?statut={link[0]}&amp;responsable={link[1]}"' in html
    assert "Voir les 250 tâches ouvertes sur la page du projet" in html
    listed = client.get(href, {"statut": link[0], "responsable": link[1]})
    assert listed.context["page"].paginator.count == 250
