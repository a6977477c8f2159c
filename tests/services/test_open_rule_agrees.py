"""The rule "open task of an active project" is ``Tache.objects.alerting()`` for the
pages and the summary, and SQL with literal statuses inside the deadline engine (so
that the planner can use the partial index ``tache_open_due_idx``, whose condition
names the open statuses too). These tests pin the three as one rule: for every task
status in every project status, the engine alerts exactly the tasks ``alerting()``
returns."""

from __future__ import annotations

import pytest

from core.models import NotificationTache, Projet, Tache
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY
from tests.factories import ProjetFactory, TacheFactory, UserFactory


@pytest.mark.parametrize("projet_statut", Projet.Statut.values)
def test_the_engine_alerts_exactly_the_alerting_tasks(db, projet_statut):
    lead = UserFactory()
    projet = ProjetFactory(chef_de_projet=lead, statut=projet_statut)
    for statut in Tache.Statut.values:
        TacheFactory(projet=projet, responsable=lead, statut=statut, date_echeance=TODAY)

    create_deadline_alerts(today=TODAY)

    alerted = set(NotificationTache.objects.values_list("tache__statut", flat=True))
    alerting = set(Tache.objects.alerting().values_list("statut", flat=True))
    assert alerted == alerting
    expected = set(Tache.OPEN_STATUTS) if projet_statut in Projet.ACTIVE_STATUTS else set()
    assert alerting == expected
    assert set(Tache.objects.open().values_list("statut", flat=True)) == set(Tache.OPEN_STATUTS)


def test_the_partial_index_names_the_open_statuses():
    [index] = [index for index in Tache._meta.indexes if index.name == "tache_open_due_idx"]
    condition = dict(index.condition.children)
    assert set(condition["statut__in"]) == set(Tache.OPEN_STATUTS)
    assert condition["date_echeance__isnull"] is False
