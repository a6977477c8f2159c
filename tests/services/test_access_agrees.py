""" "Has access to a project" is written twice: in SQL inside the deadline engine
(one INSERT ... SELECT for every task) and in the ORM for the pages
(``visible_projects``). This test pins them as one rule: for every kind of
membership, the engine alerts an owner exactly when the pages show them the
project."""

from __future__ import annotations

import datetime

import pytest

from core.models import NotificationTache
from core.selectors.projects import visible_projects
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY
from tests.factories import MembreProjetFactory, ProjetFactory, TacheFactory, UserFactory

DAY = datetime.timedelta(days=1)
# (joined, left) relative to today; None: no membership row at all.
MEMBERSHIPS = {
    "current": (-30, None),
    "joined_today": (0, None),
    "joins_tomorrow": (1, None),
    "leaves_today": (-30, 0),
    "left_yesterday": (-30, -1),
    "left_long_ago": (-90, -60),
    "never_member": None,
    "lead": "lead",
}


@pytest.mark.parametrize("kind", sorted(MEMBERSHIPS))
def test_the_engine_and_the_pages_agree_on_who_has_access(db, kind):
    owner = UserFactory(username=f"owner-{kind}")
    projet = ProjetFactory(chef_de_projet=owner if kind == "lead" else UserFactory())
    spec = MEMBERSHIPS[kind]
    if isinstance(spec, tuple):
        joined, left = spec
        MembreProjetFactory(
            projet=projet,
            utilisateur=owner,
            date_debut=TODAY + joined * DAY,
            date_fin=None if left is None else TODAY + left * DAY,
        )
    # Due in two days: only the owner is alerted, if they have access.
    tache = TacheFactory(projet=projet, responsable=owner, date_echeance=TODAY + 2 * DAY)

    create_deadline_alerts(today=TODAY)

    alerted = NotificationTache.objects.filter(tache=tache, destinataire=owner).exists()
    shown = visible_projects(user=owner, today=TODAY).filter(pk=projet.pk).exists()
    assert alerted == shown
    assert shown == (kind in {"current", "joined_today", "leaves_today", "lead"})
