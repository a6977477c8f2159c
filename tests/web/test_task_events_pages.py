"""The pages of issue 20: "Lever le blocage", the dashboards most urgent first,
paused tasks in "Mes tâches", the event switches of the preferences."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from core.models import HistoriqueTache, NotificationTache, Tache
from core.services import task_updates
from tests.conftest import TODAY
from tests.factories import MembreProjetFactory, TacheFactory, UserFactory
from tests.web.conftest import client_for

pytestmark = pytest.mark.usefixtures("frozen")

DAY = datetime.timedelta(days=1)
Statut = Tache.Statut


@pytest.fixture
def blocked(world):
    tache = TacheFactory(
        projet=world.projet, nom="Migrer l'annuaire", responsable=world.bob, date_echeance=TODAY
    )
    task_updates.report_blocked(
        tache_id=tache.pk, author=world.bob, reason="Pas d'accès au serveur", today=TODAY
    )
    return tache


def test_lifting_is_a_confirmation_with_the_reason_on_get_and_the_change_on_post(world, blocked):
    client = client_for(world.alice)
    url = reverse("core:task_unblock", args=[blocked.pk])
    back = reverse("core:notification_list")

    page = client.get(url, {"next": back})

    assert page.status_code == 200
    content = page.content.decode()
    assert "Lever le blocage de cette tâche\u00a0?" in content
    assert "Pas d&#x27;accès au serveur" in content
    blocked.refresh_from_db()
    assert blocked.statut == Statut.BLOQUEE

    response = client.post(url, {"commentaire": "Accès ouvert", "next": back})

    assert response["Location"] == back
    blocked.refresh_from_db()
    assert blocked.statut == Statut.EN_COURS
    entry = HistoriqueTache.objects.filter(tache=blocked, champ="STATUT").latest("id")
    assert (entry.auteur, entry.ancien_statut, entry.motif) == (
        world.alice,
        Statut.BLOQUEE,
        "Accès ouvert",
    )
    told = NotificationTache.objects.get(type_notification="DEBLOCAGE")
    assert told.destinataire == world.bob and "Accès ouvert" in told.message
    assert "pas (ou plus) bloquée" in client.get(url).content.decode()


def test_the_task_page_offers_lifting_a_blockage(world, blocked):
    content = client_for(world.bob).get(blocked.get_absolute_url()).content.decode()

    assert 'id="unblock-link"' in content and 'id="block-link"' not in content


def test_lifting_needs_csrf_the_right_to_act_and_sight_of_the_task(world, blocked):
    url = reverse("core:task_unblock", args=[blocked.pk])
    dana = UserFactory(username="dana")
    MembreProjetFactory(projet=world.projet, utilisateur=dana)

    assert client_for(world.alice, enforce_csrf_checks=True).post(url).status_code == 403
    assert client_for(dana).post(url).status_code == 403  # a member, not the owner
    assert client_for(world.charlie).post(url).status_code == 404  # not a member
    blocked.refresh_from_db()
    assert blocked.statut == Statut.BLOQUEE


def test_the_leads_urgent_tasks_come_before_their_own_later_ones(world):
    def task(nom, due, **kwargs):
        return TacheFactory(projet=world.projet, nom=nom, date_echeance=due, **kwargs)

    task("Ma tâche en retard", TODAY - DAY, responsable=world.alice)
    task("Ma tâche plus tard", TODAY + 20 * DAY, responsable=world.alice)
    task("Du jour", TODAY, responsable=world.bob)
    task("Bloquée lointaine", TODAY + 60 * DAY, responsable=world.bob, statut=Statut.BLOQUEE)

    response = client_for(world.alice).get(reverse("core:dashboard"))

    content = response.content.decode()
    assert (
        content.index('id="group-late"')
        < content.index('id="urgent-taches"')
        < content.index('id="group-later"')
    )
    urgent = content.split('id="urgent-taches"')[1].split("</section>")[0]
    row = urgent.split("Du jour")[1].split("</li>")[0]
    assert '<span class="pill today">aujourd\'hui</span>' in row
    # A blocked task is there whatever its due date.
    assert "Bloquée lointaine" in urgent


def test_paused_tasks_stay_in_my_tasks_with_their_status(world):
    TacheFactory(
        projet=world.projet,
        nom="En attente du fournisseur",
        responsable=world.bob,
        statut=Statut.EN_PAUSE,
        date_echeance=TODAY + 3 * DAY,
    )

    content = client_for(world.bob).get(reverse("core:dashboard")).content.decode()

    assert "En attente du fournisseur" in content
    row = content.split("En attente du fournisseur")[1].split("</li>")[0]
    assert "En pause" in row


def test_an_event_type_switched_off_in_the_preferences_is_not_notified(world, blocked):
    client = client_for(world.alice)
    page = client.get(reverse("core:preferences")).content.decode()
    assert "signale un blocage sur une tâche d&#x27;un projet que je dirige" in page
    kept = ["DEBLOCAGE", "ASSIGNATION", "ECHEANCE_MODIFIEE", "REOUVERTURE"]

    response = client.post(
        reverse("core:preferences"),
        {"email_alerts": "default", "email_summary": "default", "events": kept},
    )

    assert response.status_code == 302
    world.alice.refresh_from_db()
    assert world.alice.muted_events == ["BLOCAGE"]
    other = TacheFactory(projet=world.projet, responsable=world.bob)
    task_updates.report_blocked(tache_id=other.pk, author=world.bob, reason="Non", today=TODAY)
    assert not NotificationTache.objects.filter(tache=other).exists()
    assert 'value="BLOCAGE"' in client.get(reverse("core:preferences")).content.decode()
