"""Absences and snoozes in the deadline engine, as the people alerted see them.

March 2027: Monday 1st to Friday 5th, Monday 8th to Friday 12th are working days
(French calendar, the default); the ladder is the default (2 and 1 days before).
"""

from __future__ import annotations

import datetime

import pytest

from core.models import Absence, NotificationTache, Tache
from core.services.deadlines import create_deadline_alerts
from tests.conftest import World
from tests.factories import TacheFactory

ECHEANCE, CRITIQUE, RETARD = "ALERTE_ECHEANCE", "ALERTE_CRITIQUE", "ALERTE_RETARD"
MON, WED, THU, FRI = (datetime.date(2027, 3, d) for d in (1, 3, 4, 5))
NEXT_MON, NEXT_TUE, NEXT_WED = (datetime.date(2027, 3, d) for d in (8, 9, 10))
NEXT_THU, NEXT_FRI = datetime.date(2027, 3, 11), datetime.date(2027, 3, 12)


def alerts_of(today: datetime.date) -> set[tuple[str, str, str, str | None]]:
    """The alerts of ``today`` as (task, recipient, type, on behalf of)."""
    return set(
        NotificationTache.objects.filter(date_alerte=today).values_list(
            "tache__nom", "destinataire__username", "type_notification", "delegue_pour__username"
        )
    )


def away(world: World, debut: datetime.date, fin: datetime.date) -> Absence:
    return Absence.objects.create(utilisateur=world.bob, debut=debut, fin=fin)


def run(today: datetime.date) -> dict[str, int]:
    """Dry run then run: the dry run announces exactly what the run creates."""
    announced = create_deadline_alerts(today=today, dry_run=True).created
    created = create_deadline_alerts(today=today).created
    assert announced == created
    return created


def test_an_absence_ending_today_delegates_today_and_the_owner_is_back_tomorrow(
    world: World,
) -> None:
    away(world, MON, FRI)
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=FRI)
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Bascule", date_echeance=NEXT_MON)

    run(FRI)
    run(NEXT_MON)

    # Friday: the due-today alert the lead gets anyway is one row, marked; the
    # advance alert of Monday's task (its two days fall on the weekend) goes to her.
    assert alerts_of(FRI) == {
        ("Recette", "alice", CRITIQUE, "bob"),
        ("Bascule", "alice", ECHEANCE, "bob"),
    }
    assert alerts_of(NEXT_MON) == {
        ("Recette", "bob", RETARD, None),
        ("Recette", "alice", RETARD, None),
        ("Bascule", "bob", CRITIQUE, None),
        ("Bascule", "alice", CRITIQUE, None),
    }


def test_the_delegated_alert_says_so_in_french(world: World) -> None:
    away(world, FRI, FRI)
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Bascule", date_echeance=NEXT_MON)

    create_deadline_alerts(today=FRI)

    alert = NotificationTache.objects.get()
    assert (alert.destinataire, alert.delegue_pour) == (world.alice, world.bob)
    assert alert.message.startswith(
        "La tâche «\xa0Bascule\xa0» du projet «\xa0Refonte du portail\xa0»"
    )
    assert alert.message.endswith(
        " Vous la recevez en l'absence de Bob Durand, responsable de la tâche."
    )
    assert "Bascule" in alert.titre


def test_the_owner_without_a_full_name_is_named_by_their_username(world: World) -> None:
    world.bob.first_name = world.bob.last_name = ""
    world.bob.save()
    away(world, FRI, FRI)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=FRI)

    create_deadline_alerts(today=FRI)

    assert "en l'absence de bob," in NotificationTache.objects.get().message


def test_an_absence_starting_today(world: World) -> None:
    away(world, NEXT_MON, NEXT_FRI)
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=NEXT_WED)

    run(FRI)  # the day before: Monday's advance alert (two days before) is bob's
    run(NEXT_MON)
    run(NEXT_TUE)

    assert alerts_of(FRI) == set()
    assert alerts_of(NEXT_MON) == {("Recette", "alice", ECHEANCE, "bob")}
    assert alerts_of(NEXT_TUE) == {("Recette", "alice", ECHEANCE, "bob")}


def test_a_lead_away_keeps_her_own_alerts_nobody_else_gets_them(world: World) -> None:
    Absence.objects.create(utilisateur=world.alice, debut=MON, fin=NEXT_FRI)
    TacheFactory(projet=world.projet, responsable=world.alice, nom="Budget", date_echeance=FRI)
    TacheFactory(projet=world.projet, responsable=world.alice, nom="Plan", date_echeance=NEXT_MON)

    run(FRI)

    assert alerts_of(FRI) == {
        ("Budget", "alice", CRITIQUE, None),
        ("Plan", "alice", ECHEANCE, None),
    }


def test_an_absence_of_another_user_or_another_week_changes_nothing(world: World) -> None:
    Absence.objects.create(utilisateur=world.charlie, debut=MON, fin=NEXT_FRI)
    away(world, MON, THU)
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=FRI)

    run(FRI)

    assert alerts_of(FRI) == {
        ("Recette", "bob", CRITIQUE, None),
        ("Recette", "alice", CRITIQUE, None),
    }


def test_an_owner_away_who_left_the_project_is_still_skipped(world: World) -> None:
    world.projet.membres.remove(world.bob)
    away(world, FRI, FRI)
    tache = TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=NEXT_MON)

    result = create_deadline_alerts(today=FRI)

    assert alerts_of(FRI) == set()
    assert [(s.tache_id, s.reason) for s in result.skipped] == [(tache.pk, "owner_without_access")]


def snooze(tache: Tache, until: datetime.date, world: World) -> None:
    Tache.objects.filter(pk=tache.pk).update(
        report_alertes_jusqu_au=until, report_motif="En congé de formation", report_par=world.bob
    )


def test_a_snooze_silences_the_advance_alerts_until_it_ends(world: World) -> None:
    tache = TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=NEXT_FRI
    )
    snooze(tache, NEXT_WED, world)

    run(NEXT_WED)  # two days before, the snooze's last day
    run(NEXT_THU)  # the day after it ends: the advance alert is back

    assert alerts_of(NEXT_WED) == set()
    assert alerts_of(NEXT_THU) == {("Recette", "bob", ECHEANCE, None)}


def test_a_snooze_never_silences_due_today_late_or_the_leads_alerts(world: World) -> None:
    due_today = TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=NEXT_FRI
    )
    late = TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Bascule", date_echeance=NEXT_WED
    )
    snooze(due_today, NEXT_FRI, world)
    snooze(late, NEXT_FRI, world)

    run(NEXT_FRI)

    assert alerts_of(NEXT_FRI) == {
        ("Recette", "bob", CRITIQUE, None),
        ("Recette", "alice", CRITIQUE, None),
        ("Bascule", "bob", RETARD, None),
        ("Bascule", "alice", RETARD, None),
    }


def test_a_snoozed_advance_alert_is_not_delegated_either(world: World) -> None:
    away(world, NEXT_WED, NEXT_WED)
    tache = TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=NEXT_FRI)
    snooze(tache, NEXT_WED, world)

    assert sum(run(NEXT_WED).values()) == 0
    assert alerts_of(NEXT_WED) == set()


@pytest.mark.parametrize("rerun", [1, 2])
def test_reruns_add_nothing_and_the_lead_never_gets_two_rows(world: World, rerun: int) -> None:
    away(world, FRI, FRI)
    for name in ("A", "B", "C"):
        TacheFactory(projet=world.projet, responsable=world.bob, nom=name, date_echeance=FRI)

    for _ in range(rerun):
        run(FRI)

    assert NotificationTache.objects.filter(destinataire=world.alice).count() == 3
    assert not NotificationTache.objects.filter(destinataire=world.bob).exists()
    assert create_deadline_alerts(today=FRI).total_created == 0
