"""Writes to one project's tasks at the same time, and the morning run beside
them, on real PostgreSQL (one connection per thread): the stored figures are the
count of the last committed state, never the count one writer saw before another
committed, and two moves in opposite directions do not deadlock."""

from __future__ import annotations

import pytest

from core.models import ChiffresProjet, Projet, Tache
from core.services import portfolio_figures, task_updates
from tests.conftest import TODAY
from tests.factories import ProjetFactory, TacheFactory, UserFactory
from tests.services.test_project_concurrency import at_once

RUNS = 6
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def stored(projet: Projet) -> tuple[int, int]:
    row = ChiffresProjet.objects.get(projet=projet)
    return row.open_count, row.late_count


def test_tasks_closed_at_once_beside_the_morning_run_leave_the_right_counts(postgres_db):
    lead = UserFactory()
    projet = ProjetFactory(chef_de_projet=lead)
    taches = [
        TacheFactory(projet=projet, responsable=lead, date_echeance=TODAY) for _ in range(RUNS)
    ]
    TacheFactory(projet=projet, responsable=lead, date_echeance=TODAY.replace(day=1))  # late
    calls = [
        lambda t=t: task_updates.mark_done(tache_id=t.pk, author=lead, today=TODAY) for t in taches
    ]
    outcomes = at_once([*calls, lambda: portfolio_figures.refresh_all(today=TODAY)])

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert Tache.objects.filter(projet=projet, statut=Tache.Statut.TERMINEE).count() == RUNS
    assert stored(projet) == (1, 1)


def test_tasks_moved_both_ways_at_once_do_not_deadlock(postgres_db):
    lead = UserFactory()
    a, b = ProjetFactory(chef_de_projet=lead), ProjetFactory(chef_de_projet=lead)
    from_a = [TacheFactory(projet=a, date_echeance=TODAY) for _ in range(RUNS // 2)]
    from_b = [TacheFactory(projet=b, date_echeance=TODAY) for _ in range(RUNS // 2)]

    def move(tache: Tache, to: Projet):
        tache.refresh_from_db()
        tache.projet = to
        return task_updates.save_task(tache=tache, author=lead, today=TODAY)

    outcomes = at_once(
        [*(lambda t=t: move(t, b) for t in from_a), *(lambda t=t: move(t, a) for t in from_b)]
    )

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert stored(a) == stored(b) == (RUNS // 2, 0)
