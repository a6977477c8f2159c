"""Two checks at the same time (two beat ticks, beat + a manual run): no duplicate.

Real PostgreSQL, real connections: each thread has its own, and both insert the
same alerts at once. The unique key with ON CONFLICT DO NOTHING must make the
second insert wait for the first and then skip, never duplicate or fail.
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection

from core.models import Etape, NotificationTache, Tache
from core.models.notifications import MILESTONE_TYPES
from core.services import deadlines, milestone_alerts
from core.services.deadlines import DeadlineRunResult, create_deadline_alerts
from tests.conftest import TODAY
from tests.factories import MembreProjetFactory, ProjetFactory, UserFactory

RUNS = 4


def _run_at_once(today: datetime.date) -> list[DeadlineRunResult | BaseException]:
    barrier = threading.Barrier(RUNS)
    outcomes: list[DeadlineRunResult | BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(create_deadline_alerts(today=today))
        except BaseException as exc:  # reported to the main thread, below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_never_duplicate(postgres_db: None) -> None:
    lead, owner = UserFactory(username="alice"), UserFactory(username="bob")
    projet = ProjetFactory(chef_de_projet=lead)
    MembreProjetFactory(projet=projet, utilisateur=owner)
    offsets = [2, 1, 0, -1, -5] * 100
    Tache.objects.bulk_create(
        Tache(
            projet=projet,
            nom=f"T{i}",
            responsable=owner,
            date_echeance=TODAY + datetime.timedelta(days=offset),
        )
        for i, offset in enumerate(offsets)
    )

    # Day 1: J-2, J-1 (owner) + J, late (owner and lead) = 100 + 100 + 200 + 200 + 200.
    # Day 2: J-1 (owner) + J + three late offsets (owner and lead) = 100 + 200 + 600.
    for today, expected in ((TODAY, 800), (TODAY + datetime.timedelta(days=1), 900)):
        outcomes = _run_at_once(today)

        assert [o for o in outcomes if isinstance(o, BaseException)] == []
        assert len(outcomes) == RUNS
        assert NotificationTache.objects.filter(date_alerte=today).count() == expected
        # Each run reports what it really inserted: together, every alert exactly once.
        assert (
            sum(o.total_created for o in outcomes if not isinstance(o, BaseException)) == expected
        )

    keys = NotificationTache.objects.values_list(
        "tache_id", "destinataire_id", "type_notification", "date_alerte"
    )
    assert len(keys) == len(set(keys)) == 1700


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_under_a_policy_mix_in_several_statements_never_duplicate(
    postgres_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead, owner = UserFactory(username="alice"), UserFactory(username="bob")
    policies = [{}, {"alerte_jours": "7,3,1", "retard_repetition_jours": 3}]
    policies.append({"alerte_jours": "", "alerte_chef_retard": False})
    for i, policy in enumerate(policies):
        projet = ProjetFactory(chef_de_projet=lead, code=f"p{i}", **policy)
        MembreProjetFactory(projet=projet, utilisateur=owner)
        Tache.objects.bulk_create(
            Tache(
                projet=projet,
                nom=f"T{i}-{offset}",
                responsable=owner,
                date_echeance=TODAY + datetime.timedelta(days=offset),
            )
            for offset in range(-40, 10)
        )
    monkeypatch.setattr(deadlines, "RULES_PER_STATEMENT", 5)  # several statements each

    outcomes = _run_at_once(TODAY)

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    inserted = NotificationTache.objects.count()
    assert inserted > 0
    assert sum(o.total_created for o in outcomes if not isinstance(o, BaseException)) == inserted
    keys = NotificationTache.objects.values_list(
        "tache_id", "destinataire_id", "type_notification", "date_alerte"
    )
    assert len(keys) == len(set(keys))
    assert create_deadline_alerts(today=TODAY).total_created == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_alert_each_phase_and_project_end_once(
    postgres_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead = UserFactory(username="alice")
    for i in range(30):
        end = TODAY + datetime.timedelta(days=i % 5 - 2)  # late, today, ahead
        projet = ProjetFactory(chef_de_projet=lead, code=f"p{i}", date_fin_prevue=end)
        etape = Etape.objects.create(projet=projet, nom="Recette", ordre=1, date_fin_prevue=end)
        Tache.objects.create(projet=projet, etape=etape, nom=f"T{i}", date_echeance=None)
    monkeypatch.setattr(milestone_alerts, "RULES_PER_STATEMENT", 2)  # several statements

    outcomes = _run_at_once(TODAY)

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    rows = NotificationTache.objects.filter(type_notification__in=MILESTONE_TYPES)
    # Per kind, 6 subjects on each of 2 days late, 1 late, today, 1 and 2 ahead.
    assert rows.count() == 2 * 30
    created = sum(o.total_created for o in outcomes if not isinstance(o, BaseException))
    assert created == rows.count() == NotificationTache.objects.count()
    keys = rows.values_list("etape_id", "projet_id", "destinataire_id", "type_notification")
    assert len(keys) == len(set(keys))
    assert create_deadline_alerts(today=TODAY).total_created == 0
