"""The DSI (``core.view_portfolio``) reads every project and task in the application,
read only: no action offered, every change refused; the portfolio opens the
application's pages and the admin's "Voir sur le site" leads to one that works."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from core.models import Tache
from tests.conftest import TODAY
from tests.factories import PORTFOLIO, ProjetFactory, TacheFactory, UserFactory, grant
from tests.web.conftest import client_for

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def dsi(db):
    """Staff of the DSI: the portfolio permission and the admin's rights on projects
    and tasks; member of no project."""
    user = UserFactory(username="dsi", first_name="Denise", last_name="DSI", is_staff=True)
    return grant(user, *PORTFOLIO, "core.view_projet", "core.change_projet", "core.view_tache")


@pytest.fixture
def tache(world):
    return TacheFactory(
        projet=world.projet,
        nom="Migrer l'annuaire",
        responsable=world.bob,
        date_echeance=TODAY - datetime.timedelta(days=2),
    )


def test_projets_lists_every_project_for_the_dsi(world, dsi):
    ProjetFactory(nom="Projet de Charlie", chef_de_projet=world.charlie)

    response = client_for(dsi).get(reverse("core:project_list"))

    assert [p.nom for p in response.context["page"]] == ["Projet de Charlie", "Refonte du portail"]
    assert "Vous ne faites partie d" not in response.content.decode()


def test_the_dsi_reads_project_task_and_history_pages_with_no_action(world, dsi, tache):
    client = client_for(dsi)

    project = client.get(reverse("core:project_detail", args=[world.projet.pk]))
    task = client.get(reverse("core:task_detail", args=[tache.pk]))
    history = client.get(reverse("core:task_history", args=[tache.pk]))

    assert (project.status_code, task.status_code, history.status_code) == (200, 200, 200)
    page = project.content.decode()
    assert "Migrer l&#x27;annuaire" in page and 'id="read-only"' in page
    assert reverse("core:task_create", args=[world.projet.pk]) not in page
    detail = task.content.decode()
    assert 'id="read-only"' in detail and "Lecture seule" in detail
    for action in ("task_finish", "task_block", "task_edit", "task_progress"):
        assert reverse(f"core:{action}", args=[tache.pk]) not in detail, action
    assert 'id="progress-form"' not in detail


def test_the_dsi_changes_nothing(world, dsi, tache):
    client = client_for(dsi)
    posts = {
        "task_progress": {"statut": Tache.Statut.TERMINEE, "avancement": 100},
        "task_finish": {},
        "task_block": {"motif": "Rien"},
        "task_edit": {"nom": "Renommée"},
    }
    for action, data in posts.items():
        assert client.post(reverse(f"core:{action}", args=[tache.pk]), data).status_code == 403
        if action != "task_progress":
            assert client.get(reverse(f"core:{action}", args=[tache.pk])).status_code == 403
    create = reverse("core:task_create", args=[world.projet.pk])
    assert client.get(create).status_code == 403
    assert client.post(create, {"nom": "Nouvelle"}).status_code == 403
    tache.refresh_from_db()
    assert (tache.statut, tache.nom, tache.historique.count()) == (
        Tache.Statut.A_FAIRE,
        "Migrer l'annuaire",
        0,
    )
    assert world.projet.taches.count() == 1


def test_a_dsi_who_leads_a_project_still_acts_on_it(world, dsi, tache):
    world.projet.chef_de_projet = dsi
    world.projet.save()

    detail = client_for(dsi).get(reverse("core:task_detail", args=[tache.pk])).content.decode()

    assert reverse("core:task_edit", args=[tache.pk]) in detail
    assert 'id="read-only"' not in detail


def test_without_the_permission_nothing_changes(world, tache):
    staff = UserFactory(username="staff", is_staff=True)
    for user in (world.charlie, staff):
        client = client_for(user)
        assert client.get(reverse("core:project_detail", args=[world.projet.pk])).status_code == 404
        assert client.get(reverse("core:task_detail", args=[tache.pk])).status_code == 404
    member = client_for(world.bob).get(reverse("core:task_detail", args=[tache.pk]))
    assert 'id="read-only"' not in member.content.decode()


def test_the_portfolio_opens_the_application_and_the_admin_from_its_own_link(world, dsi):
    content = client_for(dsi).get(reverse("core:portfolio")).content.decode()

    project = reverse("core:project_detail", args=[world.projet.pk])
    admin = reverse("admin:core_projet_change", args=[world.projet.pk])
    assert f'<a href="{project}">Refonte du portail</a>' in content
    assert f'<a class="small admin-link" href="{admin}">administration' in content
    reader = grant(UserFactory(username="lecteur"), *PORTFOLIO)  # not staff: no admin link
    assert admin not in client_for(reader).get(reverse("core:portfolio")).content.decode()


def test_the_admins_view_on_site_leads_to_a_page_that_works(world, dsi, tache):
    client = client_for(dsi)
    for model, obj in (("projet", world.projet), ("tache", tache)):
        change = client.get(reverse(f"admin:core_{model}_change", args=[obj.pk]))
        assert change.status_code == 200
        assert change.context["has_absolute_url"], model
        assert "Voir sur le site" in change.content.decode()
        site = client.get(change.context["absolute_url"], follow=True)
        assert site.status_code == 200, model
        assert site.redirect_chain[-1][0].endswith(obj.get_absolute_url())


def test_no_view_on_site_for_staff_who_cannot_read_the_page(world, tache):
    staff = grant(UserFactory(username="staff", is_staff=True), "core.view_tache")

    change = client_for(staff).get(reverse("admin:core_tache_change", args=[tache.pk]))

    assert change.status_code == 200
    assert not change.context["has_absolute_url"]
    assert "Voir sur le site" not in change.content.decode()
