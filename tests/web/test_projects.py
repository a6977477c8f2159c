"""Projects and tasks: the lead writes, members read, outsiders see nothing (404)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from core.models import Tache
from tests.conftest import TODAY
from tests.factories import EtapeFactory, MembreProjetFactory, ProjetFactory, TacheFactory
from tests.web.conftest import client_for

pytestmark = pytest.mark.usefixtures("frozen")
DAY = datetime.timedelta(days=1)


@pytest.fixture
def tache(world):
    return TacheFactory(
        projet=world.projet,
        nom="Migrer l'annuaire",
        responsable=world.bob,
        date_echeance=TODAY - datetime.timedelta(days=2),
    )


def form_data(**overrides):
    data = {
        "nom": "Recetter le portail",
        "description": "",
        "etape": "",
        "responsable": "",
        "statut": Tache.Statut.A_FAIRE,
        "priorite": Tache.Priorite.NORMALE,
        "date_echeance": "2026-12-15",
    }
    data.update(overrides)
    return data


def test_project_list_shows_led_and_member_projects_only(world):
    ProjetFactory(nom="Projet secret", chef_de_projet=world.charlie)
    for user in (world.alice, world.bob):
        names = [p.nom for p in client_for(user).get(reverse("core:project_list")).context["page"]]
        assert names == ["Refonte du portail"]
    charlie_names = [
        p.nom for p in client_for(world.charlie).get(reverse("core:project_list")).context["page"]
    ]
    assert charlie_names == ["Projet secret"]


def test_a_member_who_left_no_longer_sees_the_project(world):
    dora = MembreProjetFactory(
        projet=world.projet, date_fin=TODAY - datetime.timedelta(days=1)
    ).utilisateur
    response = client_for(dora).get(reverse("core:project_detail", args=[world.projet.pk]))
    assert response.status_code == 404


def test_project_detail_shows_phases_members_and_tasks(world, tache):
    EtapeFactory(projet=world.projet, nom="Cadrage", ordre=1)
    TacheFactory(projet=world.projet, nom="Tâche terminée", statut=Tache.Statut.TERMINEE)

    response = client_for(world.bob).get(reverse("core:project_detail", args=[world.projet.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Cadrage" in content
    assert "Bob Durand" in content and "Alice Martin" in content
    assert "Migrer l&#x27;annuaire" in content and "Tâche terminée" in content
    assert "pill late" in content  # the late task is shown as late
    # A member reads; no button to create a task.
    assert reverse("core:task_create", args=[world.projet.pk]) not in content


def test_lead_sees_the_create_button(world):
    response = client_for(world.alice).get(reverse("core:project_detail", args=[world.projet.pk]))
    assert reverse("core:task_create", args=[world.projet.pk]) in response.content.decode()


@pytest.mark.parametrize(
    "url_name",
    ["core:project_detail", "core:task_create"],
)
def test_outsider_gets_404_for_the_project(world, url_name):
    response = client_for(world.charlie).get(reverse(url_name, args=[world.projet.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("url_name", ["core:task_detail", "core:task_edit"])
def test_outsider_gets_404_for_a_task(world, tache, url_name):
    response = client_for(world.charlie).get(reverse(url_name, args=[tache.pk]))
    assert response.status_code == 404


def test_outsider_cannot_post_an_edit(world, tache):
    response = client_for(world.charlie).post(
        reverse("core:task_edit", args=[tache.pk]), form_data(nom="Piraté")
    )
    assert response.status_code == 404
    tache.refresh_from_db()
    assert tache.nom == "Migrer l'annuaire"


def test_member_reads_a_task_but_may_not_change_it(world, tache):
    client = client_for(world.bob)
    detail = client.get(reverse("core:task_detail", args=[tache.pk]))
    assert detail.status_code == 200
    assert reverse("core:task_edit", args=[tache.pk]) not in detail.content.decode()

    assert client.get(reverse("core:task_edit", args=[tache.pk])).status_code == 403
    post = client.post(reverse("core:task_edit", args=[tache.pk]), form_data(nom="Changé"))
    assert post.status_code == 403
    assert (
        client.post(reverse("core:task_create", args=[world.projet.pk]), form_data()).status_code
        == 403
    )
    tache.refresh_from_db()
    assert tache.nom == "Migrer l'annuaire"
    assert Tache.objects.count() == 1


def test_lead_creates_a_task(world):
    response = client_for(world.alice).post(
        reverse("core:task_create", args=[world.projet.pk]),
        form_data(responsable=world.bob.pk, priorite=Tache.Priorite.HAUTE),
    )

    tache = Tache.objects.get(nom="Recetter le portail")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:task_detail", args=[tache.pk])
    assert tache.projet == world.projet
    assert tache.responsable == world.bob
    assert tache.date_echeance == datetime.date(2026, 12, 15)
    assert tache.priorite == Tache.Priorite.HAUTE


def test_lead_edits_a_task_and_done_sets_the_completion_date(world, tache):
    response = client_for(world.alice).post(
        reverse("core:task_edit", args=[tache.pk]),
        # The due date is pushed back (from two days ago): a reason is asked.
        form_data(nom="Migrer l'annuaire LDAP", statut=Tache.Statut.TERMINEE, motif="Recette"),
    )

    assert response.status_code == 302
    tache.refresh_from_db()
    assert tache.nom == "Migrer l'annuaire LDAP"
    assert tache.statut == Tache.Statut.TERMINEE
    assert tache.date_fin_reelle == TODAY


def test_owner_must_be_a_member_or_the_lead(world):
    response = client_for(world.alice).post(
        reverse("core:task_create", args=[world.projet.pk]),
        form_data(responsable=world.charlie.pk),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["responsable"] == [
        "Le responsable doit être membre du projet ou en être le chef de projet."
    ]
    assert not Tache.objects.exists()


def test_due_date_before_the_project_start_is_a_warning_not_an_error(world):
    world.projet.date_debut = datetime.date(2026, 12, 1)
    world.projet.save()

    response = client_for(world.alice).post(
        reverse("core:task_create", args=[world.projet.pk]),
        form_data(date_echeance="2026-12-01"),
    )
    assert response.status_code == 302
    response = client_for(world.alice).post(
        reverse("core:task_create", args=[world.projet.pk]),
        form_data(nom="Trop tôt", date_echeance="2026-11-30"),
        follow=True,
    )

    assert Tache.objects.filter(nom="Trop tôt").exists()
    messages = [str(m) for m in response.context["messages"]]
    assert "L'échéance est antérieure au début du projet (01/12/2026)." in messages


def test_due_date_after_the_end_of_its_phase_is_a_warning_not_an_error(world):
    etape = EtapeFactory(
        projet=world.projet, nom="Cadrage", ordre=1, date_fin_prevue=datetime.date(2026, 12, 10)
    )
    response = client_for(world.alice).post(
        reverse("core:task_create", args=[world.projet.pk]),
        form_data(etape=etape.pk, date_echeance="2026-12-11"),
        follow=True,
    )

    tache = Tache.objects.get()
    assert tache.etape == etape
    messages = [str(m) for m in response.context["messages"]]
    assert "L'échéance est postérieure à la fin de l'étape «\u00a0Cadrage\u00a0» (10/12/2026)." in (
        messages
    )
    assert "postérieure à la fin de l&#x27;étape" in response.content.decode()  # task page


def test_phase_of_another_project_is_refused(world):
    other = EtapeFactory(projet=ProjetFactory(chef_de_projet=world.alice), ordre=1)
    response = client_for(world.alice).post(
        reverse("core:task_create", args=[world.projet.pk]), form_data(etape=other.pk)
    )
    assert response.context["form"].errors["etape"] == ["Cette étape n'appartient pas au projet."]


def test_critical_task_needs_a_due_date(world):
    response = client_for(world.alice).post(
        reverse("core:task_create", args=[world.projet.pk]),
        form_data(priorite=Tache.Priorite.CRITIQUE, date_echeance=""),
    )
    assert response.context["form"].errors["date_echeance"] == [
        "Une tâche critique doit avoir une échéance."
    ]


def test_bad_date_keeps_what_was_typed(world):
    response = client_for(world.alice).post(
        reverse("core:task_create", args=[world.projet.pk]),
        form_data(date_echeance="32/13/2026", nom="Ne pas perdre ce nom"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["date_echeance"]
    assert 'value="Ne pas perdre ce nom"' in response.content.decode()


def test_task_form_post_needs_csrf(world, tache):
    client = client_for(world.alice, enforce_csrf_checks=True)
    response = client.post(reverse("core:task_edit", args=[tache.pk]), form_data(nom="X"))
    assert response.status_code == 403
    tache.refresh_from_db()
    assert tache.nom == "Migrer l'annuaire"


def test_pushing_a_due_date_back_asks_for_a_reason_bringing_it_forward_does_not(world, tache):
    from core.models import HistoriqueTache, NotificationTache

    client = client_for(world.alice)
    url = reverse("core:task_edit", args=[tache.pk])
    later = {"responsable": world.bob.pk, "date_echeance": "2026-12-15"}

    refused = client.post(url, form_data(**later))

    assert refused.status_code == 200
    assert refused.context["form"].errors["motif"] == ["Dites pourquoi l'échéance est repoussée."]
    assert "Dites pourquoi l&#x27;échéance est repoussée." in refused.content.decode()
    tache.refresh_from_db()
    assert tache.date_echeance == TODAY - datetime.timedelta(days=2)

    accepted = client.post(url, form_data(**later, motif="Fournisseur en retard"))

    assert accepted.status_code == 302
    slip = HistoriqueTache.objects.get(tache=tache, champ=HistoriqueTache.Champ.ECHEANCE)
    assert (slip.is_slip, slip.motif) == (True, "Fournisseur en retard")
    # The owner is told, with the reason; the history page shows it.
    told = NotificationTache.objects.get(
        destinataire=world.bob, type_notification="ECHEANCE_MODIFIEE"
    )
    assert "Fournisseur en retard" in told.message
    history = client.get(reverse("core:task_history", args=[tache.pk])).content.decode()
    assert "Fournisseur en retard" in history

    earlier = client.post(url, form_data(responsable=world.bob.pk, date_echeance="2026-12-01"))
    assert earlier.status_code == 302


def task_names(response) -> list[str]:
    return [tache.nom for tache in response.context["page"].object_list]


def test_a_big_projects_tasks_come_by_page_of_50_in_phase_then_due_date_order(world):
    etape = EtapeFactory(projet=world.projet, nom="Recette", ordre=1)
    for i in range(55):
        TacheFactory(
            projet=world.projet,
            etape=etape if i < 30 else None,
            nom=f"Tâche {i:02d}",
            date_echeance=TODAY + datetime.timedelta(days=i % 30),
        )
    url = reverse("core:project_detail", args=[world.projet.pk])
    client = client_for(world.alice)

    first = client.get(url)
    second = client.get(url, {"page": 2})

    assert len(task_names(first)) == 50 and len(task_names(second)) == 5
    assert set(task_names(first)) | set(task_names(second)) == {f"Tâche {i:02d}" for i in range(55)}
    assert task_names(first)[:30] == [f"Tâche {i:02d}" for i in range(30)]  # the phase first
    assert "Page 1 sur 2" in first.content.decode()


def test_the_project_page_filters_its_tasks_and_keeps_the_filters_across_pages(world):
    etape = EtapeFactory(projet=world.projet, nom="Recette", ordre=1)
    late = TacheFactory(
        projet=world.projet, nom="En retard", responsable=world.bob, date_echeance=TODAY - DAY
    )
    TacheFactory(projet=world.projet, nom="Sans responsable", etape=etape, date_echeance=TODAY)
    TacheFactory(projet=world.projet, nom="Finie", statut=Tache.Statut.TERMINEE)
    TacheFactory(
        projet=world.projet,
        nom="Finie en retard",
        responsable=world.bob,
        statut=Tache.Statut.TERMINEE,
        date_echeance=TODAY - DAY,
    )
    url = reverse("core:project_detail", args=[world.projet.pk])
    client = client_for(world.alice)

    def shown(**query) -> set[str]:
        return set(task_names(client.get(url, query)))

    assert shown(statut="ouvertes") == {"En retard", "Sans responsable"}
    assert shown(statut="TERMINEE") == {"Finie", "Finie en retard"}
    assert shown(responsable=world.bob.pk) == {"En retard", "Finie en retard"}
    assert shown(responsable="aucun", statut="ouvertes") == {"Sans responsable"}
    assert shown(etape=etape.pk) == {"Sans responsable"}
    assert shown(etape="aucun", retard="on") == {late.nom}
    # A stale link (a phase since deleted) shows every task, with the error said.
    stale = client.get(url, {"etape": 999999})
    assert len(task_names(stale)) == 4 and "errorlist" in stale.content.decode()
    assert "Aucune tâche ne correspond" in client.get(url, {"statut": "EN_PAUSE"}).content.decode()
    for i in range(60):
        TacheFactory(projet=world.projet, nom=f"Ouverte {i:02d}", date_echeance=TODAY)
    page = client.get(url, {"statut": "ouvertes"}).content.decode()
    assert "?statut=ouvertes&amp;page=2" in page
