"""The deadline rules, recipients and access, as a user of the alerts sees them."""

from __future__ import annotations

import datetime

import pytest

from core.models import MembreProjet, NotificationTache, Projet, Tache
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY, World
from tests.factories import MembreProjetFactory, TacheFactory

ECHEANCE, CRITIQUE, RETARD = "ALERTE_ECHEANCE", "ALERTE_CRITIQUE", "ALERTE_RETARD"


def day(offset: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=offset)


def alerts() -> set[tuple[str, str, str]]:
    """Every alert in the database as (task, recipient, type)."""
    return set(
        NotificationTache.objects.values_list(
            "tache__nom", "destinataire__username", "type_notification"
        )
    )


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (3, set()),
        (2, {("bob", ECHEANCE)}),
        (1, {("bob", ECHEANCE)}),
        (0, {("bob", CRITIQUE), ("alice", CRITIQUE)}),
        (-1, {("bob", RETARD), ("alice", RETARD)}),
        (-30, {("bob", RETARD), ("alice", RETARD)}),
    ],
    ids=["J-3", "J-2", "J-1", "J", "J+1", "J+30"],
)
def test_rules_at_each_boundary(world: World, days_left: int, expected: set) -> None:
    TacheFactory(
        projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=day(days_left)
    )

    result = create_deadline_alerts(today=TODAY)

    assert {(user, kind) for _, user, kind in alerts()} == expected
    assert result.total_created == len(expected)
    assert result.skipped == []


def test_alert_text_names_task_project_and_date(world: World) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, nom="Recette", date_echeance=day(-3))

    create_deadline_alerts(today=TODAY)

    alert = NotificationTache.objects.get(destinataire=world.bob)
    assert "Recette" in alert.titre
    assert "Recette" in alert.message and "Refonte du portail" in alert.message
    assert "2026" in alert.message and "3" in alert.message
    assert (alert.date_alerte, alert.date_echeance, alert.lue) == (TODAY, day(-3), False)


def test_owner_outside_the_project_is_skipped_and_reported(world: World) -> None:
    tache = TacheFactory(projet=world.projet, responsable=world.charlie, date_echeance=TODAY)

    result = create_deadline_alerts(today=TODAY)

    assert {(u, k) for _, u, k in alerts()} == {("alice", CRITIQUE)}
    assert [(s.tache_id, s.user_id, s.reason) for s in result.skipped] == [
        (tache.pk, world.charlie.pk, "owner_without_access")
    ]


def test_owner_who_left_the_project_gets_nothing(world: World) -> None:
    MembreProjet.objects.filter(utilisateur=world.bob).update(date_fin=day(-1))
    tache = TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(1))

    result = create_deadline_alerts(today=TODAY)

    assert alerts() == set()
    assert [(s.tache_id, s.reason) for s in result.skipped] == [(tache.pk, "owner_without_access")]


def test_membership_ending_today_still_gives_access(world: World) -> None:
    MembreProjet.objects.filter(utilisateur=world.bob).update(date_fin=TODAY)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(1))

    create_deadline_alerts(today=TODAY)

    assert {(u, k) for _, u, k in alerts()} == {("bob", ECHEANCE)}


def test_membership_not_yet_started_gives_no_access(world: World) -> None:
    MembreProjetFactory(projet=world.projet, utilisateur=world.charlie, date_debut=day(2))
    TacheFactory(projet=world.projet, responsable=world.charlie, date_echeance=day(1))

    result = create_deadline_alerts(today=TODAY)

    assert alerts() == set()
    assert [s.reason for s in result.skipped] == ["owner_without_access"]


def test_lead_who_owns_the_task_gets_one_alert_not_two(world: World) -> None:
    TacheFactory(projet=world.projet, responsable=world.alice, date_echeance=TODAY)

    result = create_deadline_alerts(today=TODAY)

    assert {(u, k) for _, u, k in alerts()} == {("alice", CRITIQUE)}
    assert result.total_created == 1


def test_task_without_owner_alerts_the_lead_and_is_reported(world: World) -> None:
    tache = TacheFactory(projet=world.projet, responsable=None, date_echeance=day(-2))

    result = create_deadline_alerts(today=TODAY)

    assert {(u, k) for _, u, k in alerts()} == {("alice", RETARD)}
    assert [(s.tache_id, s.user_id, s.reason) for s in result.skipped] == [
        (tache.pk, None, "no_owner")
    ]


@pytest.mark.parametrize(
    "statut", [Tache.Statut.TERMINEE, Tache.Statut.ANNULEE, Tache.Statut.EN_PAUSE]
)
def test_closed_or_paused_tasks_never_alert(world: World, statut: str) -> None:
    for offset in (2, 1, 0, -1, -30):
        TacheFactory(
            projet=world.projet, responsable=world.bob, statut=statut, date_echeance=day(offset)
        )

    result = create_deadline_alerts(today=TODAY)

    assert (result.total_created, result.tasks_scanned, alerts()) == (0, 0, set())


@pytest.mark.parametrize(
    "statut", [Tache.Statut.A_FAIRE, Tache.Statut.EN_COURS, Tache.Statut.BLOQUEE]
)
def test_open_tasks_alert(world: World, statut: str) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, statut=statut, date_echeance=TODAY)

    assert create_deadline_alerts(today=TODAY).created[CRITIQUE] == 2


@pytest.mark.parametrize(
    "statut", [Projet.Statut.TERMINE, Projet.Statut.ARCHIVE, Projet.Statut.SUSPENDU]
)
def test_closed_or_suspended_projects_never_alert(world: World, statut: str) -> None:
    Projet.objects.filter(pk=world.projet.pk).update(statut=statut)
    for offset in (2, 1, 0, -1, -30):
        TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(offset))

    result = create_deadline_alerts(today=TODAY)

    assert (result.total_created, alerts()) == (0, set())


def test_planned_project_alerts(world: World) -> None:
    Projet.objects.filter(pk=world.projet.pk).update(statut=Projet.Statut.PLANIFIE)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(2))

    assert create_deadline_alerts(today=TODAY).created[ECHEANCE] == 1


def test_task_without_due_date_never_alerts(world: World) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=None)

    assert create_deadline_alerts(today=TODAY).tasks_scanned == 0


def test_running_twice_creates_nothing_the_second_time(world: World) -> None:
    for offset in (2, 0, -4):
        TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(offset))

    first = create_deadline_alerts(today=TODAY)
    second = create_deadline_alerts(today=TODAY)

    # The phases and projects have no planned end here, no group gets escalations.
    none = {"ALERTE_ETAPE": 0, "ALERTE_PROJET": 0, "ESCALADE": 0}
    assert first.created == {ECHEANCE: 1, CRITIQUE: 2, RETARD: 2, **none}
    assert second.created == {ECHEANCE: 0, CRITIQUE: 0, RETARD: 0, **none}
    assert NotificationTache.objects.count() == 5


def test_dry_run_reports_and_writes_nothing(world: World) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)

    result = create_deadline_alerts(today=TODAY, dry_run=True)

    assert (result.dry_run, result.created[CRITIQUE]) == (True, 2)
    assert NotificationTache.objects.count() == 0


def test_late_task_alerts_again_every_day(world: World) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(-1))

    for offset in range(3):
        assert create_deadline_alerts(today=day(offset)).created[RETARD] == 2

    assert NotificationTache.objects.filter(type_notification=RETARD).count() == 6


def test_changed_due_date_rearms_its_alerts(world: World) -> None:
    tache = TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=day(1))
    create_deadline_alerts(today=TODAY)

    # Postponed by a week: nothing the next days, then J-2 alerts again.
    Tache.objects.filter(pk=tache.pk).update(date_echeance=day(8))
    assert create_deadline_alerts(today=day(1)).total_created == 0
    assert create_deadline_alerts(today=day(6)).created[ECHEANCE] == 1

    # Brought forward to today on that same day: the critical alert follows at once.
    Tache.objects.filter(pk=tache.pk).update(date_echeance=day(6))
    assert create_deadline_alerts(today=day(6)).created[CRITIQUE] == 2
    dates = NotificationTache.objects.filter(type_notification=ECHEANCE).values_list(
        "date_alerte", "date_echeance"
    )
    assert sorted(dates) == [(TODAY, day(1)), (day(6), day(8))]


def test_alert_days_come_from_settings(world: World, settings) -> None:
    settings.DEADLINE_ALERT_DAYS = [5, 3]
    settings.DEADLINE_LATE_REPEAT_DAYS = 7
    for offset in (5, 3, 2, -1, -7):
        TacheFactory(
            projet=world.projet, responsable=world.bob, nom=f"T{offset}", date_echeance=day(offset)
        )

    create_deadline_alerts(today=TODAY)

    assert alerts() == {
        ("T5", "bob", ECHEANCE),
        ("T3", "bob", ECHEANCE),
        ("T-7", "bob", RETARD),
        ("T-7", "alice", RETARD),
    }


def test_an_alert_is_per_recipient_task_type_and_day(world: World) -> None:
    """The unique key: the same alert again the same day is refused by the database."""
    from django.db import IntegrityError, transaction

    from tests.factories import NotificationFactory

    tache = TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)
    create_deadline_alerts(today=TODAY)

    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationFactory(
            tache=tache, destinataire=world.bob, type_notification=CRITIQUE, date_alerte=TODAY
        )


def test_alerts_are_unread_and_stamped_with_their_moment_and_day(world: World) -> None:
    import time_machine
    from django.utils import timezone

    moment = timezone.make_aware(datetime.datetime(2026, 11, 25, 8, 0, 3))
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY, nom="Recette")
    with time_machine.travel(moment, tick=False):
        create_deadline_alerts(today=TODAY)
    for alert in NotificationTache.objects.all():
        assert (alert.lue, alert.date_lecture) == (False, None)
        assert alert.date_creation == moment
        assert (alert.date_alerte, alert.date_echeance) == (TODAY, TODAY)
    assert NotificationTache.objects.filter(date_creation__gte=moment).count() == 2


def test_a_long_task_name_gives_a_title_cut_to_its_column(world: World) -> None:
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY, nom="x" * 200)
    create_deadline_alerts(today=TODAY)
    alert = NotificationTache.objects.filter(destinataire=world.bob).get()
    assert len(alert.titre) <= 255 and alert.titre.startswith("Échéance aujourd'hui")
    assert "x" * 200 in alert.message
