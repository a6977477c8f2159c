"""Two imports of one file at the same time (two people confirm, or a cron and a
person): real PostgreSQL, one connection each. The file's projects are locked in
the transaction: the second waits, then finds the first's tasks; never twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from core.models import HistoriqueTache, Tache
from core.services.portfolio_import import ImportResult
from tests.factories import MembreProjetFactory, ProjetFactory, UserFactory
from tests.services.test_portfolio_import import HEADER, run, write

RUNS = 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_create_each_task_once(postgres_db, tmp_path) -> None:
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    for code in ("a", "b"):
        projet = ProjetFactory(code=code, nom=f"Projet {code}", chef_de_projet=alice)
        MembreProjetFactory(projet=projet, utilisateur=bob)
    lines = [
        f"{code};Projet {code};alice;Étape {n % 3};Tâche {n};bob;01/12/2026;A_FAIRE;"
        for n in range(300)
        for code in ("b", "a")  # both projects in the first chunk, b before a
    ]
    path = write(tmp_path, "\n".join([HEADER, *lines]) + "\n")
    barrier = threading.Barrier(RUNS)
    outcomes: list[ImportResult | BaseException] = []

    def go() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(run(path, chunk_rows=100))
        except BaseException as exc:  # reported to the main thread, below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert all(o.ok for o in outcomes if isinstance(o, ImportResult))
    assert Tache.objects.count() == 600
    assert sorted(o.counts.tasks_created for o in outcomes) == [0] * (RUNS - 1) + [600]
    assert HistoriqueTache.objects.count() == 600
