"""The admin a DSI administrator uses: every page loads, in a fixed number of queries."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Etape, HistoriqueProjet, JobRun, OutboundEmail, Projet, Tache
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY, World
from tests.factories import (
    EtapeFactory,
    MembreProjetFactory,
    ProjetFactory,
    TacheFactory,
    UserFactory,
    add_comments,
)

MODELS = [
    "user",
    "projet",
    "membreprojet",
    "etape",
    "tache",
    "historiquetache",
    "notificationtache",
    "jobrun",
    "outboundemail",
]


@pytest.fixture
def admin_client(world: World) -> Client:
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def add_rows(world: World, n: int) -> None:
    """n more of everything the changelists show (the alerts about the tasks, and
    about the phases and projects, which end today)."""
    for i in range(n):
        lead = UserFactory()
        projet = ProjetFactory(chef_de_projet=lead, date_fin_prevue=TODAY)
        MembreProjetFactory(projet=projet, utilisateur=world.bob)
        etape = EtapeFactory(projet=projet, ordre=1, date_fin_prevue=TODAY)
        tache = Tache.objects.create(
            projet=projet, etape=etape, nom=f"T{i}", responsable=world.bob, date_echeance=TODAY
        )
        add_comments(tache, 2, auteur=world.bob)
        JobRun.objects.create(
            job="check_task_deadlines", business_date=TODAY, started_at=timezone.now()
        )
        OutboundEmail.objects.create(
            recipient=lead, to_address=lead.email, subject=f"S{i}", body_text="x"
        )
    create_deadline_alerts(today=TODAY)


def changelist_queries(client: Client, model: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(f"admin:core_{model}_changelist"))
    assert response.status_code == 200, model
    return len(ctx.captured_queries)


@pytest.mark.parametrize("model", MODELS)
def test_changelist_query_count_does_not_grow_with_rows(
    admin_client: Client, world: World, model: str
) -> None:
    add_rows(world, 2)
    few = changelist_queries(admin_client, model)
    add_rows(world, 12)
    many = changelist_queries(admin_client, model)

    assert many == few, f"{model}: {few} queries with few rows, {many} with more"


def test_changelists_show_what_matters(admin_client: Client, world: World) -> None:
    add_rows(world, 1)
    Tache.objects.create(projet=world.projet, nom="Recette du portail", responsable=world.bob)

    projets = admin_client.get(reverse("admin:core_projet_changelist")).content.decode()
    taches = admin_client.get(reverse("admin:core_tache_changelist") + "?q=portail")

    assert "Refonte du portail" in projets and str(world.alice) in projets
    assert taches.status_code == 200
    found = [t.nom for t in taches.context["cl"].result_list]
    assert found == ["Recette du portail"]  # searched by project code: only the portail's


@pytest.mark.parametrize("model", MODELS)
def test_add_page_loads(admin_client: Client, model: str) -> None:
    response = admin_client.get(reverse(f"admin:core_{model}_add"))

    # Job runs are written by the jobs only, outbox rows and history by the application.
    written_elsewhere = ("jobrun", "outboundemail", "historiquetache")
    assert response.status_code == (403 if model in written_elsewhere else 200)


def test_projet_change_page_shows_members_and_phases(admin_client: Client, world: World) -> None:
    EtapeFactory(projet=world.projet, nom="Cadrage", ordre=1)

    response = admin_client.get(reverse("admin:core_projet_change", args=[world.projet.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Cadrage" in page and "adhesions-0-utilisateur" in page


def test_user_change_page_has_the_email_preferences(admin_client: Client, world: World) -> None:
    response = admin_client.get(reverse("admin:core_user_change", args=[world.bob.pk]))

    page = response.content.decode()
    assert 'name="email_alerts"' in page and 'name="email_summary"' in page


def test_open_tasks_column_counts_only_open_tasks(admin_client: Client, world: World) -> None:
    for statut in (Tache.Statut.A_FAIRE, Tache.Statut.BLOQUEE, Tache.Statut.TERMINEE):
        Tache.objects.create(projet=world.projet, nom=statut, statut=statut)
    Tache.objects.create(
        projet=world.projet, nom="old", date_echeance=TODAY - datetime.timedelta(days=1)
    )

    response = admin_client.get(reverse("admin:core_projet_changelist"))

    assert response.context["cl"].result_list[0]._open_tasks == 3


def change_page(client: Client, tache: Tache) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:core_tache_change", args=[tache.pk]))
    assert response.status_code == 200
    return response.content.decode(), len(ctx.captured_queries)


def test_task_change_page_shows_the_latest_20_entries_and_links_to_the_rest(
    admin_client: Client, world: World
) -> None:
    tache = TacheFactory(projet=world.projet, responsable=world.bob)
    add_comments(tache, 3, auteur=world.bob)
    _, few = change_page(admin_client, tache)
    add_comments(tache, 197, auteur=world.bob)
    page, many = change_page(admin_client, tache)

    assert many == few
    assert page.count('class="history-entry') == 20
    history = reverse("admin:core_historiquetache_changelist") + f"?tache__id__exact={tache.pk}"
    assert f'href="{history}"' in page and "Voir tout l'historique (200)" in page


def test_the_history_list_is_filtered_by_task_paged_and_read_only(
    admin_client: Client, world: World
) -> None:
    tache, other = TacheFactory.create_batch(2, projet=world.projet)
    add_comments(tache, 120, auteur=world.bob)
    add_comments(other, 5, auteur=world.bob)

    url = reverse("admin:core_historiquetache_changelist") + f"?tache__id__exact={tache.pk}"
    response = admin_client.get(url)

    assert response.status_code == 200
    cl = response.context["cl"]
    assert cl.result_count == 120 and len(cl.result_list) == 50
    assert {row.tache_id for row in cl.result_list} == {tache.pk}
    entry = cl.result_list[0]
    detail = admin_client.get(reverse("admin:core_historiquetache_change", args=[entry.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()


def test_the_notifications_about_a_phase_or_a_project_name_it(
    admin_client: Client, world: World
) -> None:
    add_rows(world, 1)
    etape = Etape.objects.get()

    content = admin_client.get(reverse("admin:core_notificationtache_changelist")).content.decode()

    assert str(etape) in content  # the phase's alert
    assert str(etape.projet) in content  # the project's


class _FormFields(HTMLParser):
    """The values a browser would send from the admin's change form."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "checkbox"):
            self.data[name] = a.get("value") or ""
        elif tag == "input" and name and "checked" in a:
            self.data[name] = a.get("value") or "on"
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data


def test_a_project_changed_in_the_admin_is_in_its_history(
    admin_client: Client, world: World
) -> None:
    url = reverse("admin:core_projet_change", args=[world.projet.pk])
    form = _FormFields()
    form.feed(admin_client.get(url).content.decode())
    new_lead = UserFactory(username="nina")

    data = {**form.data, "statut": Projet.Statut.SUSPENDU, "chef_de_projet": str(new_lead.pk)}
    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    changes = {
        (row.champ, row.ancienne_valeur, row.nouvelle_valeur)
        for row in HistoriqueProjet.objects.filter(projet=world.projet)
    }
    assert changes == {
        ("statut", Projet.Statut.EN_COURS, Projet.Statut.SUSPENDU),
        ("chef_de_projet", str(world.alice.pk), str(new_lead.pk)),
    }
    assert HistoriqueProjet.objects.filter(auteur__username="admin").count() == 2


def test_a_project_added_in_the_admin_opens_its_history(admin_client: Client, world: World) -> None:
    url = reverse("admin:core_projet_add")
    form = _FormFields()
    form.feed(admin_client.get(url).content.decode())
    data = {
        **form.data,
        "code": "crm",
        "nom": "Nouveau CRM",
        "chef_de_projet": str(world.alice.pk),
        "statut": Projet.Statut.PLANIFIE,
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    projet = Projet.objects.get(code="crm")
    assert set(projet.historique.values_list("action", "champ")) == {
        ("CREATION", "code"),
        ("CREATION", "nom"),
        ("CREATION", "chef_de_projet"),
        ("CREATION", "statut"),
    }
