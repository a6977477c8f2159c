"""A project managed in the application: the lead's pages for the project, its
phases and its members; everyone else is refused, and a GET never changes anything."""

from __future__ import annotations

import datetime
import html

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from core.models import Etape, HistoriqueProjet, MembreProjet, Projet, Tache
from core.services.directory_accounts import LEAD_GROUP_NAME
from tests.conftest import TODAY
from tests.factories import (
    PORTFOLIO,
    EtapeFactory,
    TacheFactory,
    UserFactory,
    grant,
)
from tests.web.conftest import NOW, client_for

pytestmark = pytest.mark.usefixtures("frozen")
DAY = datetime.timedelta(days=1)


@pytest.fixture
def lead_group(db) -> Group:
    """« Chefs de projet » as migration 0014 leaves it (a flush may have emptied it)."""
    group, _created = Group.objects.get_or_create(name=LEAD_GROUP_NAME)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="core", codename="add_projet")
    )
    return group


def detail(world) -> str:
    return reverse("core:project_detail", args=[world.projet.pk])


def phase_data(**overrides):
    data = {"nom": "Recette", "ordre": "", "date_debut_prevue": "", "date_fin_prevue": ""}
    data.update(overrides)
    return data


def phases(world) -> list[tuple[str, int]]:
    return list(
        Etape.objects.filter(projet=world.projet).order_by("ordre").values_list("nom", "ordre")
    )


def test_the_lead_adds_edits_reorders_and_deletes_a_phase(world):
    client = client_for(world.alice)
    add = reverse("core:phase_create", args=[world.projet.pk])
    assert client.post(add, phase_data(nom="Cadrage")).status_code == 302
    response = client.post(add, phase_data(nom="Recette", date_fin_prevue="2026-12-31"))
    assert response.status_code == 302 and response.url == detail(world)
    assert phases(world) == [("Cadrage", 1), ("Recette", 2)]

    recette = Etape.objects.get(nom="Recette")
    edit = reverse("core:phase_edit", args=[recette.pk])
    data = phase_data(nom="Recette utilisateur", ordre="2", date_debut_prevue="2026-12-01")
    assert client.post(edit, data).status_code == 302
    recette.refresh_from_db()
    assert (recette.nom, recette.date_debut_prevue) == ("Recette utilisateur", TODAY + 6 * DAY)

    assert client.post(reverse("core:phase_move_up", args=[recette.pk])).status_code == 302
    assert phases(world) == [("Recette utilisateur", 1), ("Cadrage", 2)]
    page = client.get(detail(world)).content.decode()
    assert "Monter" in page and "Descendre" in page

    tache = TacheFactory(projet=world.projet, etape=recette)
    delete = reverse("core:phase_delete", args=[recette.pk])
    confirm = client.get(delete).content.decode()
    assert "1 tâche reste dans le projet, sans étape." in confirm
    assert client.post(delete).status_code == 302
    assert phases(world) == [("Cadrage", 2)]
    tache.refresh_from_db()
    assert tache.etape is None


def test_phase_dates_and_numbers_are_checked_in_french(world):
    EtapeFactory(projet=world.projet, nom="Cadrage", ordre=1)
    client = client_for(world.alice)
    add = reverse("core:phase_create", args=[world.projet.pk])
    response = client.post(
        add, phase_data(date_debut_prevue="2026-12-10", date_fin_prevue="2026-12-01")
    )
    assert response.status_code == 200
    assert "La fin prévue (01/12/2026) est antérieure au début (10/12/2026)." in (
        response.content.decode()
    )
    response = client.post(add, phase_data(ordre="1"))
    assert "Une autre étape du projet porte déjà le numéro 1." in response.content.decode()
    assert (
        not HistoriqueProjet.objects.filter(sujet="ETAPE", action="CREATION")
        .exclude(etape_nom="Cadrage")
        .exists()
    )


def test_the_lead_edits_the_project_but_not_its_code(world):
    client = client_for(world.alice)
    url = reverse("core:project_edit", args=[world.projet.pk])
    form = client.get(url).context["form"]
    assert "code" not in form.fields
    data = {
        "nom": "Portail 2",
        "statut": "SUSPENDU",
        "date_debut": "2026-11-01",
        "date_fin_prevue": "2026-10-01",
        "description": "",
        "motif": "",
        "code": "pirate",
    }
    response = client.post(url, data)
    assert "La fin prévue (01/10/2026) est antérieure au début (01/11/2026)." in (
        response.content.decode()
    )
    data["date_fin_prevue"] = "2027-03-31"
    assert client.post(url, data).status_code == 302
    world.projet.refresh_from_db()
    assert (world.projet.nom, world.projet.statut, world.projet.code) == (
        "Portail 2",
        "SUSPENDU",
        "portail",
    )


def test_a_member_added_then_removed_gains_then_loses_access(world):
    client = client_for(world.alice)
    dora = UserFactory(username="dora", email="dora@dsi.example.org")
    add = reverse("core:member_add", args=[world.projet.pk])
    data = {"login": "DORA@dsi.example.org", "role": "REFERENT", "date_debut": "2026-11-25"}
    assert client.post(add, data).status_code == 302
    assert client_for(dora).get(detail(world)).status_code == 200

    TacheFactory(projet=world.projet, responsable=dora, nom="Valider les maquettes")
    remove = reverse("core:member_remove", args=[world.projet.pk, dora.pk])
    confirm = client.get(remove).content.decode()
    assert "1 tâche ouverte dans le projet" in confirm and "Valider les maquettes" in confirm
    assert client.post(remove, {"date_fin": "2026-11-25"}).status_code == 302
    assert client_for(dora).get(detail(world)).status_code == 200  # until that day, included
    with time_machine.travel(NOW + DAY, tick=False):
        assert client_for(dora).get(detail(world)).status_code == 404
        # Her task stays hers: said on the confirmation, not silently changed.
        assert Tache.objects.get(nom="Valider les maquettes").responsable == dora
        # Added again: the same membership, reopened.
        data["date_debut"] = "2026-11-26"
        assert client_for(world.alice).post(add, data).status_code == 302
        assert client_for(dora).get(detail(world)).status_code == 200
    assert MembreProjet.objects.filter(projet=world.projet, utilisateur=dora).count() == 1


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ("nobody", "Aucun compte n'a cet identifiant ou cette adresse\u00a0: nobody."),
        ("sleeper", "est désactivé."),
        ("bob", "est déjà membre du projet."),
    ],
)
def test_an_unknown_inactive_or_present_colleague_is_refused(world, login, message):
    UserFactory(username="sleeper", is_active=False)
    add = reverse("core:member_add", args=[world.projet.pk])
    data = {"login": login, "role": "MEMBRE", "date_debut": "2026-11-25"}
    response = client_for(world.alice).post(add, data)
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert not HistoriqueProjet.objects.exists()


def test_the_member_form_has_no_list_of_every_account(world):
    UserFactory.create_batch(3)
    page = client_for(world.alice).get(reverse("core:member_add", args=[world.projet.pk]))
    content = page.content.decode()
    assert 'type="text" name="login"' in content
    assert content.count("<select") == 1 and '<select name="role"' in content


def test_hand_over_makes_the_old_lead_a_member(world):
    client = client_for(world.alice)
    url = reverse("core:project_hand_over", args=[world.projet.pk])
    response = client.post(url, {"login": "bob", "motif": "Mutation"})
    assert response.status_code == 302
    world.projet.refresh_from_db()
    assert world.projet.chef_de_projet == world.bob
    assert client.get(detail(world)).status_code == 200  # alice, now a member
    assert client.get(url).status_code == 403
    # Bob is told in his notification centre; the notification opens the project.
    bob = client_for(world.bob)
    centre = html.unescape(bob.get(reverse("core:notification_list")).content.decode())
    assert "Projet confié\u00a0: Refonte du portail" in centre
    told = world.bob.notifications.get()
    opened = bob.get(reverse("core:notification_open", args=[told.pk]))
    assert opened.status_code == 302 and opened.url == detail(world)


def management_urls(world) -> list[str]:
    etape = EtapeFactory(projet=world.projet, nom="Cadrage", ordre=1)
    EtapeFactory(projet=world.projet, nom="Recette", ordre=2)
    pk = world.projet.pk
    return [
        reverse("core:project_edit", args=[pk]),
        reverse("core:project_hand_over", args=[pk]),
        reverse("core:phase_create", args=[pk]),
        reverse("core:phase_edit", args=[etape.pk]),
        reverse("core:phase_delete", args=[etape.pk]),
        reverse("core:phase_move_up", args=[etape.pk]),
        reverse("core:phase_move_down", args=[etape.pk]),
        reverse("core:member_add", args=[pk]),
        reverse("core:member_remove", args=[pk, world.bob.pk]),
    ]


def snapshot(world):
    return (
        list(Projet.objects.values_list("nom", "statut", "chef_de_projet_id")),
        phases(world),
        list(MembreProjet.objects.values_list("utilisateur_id", "date_fin", "role")),
        HistoriqueProjet.objects.count(),
    )


def test_members_strangers_and_the_dsi_are_refused_on_every_url_and_post(world):
    urls = management_urls(world)
    dsi = grant(UserFactory(username="dsi"), *PORTFOLIO)
    before = snapshot(world)
    posted = {
        "nom": "Piraté",
        "statut": "ARCHIVE",
        "login": "charlie",
        "role": "MEMBRE",
        "date_debut": "2026-11-25",
        "date_fin": "2026-11-25",
        "ordre": "9",
    }
    for user, refused in ((world.bob, 403), (dsi, 403), (world.charlie, 404)):
        client = client_for(user)
        for url in urls:
            if "monter" not in url and "descendre" not in url:
                assert client.get(url).status_code == refused, (user, url)
            assert client.post(url, posted).status_code == refused, (user, url)
    assert snapshot(world) == before


def test_a_get_changes_nothing(world):
    urls = management_urls(world)
    before = snapshot(world)
    client = client_for(world.alice)
    for url in urls:
        expected = 405 if "monter" in url or "descendre" in url else 200
        assert client.get(url).status_code == expected, url
    assert snapshot(world) == before


def test_posts_need_the_csrf_token(world):
    url = reverse("core:phase_create", args=[world.projet.pk])
    client = client_for(world.alice, enforce_csrf_checks=True)
    assert client.post(url, phase_data()).status_code == 403
    assert not Etape.objects.exists()


def test_the_management_links_are_the_leads_only(world):
    EtapeFactory(projet=world.projet, nom="Cadrage", ordre=1)
    lead = client_for(world.alice).get(detail(world)).content.decode()
    member = client_for(world.bob).get(detail(world)).content.decode()
    for marker in ('id="project-edit"', 'id="phase-add"', 'id="member-add"', "Retirer"):
        assert marker in lead and marker not in member
    assert 'id="project-history"' in lead and 'id="project-history"' in member


def project_data(**overrides):
    data = {
        "code": "erp",
        "nom": "Nouvel ERP",
        "chef": "",
        "statut": "PLANIFIE",
        "date_debut": "",
        "date_fin_prevue": "",
        "description": "",
    }
    data.update(overrides)
    return data


def test_a_chefs_de_projet_member_creates_a_project_they_then_lead(world, lead_group):
    jeanne = UserFactory(username="jeanne")
    jeanne.groups.add(lead_group)
    client = client_for(jeanne)
    listing = client.get(reverse("core:project_list")).content.decode()
    assert 'id="project-create"' in listing
    create = reverse("core:project_create")
    assert client.get(create).context["form"].initial["chef"] == "jeanne"
    response = client.post(create, project_data(chef="jeanne"))
    projet = Projet.objects.get(code="erp")
    assert response.status_code == 302 and response.url == projet.get_absolute_url()
    assert projet.chef_de_projet == jeanne
    taken = client.post(create, project_data(chef="jeanne", nom="Autre"))
    assert "Le code erp est déjà utilisé par un autre projet." in taken.content.decode()


def test_a_plain_user_cannot_create_a_project(world):
    client = client_for(world.bob)
    assert 'id="project-create"' not in client.get(reverse("core:project_list")).content.decode()
    create = reverse("core:project_create")
    assert client.get(create).status_code == 403
    assert client.post(create, project_data(chef="bob")).status_code == 403
    assert not Projet.objects.filter(code="erp").exists()


def test_the_history_page_says_the_changes_in_french(world):
    client = client_for(world.alice)
    client.post(
        reverse("core:project_edit", args=[world.projet.pk]),
        {
            "nom": world.projet.nom,
            "statut": "SUSPENDU",
            "date_debut": "",
            "date_fin_prevue": "2026-12-31",
            "description": "",
            "motif": "Budget gelé",
        },
    )
    client.post(reverse("core:phase_create", args=[world.projet.pk]), phase_data(nom="Cadrage"))
    client.post(
        reverse("core:member_remove", args=[world.projet.pk, world.bob.pk]),
        {"date_fin": "2026-11-30"},
    )
    client.post(reverse("core:project_hand_over", args=[world.projet.pk]), {"login": "charlie"})
    history = reverse("core:project_history", args=[world.projet.pk])
    for reader in (world.alice, world.charlie, grant(UserFactory(), *PORTFOLIO)):
        page = client_for(reader).get(history)
        assert page.status_code == 200
    text = html.unescape(page.content.decode())
    for expected in (
        "En cours → Suspendu",
        "— → 31/12/2026",
        "Budget gelé",
        "Étape «\u00a0Cadrage\u00a0»",
        "Membre retiré",
        "Bob Durand",
        "30/11/2026",
        "Passation",
        "Alice Martin → Charlie Petit",
    ):
        assert expected in text, expected
    assert "SUSPENDU" not in text and "2026-12-31" not in text
    assert client_for(UserFactory()).get(history).status_code == 404
