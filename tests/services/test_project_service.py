"""Writes to a project, its phases and its members: each writes its history rows."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from core.models import Etape, HistoriqueProjet, MembreProjet, NotificationTache, Projet, Tache
from core.models.notifications import EVENT_TYPES
from core.services import projects
from tests.conftest import TODAY
from tests.factories import EtapeFactory, MembreProjetFactory, TacheFactory, UserFactory

Action, Sujet = HistoriqueProjet.Action, HistoriqueProjet.Sujet
DAY = datetime.timedelta(days=1)


def rows(projet, **filters):
    return [
        (h.action, h.sujet, h.champ, h.ancienne_valeur, h.nouvelle_valeur)
        for h in HistoriqueProjet.objects.filter(projet=projet, **filters).order_by("id")
    ]


def test_creation_opens_the_history_with_the_values_set(world):
    projet = projects.create_project(
        code="erp",
        nom="Nouvel ERP",
        chef_de_projet=world.bob,
        author=world.alice,
        statut=Projet.Statut.PLANIFIE,
        date_debut=TODAY,
    )
    assert projet.chef_de_projet == world.bob
    assert rows(projet) == [
        (Action.CREATION, Sujet.PROJET, "code", "", "erp"),
        (Action.CREATION, Sujet.PROJET, "nom", "", "Nouvel ERP"),
        (Action.CREATION, Sujet.PROJET, "chef_de_projet", "", str(world.bob.pk)),
        (Action.CREATION, Sujet.PROJET, "statut", "", "PLANIFIE"),
        (Action.CREATION, Sujet.PROJET, "date_debut", "", "2026-11-25"),
    ]
    assert HistoriqueProjet.objects.filter(projet=projet, auteur=world.alice).count() == 5


def test_a_taken_code_is_refused(world):
    with pytest.raises(ValidationError) as refused:
        projects.create_project(
            code="portail", nom="Doublon", chef_de_projet=world.bob, author=world.bob
        )
    assert refused.value.code == "code_taken"


def test_an_inactive_lead_is_refused(world):
    sleeper = UserFactory(is_active=False)
    with pytest.raises(ValidationError):
        projects.create_project(code="x", nom="X", chef_de_projet=sleeper, author=world.alice)


def test_update_writes_one_row_per_changed_field_with_the_reason(world):
    written = projects.update_project(
        projet_id=world.projet.pk,
        author=world.alice,
        values={
            "nom": "Refonte du portail",  # unchanged
            "statut": Projet.Statut.SUSPENDU,
            "date_fin_prevue": TODAY + 30 * DAY,
        },
        reason="Budget gelé",
    )
    assert len(written) == 2
    assert rows(world.projet) == [
        (Action.MODIFICATION, Sujet.PROJET, "statut", "EN_COURS", "SUSPENDU"),
        (Action.MODIFICATION, Sujet.PROJET, "date_fin_prevue", "", "2026-12-25"),
    ]
    assert set(HistoriqueProjet.objects.values_list("motif", flat=True)) == {"Budget gelé"}
    world.projet.refresh_from_db()
    assert world.projet.statut == Projet.Statut.SUSPENDU


def test_nothing_changed_writes_nothing(world):
    assert (
        projects.update_project(
            projet_id=world.projet.pk, author=world.alice, values={"nom": world.projet.nom}
        )
        == []
    )


@pytest.mark.parametrize("kind", ["project", "phase"])
def test_an_end_before_the_start_is_refused_in_french(world, kind):
    start, end = TODAY, TODAY - DAY
    with pytest.raises(ValidationError) as refused:
        if kind == "project":
            projects.update_project(
                projet_id=world.projet.pk,
                author=world.alice,
                values={"date_debut": start, "date_fin_prevue": end},
            )
        else:
            projects.add_phase(
                projet_id=world.projet.pk,
                author=world.alice,
                nom="Recette",
                date_debut_prevue=start,
                date_fin_prevue=end,
            )
    assert refused.value.messages == [
        "La fin prévue (24/11/2026) est antérieure au début (25/11/2026)."
    ]
    assert not HistoriqueProjet.objects.exists()


def test_phases_are_numbered_after_the_last_and_a_taken_number_is_refused(world):
    first = projects.add_phase(projet_id=world.projet.pk, author=world.alice, nom="Cadrage")
    second = projects.add_phase(projet_id=world.projet.pk, author=world.alice, nom="Recette")
    assert (first.ordre, second.ordre) == (1, 2)
    with pytest.raises(ValidationError):
        projects.edit_phase(etape_id=second.pk, author=world.alice, values={"ordre": 1})
    assert rows(world.projet, etape=first) == [
        (Action.CREATION, Sujet.ETAPE, "nom", "", "Cadrage"),
        (Action.CREATION, Sujet.ETAPE, "ordre", "", "1"),
    ]


def test_edit_phase_writes_its_changes(world):
    etape = EtapeFactory(projet=world.projet, nom="Cadrage", ordre=1)
    projects.edit_phase(
        etape_id=etape.pk,
        author=world.alice,
        values={"nom": "Cadrage détaillé", "ordre": 1, "date_fin_prevue": TODAY},
    )
    assert rows(world.projet) == [
        (Action.MODIFICATION, Sujet.ETAPE, "nom", "Cadrage", "Cadrage détaillé"),
        (Action.MODIFICATION, Sujet.ETAPE, "date_fin_prevue", "", "2026-11-25"),
    ]
    assert HistoriqueProjet.objects.filter(etape_nom="Cadrage détaillé").count() == 2


def test_move_swaps_two_phases_through_the_unique_number(world):
    a = EtapeFactory(projet=world.projet, nom="A", ordre=1)
    b = EtapeFactory(projet=world.projet, nom="B", ordre=5)
    c = EtapeFactory(projet=world.projet, nom="C", ordre=6)
    assert projects.move_phase(etape_id=c.pk, author=world.alice, direction=projects.UP)
    order = list(Etape.objects.filter(projet=world.projet).values_list("nom", "ordre"))
    assert order == [("A", 1), ("C", 5), ("B", 6)]
    assert rows(world.projet) == [
        (Action.MODIFICATION, Sujet.ETAPE, "ordre", "6", "5"),
        (Action.MODIFICATION, Sujet.ETAPE, "ordre", "5", "6"),
    ]
    assert not projects.move_phase(etape_id=a.pk, author=world.alice, direction=projects.UP)
    assert projects.move_phase(etape_id=a.pk, author=world.alice, direction=projects.DOWN)
    assert Etape.objects.get(pk=a.pk).ordre == 5
    assert Etape.objects.get(pk=c.pk).ordre == 1
    assert not projects.move_phase(etape_id=b.pk, author=world.alice, direction=projects.DOWN)


def test_deleting_a_phase_keeps_its_tasks_and_its_name_in_the_history(world):
    etape = EtapeFactory(projet=world.projet, nom="Cadrage", ordre=1)
    tache = TacheFactory(projet=world.projet, etape=etape)
    assert projects.delete_phase(etape_id=etape.pk, author=world.alice) == 1
    tache.refresh_from_db()
    assert tache.etape is None and Tache.objects.filter(pk=tache.pk).exists()
    entry = HistoriqueProjet.objects.get()
    assert (entry.action, entry.sujet, entry.etape_nom, entry.etape) == (
        Action.SUPPRESSION,
        Sujet.ETAPE,
        "Cadrage",
        None,
    )


def test_a_member_leaves_and_joins_again_on_the_same_row(world):
    bob_row = MembreProjet.objects.get(projet=world.projet, utilisateur=world.bob)
    projects.remove_member(
        projet_id=world.projet.pk, utilisateur_id=world.bob.pk, author=world.alice, date_fin=TODAY
    )
    again = projects.add_member(
        projet_id=world.projet.pk,
        utilisateur=world.bob,
        author=world.alice,
        role=MembreProjet.Role.REFERENT,
        date_debut=TODAY + DAY,
    )
    assert again.pk == bob_row.pk
    assert (again.role, again.date_debut, again.date_fin) == ("REFERENT", TODAY + DAY, None)
    assert rows(world.projet, membre=world.bob) == [
        (Action.RETRAIT_MEMBRE, Sujet.MEMBRE, "date_fin", "", "2026-11-25"),
        (Action.AJOUT_MEMBRE, Sujet.MEMBRE, "role", "MEMBRE", "REFERENT"),
        (Action.AJOUT_MEMBRE, Sujet.MEMBRE, "date_debut", "2020-01-01", "2026-11-26"),
        (Action.AJOUT_MEMBRE, Sujet.MEMBRE, "date_fin", "2026-11-25", ""),
    ]


def test_adding_a_new_member_writes_role_and_date(world):
    projects.add_member(
        projet_id=world.projet.pk,
        utilisateur=world.charlie,
        author=world.alice,
        role=MembreProjet.Role.MEMBRE,
        date_debut=TODAY,
    )
    assert rows(world.projet, membre=world.charlie) == [
        (Action.AJOUT_MEMBRE, Sujet.MEMBRE, "role", "", "MEMBRE"),
        (Action.AJOUT_MEMBRE, Sujet.MEMBRE, "date_debut", "", "2026-11-25"),
    ]


@pytest.mark.parametrize("who", ["bob", "alice", "inactive"])
def test_a_current_member_the_lead_or_an_inactive_account_cannot_be_added(world, who):
    user = UserFactory(is_active=False) if who == "inactive" else getattr(world, who)
    with pytest.raises(ValidationError):
        projects.add_member(
            projet_id=world.projet.pk,
            utilisateur=user,
            author=world.alice,
            role=MembreProjet.Role.MEMBRE,
            date_debut=TODAY,
        )
    assert not HistoriqueProjet.objects.exists()


def test_leaving_before_joining_is_refused(world):
    with pytest.raises(ValidationError):
        projects.remove_member(
            projet_id=world.projet.pk,
            utilisateur_id=world.bob.pk,
            author=world.alice,
            date_fin=datetime.date(2019, 12, 31),
        )


def test_hand_over_keeps_the_old_lead_as_a_member(world):
    written = projects.hand_over(
        projet_id=world.projet.pk, new_lead=world.bob, author=world.alice, today=TODAY
    )
    world.projet.refresh_from_db()
    assert world.projet.chef_de_projet == world.bob
    alice_row = MembreProjet.objects.get(projet=world.projet, utilisateur=world.alice)
    assert (alice_row.date_debut, alice_row.date_fin) == (TODAY, None)
    assert [(h.action, h.champ) for h in written] == [
        (Action.PASSATION, "chef_de_projet"),
        (Action.AJOUT_MEMBRE, "role"),
        (Action.AJOUT_MEMBRE, "date_debut"),
    ]
    assert (written[0].ancienne_valeur, written[0].nouvelle_valeur) == (
        str(world.alice.pk),
        str(world.bob.pk),
    )


def test_hand_over_reopens_the_old_leads_membership_once(world):
    MembreProjetFactory(projet=world.projet, utilisateur=world.alice, date_fin=TODAY - DAY)
    projects.hand_over(
        projet_id=world.projet.pk, new_lead=world.bob, author=world.alice, today=TODAY
    )
    row = MembreProjet.objects.get(projet=world.projet, utilisateur=world.alice)
    assert row.date_fin is None
    # Back to alice: bob, still a member, keeps his row as it is.
    projects.hand_over(
        projet_id=world.projet.pk, new_lead=world.alice, author=world.bob, today=TODAY
    )
    assert MembreProjet.objects.filter(projet=world.projet).count() == 2


@pytest.mark.parametrize("who", ["alice", "inactive"])
def test_hand_over_to_the_same_lead_or_an_inactive_account_is_refused(world, who):
    user = UserFactory(is_active=False) if who == "inactive" else world.alice
    with pytest.raises(ValidationError):
        projects.hand_over(
            projet_id=world.projet.pk, new_lead=user, author=world.alice, today=TODAY
        )
    assert not HistoriqueProjet.objects.exists()


def test_the_new_lead_is_told_in_the_notification_centre_only(world):
    projects.hand_over(
        projet_id=world.projet.pk,
        new_lead=world.bob,
        author=world.alice,
        today=TODAY,
        reason="Mutation",
    )
    told = NotificationTache.objects.get()
    assert (told.destinataire, told.projet, told.tache, told.date_alerte) == (
        world.bob,
        world.projet,
        None,
        None,
    )
    assert told.titre == "Projet confié\u00a0: Refonte du portail"
    assert told.message == (
        "Alice Martin vous a confié le projet «\u00a0Refonte du portail\u00a0»\u00a0: vous en "
        "êtes désormais le chef de projet. Motif\u00a0: Mutation"
    )
    assert told.type_notification not in EVENT_TYPES  # no events email: it speaks of tasks


def test_taking_a_project_over_oneself_tells_nobody(world):
    staff = UserFactory(is_staff=True)
    projects.hand_over(projet_id=world.projet.pk, new_lead=staff, author=staff, today=TODAY)
    assert not NotificationTache.objects.exists()
