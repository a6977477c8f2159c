"""Phase and project deadlines: the lead hears of a planned end that still has open
tasks, on the project's ladder, on the day and while it is past, under the
working-day calendar; once a day per phase or project, whatever the reruns; in a
fixed number of statements whatever the number of phases and projects."""

from __future__ import annotations

import datetime

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Etape, NotificationDefaults, NotificationTache, Projet, Tache
from core.services.deadlines import create_deadline_alerts
from tests.conftest import World
from tests.factories import EtapeFactory, ProjetFactory, TacheFactory

ETAPE, PROJET = "ALERTE_ETAPE", "ALERTE_PROJET"
D = datetime.date
DAY = datetime.timedelta(days=1)
FRIDAY = D(2027, 1, 15)
# The default ladder (2 and 1 days before: Wednesday and Thursday), the day, then
# late from Monday on.
LADDER_DAYS = [D(2027, 1, 13), D(2027, 1, 14), FRIDAY, D(2027, 1, 18), D(2027, 1, 19)]


def run_each_day(first: D, last: D, kind: str) -> dict[D, list[NotificationTache]]:
    """Run the engine every day from ``first`` to ``last``; the alerts of ``kind``
    each day created."""
    created = {}
    day = first
    while day <= last:
        create_deadline_alerts(today=day)
        created[day] = list(
            NotificationTache.objects.filter(date_alerte=day, type_notification=kind)
        )
        day += DAY
    return created


def days_with(created: dict[D, list[NotificationTache]]) -> list[D]:
    return [day for day, rows in created.items() if rows]


def phase_with_tasks(world: World, *, end: D, open_tasks: int = 2, done: int = 1) -> Etape:
    etape = EtapeFactory(projet=world.projet, nom="Recette", date_fin_prevue=end)
    for i in range(open_tasks + done):
        # No due date of their own: only the phase's end alerts.
        TacheFactory(
            projet=world.projet,
            etape=etape,
            responsable=world.bob,
            date_echeance=None,
            statut=Tache.Statut.EN_COURS if i < open_tasks else Tache.Statut.TERMINEE,
        )
    return etape


def test_a_phase_ending_on_friday_alerts_the_lead_on_the_ladder_the_day_and_while_late(
    world: World,
) -> None:
    etape = phase_with_tasks(world, end=FRIDAY)

    created = run_each_day(D(2027, 1, 11), D(2027, 1, 20), ETAPE)

    assert days_with(created) == [*LADDER_DAYS, D(2027, 1, 20)]
    rows = [alert for day in days_with(created) for alert in created[day]]
    assert {(alert.destinataire_id, alert.etape_id) for alert in rows} == {
        (world.alice.pk, etape.pk)
    }
    assert all(alert.tache_id is None and alert.projet_id is None for alert in rows)
    assert all(alert.date_echeance == FRIDAY for alert in rows)
    wednesday, friday, monday = (created[d][0] for d in (D(2027, 1, 13), FRIDAY, D(2027, 1, 18)))
    assert wednesday.titre == "Fin de la phase dans 2 jours\u00a0: Recette"
    assert wednesday.message == (
        "La phase «\u00a0Recette\u00a0» du projet «\u00a0Refonte du portail\u00a0» se termine "
        "dans 2 jours, le 15\u00a0janvier 2027. 2 tâches sont encore ouvertes."
    )
    assert friday.titre == "Fin de la phase aujourd'hui\u00a0: Recette"
    assert monday.titre == "Phase en retard\u00a0: Recette"
    assert monday.message == (
        "La phase «\u00a0Recette\u00a0» du projet «\u00a0Refonte du portail\u00a0» devait se "
        "terminer le 15\u00a0janvier 2027. Retard\u00a0: 3 jours. 2 tâches sont encore ouvertes."
    )
    assert (wednesday.urgency, friday.urgency, monday.urgency) == ("soon", "today", "late")


def test_one_open_task_is_said_in_the_singular(world: World) -> None:
    phase_with_tasks(world, end=FRIDAY, open_tasks=1)

    create_deadline_alerts(today=FRIDAY)

    alert = NotificationTache.objects.get(type_notification=ETAPE)
    assert alert.message.endswith("15\u00a0janvier 2027. 1 tâche est encore ouverte.")


def test_no_alert_once_every_task_of_the_phase_is_done(world: World) -> None:
    etape = phase_with_tasks(world, end=FRIDAY)
    Tache.objects.filter(etape=etape).update(statut=Tache.Statut.TERMINEE)
    EtapeFactory(projet=world.projet, date_fin_prevue=FRIDAY)  # no task at all

    created = run_each_day(D(2027, 1, 13), D(2027, 1, 18), ETAPE)

    assert days_with(created) == []


def test_no_alert_for_a_project_that_is_not_active(world: World) -> None:
    phase_with_tasks(world, end=FRIDAY)
    Projet.objects.filter(pk=world.projet.pk).update(
        statut=Projet.Statut.SUSPENDU, date_fin_prevue=FRIDAY
    )

    assert create_deadline_alerts(today=FRIDAY).total_created == 0


def test_a_project_end_alerts_its_lead_the_same_way(world: World) -> None:
    Projet.objects.filter(pk=world.projet.pk).update(date_fin_prevue=FRIDAY)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=None)
    TacheFactory(
        projet=world.projet, date_echeance=None, statut=Tache.Statut.ANNULEE
    )  # not counted

    created = run_each_day(D(2027, 1, 11), D(2027, 1, 19), PROJET)

    assert days_with(created) == LADDER_DAYS
    thursday = created[D(2027, 1, 14)][0]
    assert (thursday.destinataire_id, thursday.projet_id) == (world.alice.pk, world.projet.pk)
    assert thursday.titre == "Fin du projet dans 1 jour\u00a0: Refonte du portail"
    assert thursday.message == (
        "Le projet «\u00a0Refonte du portail\u00a0» se termine dans 1 jour, le "
        "15\u00a0janvier 2027. 1 tâche est encore ouverte."
    )
    late = created[D(2027, 1, 19)][0]
    assert late.titre == "Projet en retard\u00a0: Refonte du portail"
    assert "Retard\u00a0: 4 jours. 1 tâche est encore ouverte." in late.message
    # The project has no task due: the task alerts raised nothing.
    assert NotificationTache.objects.exclude(type_notification=PROJET).count() == 0


def test_an_end_on_a_saturday_warns_the_friday_once_and_is_late_from_monday(
    world: World,
) -> None:
    phase_with_tasks(world, end=D(2027, 1, 16))

    created = run_each_day(D(2027, 1, 13), D(2027, 1, 19), ETAPE)

    assert days_with(created) == [D(2027, 1, 14), FRIDAY, D(2027, 1, 18), D(2027, 1, 19)]
    assert created[FRIDAY][0].titre == (
        "Fin de la phase le 16\u00a0janvier 2027, jour non ouvré\u00a0: Recette"
    )


def test_the_project_ladder_and_repeat_apply(world: World) -> None:
    Projet.objects.filter(pk=world.projet.pk).update(alerte_jours="7,3", retard_repetition_jours=7)
    phase_with_tasks(world, end=FRIDAY)

    created = run_each_day(D(2027, 1, 7), D(2027, 1, 29), ETAPE)

    assert days_with(created) == [
        D(2027, 1, 8),  # 7 days before
        D(2027, 1, 12),  # 3 days before
        FRIDAY,
        D(2027, 1, 22),  # a week late
        D(2027, 1, 29),
    ]


def test_reruns_and_a_second_run_create_nothing(world: World) -> None:
    phase_with_tasks(world, end=FRIDAY)
    Projet.objects.filter(pk=world.projet.pk).update(date_fin_prevue=FRIDAY)

    dry = create_deadline_alerts(today=FRIDAY, dry_run=True)
    first = create_deadline_alerts(today=FRIDAY)
    second = create_deadline_alerts(today=FRIDAY)
    dry_after = create_deadline_alerts(today=FRIDAY, dry_run=True)

    assert (dry.created[ETAPE], dry.created[PROJET]) == (1, 1)
    assert (first.created[ETAPE], first.created[PROJET]) == (1, 1)
    assert second.total_created == 0
    assert dry_after.total_created == 0
    assert NotificationTache.objects.filter(type_notification__in=[ETAPE, PROJET]).count() == 2
    assert first.as_dict()["created"][ETAPE] == 1


def test_nothing_on_a_non_working_day(world: World) -> None:
    phase_with_tasks(world, end=D(2027, 1, 16))

    assert create_deadline_alerts(today=D(2027, 1, 16)).total_created == 0


def _grow(world: World, projects: int) -> None:
    """``projects`` more projects led by alice, each ending on a day of the next
    three weeks or past, with two phases and open tasks in each."""
    for i in range(projects):
        projet = ProjetFactory(
            chef_de_projet=world.alice,
            date_fin_prevue=FRIDAY + DAY * (i % 21 - 7),
            retard_repetition_jours=(None, 3)[i % 2],
        )
        for ordre in (1, 2):
            etape = Etape.objects.create(
                projet=projet, nom=f"E{ordre}", ordre=ordre, date_fin_prevue=FRIDAY + DAY * (i % 5)
            )
            Tache.objects.bulk_create(
                Tache(projet=projet, etape=etape, nom=f"T{j}", date_echeance=None) for j in range(3)
            )


def _queries() -> tuple[int, int, int]:
    """(queries other than transaction control, inserts, alerts) of one run."""
    NotificationTache.objects.all().delete()
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        result = create_deadline_alerts(today=FRIDAY)
    transaction_control = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "COMMIT")
    work = [q for q in ctx.captured_queries if not q["sql"].upper().startswith(transaction_control)]
    inserts = sum(1 for q in work if q["sql"].upper().startswith("INSERT"))
    return len(work), inserts, result.created[ETAPE] + result.created[PROJET]


def test_query_count_does_not_grow_with_phases_and_projects(world: World) -> None:
    _grow(world, 6)
    small_total, small_inserts, small_alerts = _queries()
    _grow(world, 54)
    large_total, large_inserts, large_alerts = _queries()

    assert small_alerts < large_alerts
    assert (small_total, small_inserts) == (large_total, large_inserts)
    # One insert per kind of subject (no task is due: none of theirs).
    assert large_inserts == 2


def test_lateness_in_working_days_when_the_organisation_counts_so(world: World) -> None:
    NotificationDefaults.objects.create(retard_en_jours_ouvres=True)
    cache.clear()
    phase_with_tasks(world, end=FRIDAY)

    create_deadline_alerts(today=D(2027, 1, 19))

    alert = NotificationTache.objects.get(type_notification=ETAPE)
    assert "Retard\u00a0: 2 jours ouvrés." in alert.message
