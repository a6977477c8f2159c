"""The engine is set-based: its number of queries does not grow with the number of tasks.

The administrators' defaults (a cold cache: read once), the closure days of the
calendar, one read of the due dates by project policy, one ``INSERT ... SELECT``
for every alert of the day (PostgreSQL counts them per type in the same
statement; SQLite runs one per alert type), one read of the skipped recipients,
and for the phases and projects one read of their end dates each (and their own
insert when one ends in the horizon: tests/services/test_milestone_alerts.py).
"""

from __future__ import annotations

import datetime

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Absence, NotificationTache, Tache
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY, World
from tests.factories import MembreProjetFactory, ProjetFactory, UserFactory


def _add_due_today(world: World, count: int) -> None:
    Tache.objects.bulk_create(
        Tache(projet=world.projet, nom=f"T{i}", responsable=world.bob, date_echeance=TODAY)
        for i in range(count)
    )


def _run_queries() -> tuple[int, int]:
    """(queries other than transaction control, INSERT queries) of one run."""
    NotificationTache.objects.all().delete()
    cache.clear()  # each run reads the defaults, as the first run of a worker does
    with CaptureQueriesContext(connection) as ctx:
        create_deadline_alerts(today=TODAY)
    inserts = sum(1 for q in ctx.captured_queries if "INSERT INTO" in q["sql"].upper())
    transaction_control = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "COMMIT")
    work = [q for q in ctx.captured_queries if not q["sql"].upper().startswith(transaction_control)]
    return len(work), inserts


def test_query_count_does_not_grow_with_tasks(world: World) -> None:
    _add_due_today(world, 10)
    small_total, small_inserts = _run_queries()
    _add_due_today(world, 990)
    large_total, large_inserts = _run_queries()

    assert NotificationTache.objects.count() == 2000  # owner + lead for each of 1,000 tasks
    assert (small_total, small_inserts) == (large_total, large_inserts)
    assert large_inserts == 1  # every alert of the day in one INSERT ... SELECT
    # defaults, closure days, due dates, the insert, the skipped recipients, the
    # phases' and the projects' end dates (none: no insert of theirs); on PostgreSQL
    # the insert takes the lock the alert emails wait on (core.services.alert_lock)
    assert large_total == 7 + (connection.vendor == "postgresql")


def test_counts_per_type_come_from_the_database_and_a_rerun_adds_nothing(world: World) -> None:
    for offset in (-3, -1, 0, 1, 2):
        Tache.objects.bulk_create(
            Tache(
                projet=world.projet,
                nom=f"T{offset}-{i}",
                responsable=world.bob,
                date_echeance=TODAY + datetime.timedelta(days=offset),
            )
            for i in range(20)
        )

    with CaptureQueriesContext(connection) as ctx:
        first = create_deadline_alerts(today=TODAY)
    rerun = create_deadline_alerts(today=TODAY)

    assert first.created == {
        "ALERTE_RETARD": 80,
        "ALERTE_CRITIQUE": 40,
        "ALERTE_ECHEANCE": 40,
        "ALERTE_ETAPE": 0,  # no phase or project with a planned end
        "ALERTE_PROJET": 0,
        "ESCALADE": 0,  # no group named for the escalations
    }
    assert rerun.total_created == 0
    assert NotificationTache.objects.count() == 160
    inserts = sum(1 for q in ctx.captured_queries if "INSERT INTO" in q["sql"].upper())
    assert inserts == (1 if connection.vendor == "postgresql" else 3)


def test_query_count_does_not_grow_with_projects_under_several_policies(world: World) -> None:
    """Three ladders over 3 then 60 projects, 50 then 100 tasks each, the due dates
    spread over seven weeks: the same statements either way."""
    policies = [{}, {"alerte_jours": "7,3,1", "retard_repetition_jours": 3}]
    policies.append({"alerte_jours": "", "alerte_chef_aujourdhui": False})

    def grow(projects: int, tasks_each: int) -> tuple[int, int]:
        for i in range(projects):
            projet = ProjetFactory(chef_de_projet=world.alice, **policies[i % len(policies)])
            Tache.objects.bulk_create(
                Tache(
                    projet=projet,
                    nom=f"T{j}",
                    responsable=world.alice,
                    date_echeance=TODAY + datetime.timedelta(days=j % 50 - 40),
                )
                for j in range(tasks_each)
            )
        return _run_queries()

    small = grow(3, 50)  # every offset once: every alert type (SQLite inserts per type)
    large = grow(57, 100)

    assert NotificationTache.objects.values("tache__projet").distinct().count() == 60
    assert small == large


def test_query_count_does_not_grow_with_absences_and_snoozes(world: World) -> None:
    """Owners away today (their alerts go to the lead, one row when she gets it
    anyway) and snoozed advance alerts, over 10 then 200 owners: the same
    statements either way, and the dry run announces what the run creates."""

    def grow(owners: int) -> tuple[tuple[int, int], dict[str, int]]:
        for i in range(owners):
            owner = UserFactory()
            MembreProjetFactory(projet=world.projet, utilisateur=owner)
            if i % 2:  # 100 of the 200 away
                Absence.objects.create(utilisateur=owner, debut=TODAY, fin=TODAY)
            Tache.objects.bulk_create(
                Tache(
                    projet=world.projet,
                    nom=f"T{i}-{offset}",
                    responsable=owner,
                    date_echeance=TODAY + datetime.timedelta(days=offset),
                    report_alertes_jusqu_au=TODAY if i % 3 == 0 else None,
                )
                for offset in (-1, 0, 1)
            )
        NotificationTache.objects.all().delete()
        announced = create_deadline_alerts(today=TODAY, dry_run=True).created
        counts = _run_queries()
        assert create_deadline_alerts(today=TODAY, dry_run=True).total_created == 0
        return counts, announced

    small, small_announced = grow(10)
    large, large_announced = grow(190)

    assert small == large
    assert small_announced == {
        **{"ALERTE_RETARD": 15, "ALERTE_CRITIQUE": 15, "ALERTE_ECHEANCE": 6},
        **{"ALERTE_ETAPE": 0, "ALERTE_PROJET": 0, "ESCALADE": 0},
    }
    assert large_announced == {
        "ALERTE_RETARD": 200 + 100,  # the lead's, and the owners present
        "ALERTE_CRITIQUE": 200 + 100,
        "ALERTE_ECHEANCE": 200 - 68,  # to the owner or the lead, unless snoozed (i % 3 == 0)
        **{"ALERTE_ETAPE": 0, "ALERTE_PROJET": 0, "ESCALADE": 0},
    }
    assert NotificationTache.objects.count() == sum(large_announced.values())
    delegated = NotificationTache.objects.filter(delegue_pour__isnull=False)
    assert delegated.count() == 3 * 100 - 34  # snoozed and away: no advance alert at all
    assert not delegated.exclude(destinataire=world.alice).exists()
