"""Writes to one project at the same time: the project row's lock serialises them.

Real PostgreSQL, one connection per thread: phases numbered at once get distinct
numbers, swaps at once never break the constraint (projet, ordre), a colleague
added twice at once is one member and one clear refusal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from core.models import Etape, HistoriqueProjet, MembreProjet
from core.services import projects
from tests.conftest import TODAY
from tests.factories import EtapeFactory, ProjetFactory, UserFactory

RUNS = 4
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(call())
        except BaseException as exc:  # reported to the main thread, below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_phases_added_at_once_get_distinct_numbers(postgres_db):
    lead = UserFactory()
    projet = ProjetFactory(chef_de_projet=lead)
    outcomes = at_once(
        [
            lambda i=i: projects.add_phase(projet_id=projet.pk, author=lead, nom=f"É{i}")
            for i in range(RUNS)
        ]
    )
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    numbers = sorted(Etape.objects.filter(projet=projet).values_list("ordre", flat=True))
    assert numbers == [1, 2, 3, 4]


def test_moves_at_once_keep_every_number_once(postgres_db):
    lead = UserFactory()
    projet = ProjetFactory(chef_de_projet=lead)
    etapes = [EtapeFactory(projet=projet, nom=f"É{i}", ordre=i + 1) for i in range(RUNS)]
    moves = [
        lambda e=e, d=d: projects.move_phase(etape_id=e.pk, author=lead, direction=d)
        for e, d in zip(
            etapes, [projects.DOWN, projects.UP, projects.DOWN, projects.UP], strict=True
        )
    ]
    outcomes = at_once(moves)
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    numbers = sorted(Etape.objects.filter(projet=projet).values_list("ordre", flat=True))
    assert len(numbers) == len(set(numbers)) == RUNS
    swaps = sum(1 for o in outcomes if o is True)
    assert HistoriqueProjet.objects.filter(champ="ordre").count() == 2 * swaps


def test_a_colleague_added_twice_at_once_is_one_member(postgres_db):
    lead, dora = UserFactory(), UserFactory()
    projet = ProjetFactory(chef_de_projet=lead)
    outcomes = at_once(
        [
            lambda: projects.add_member(
                projet_id=projet.pk, utilisateur=dora, author=lead, role="MEMBRE", date_debut=TODAY
            )
        ]
        * 2
    )
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], ValidationError)
    assert refused[0].code == "already_member"
    assert MembreProjet.objects.filter(projet=projet, utilisateur=dora).count() == 1
