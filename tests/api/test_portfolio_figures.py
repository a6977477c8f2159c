"""The API's task writes keep the portfolio's stored figures, as the pages' do."""

from __future__ import annotations

import json

import pytest

from core.models import ChiffresProjet
from tests.api.conftest import DAY
from tests.conftest import TODAY

pytestmark = pytest.mark.django_db


def stored(projet) -> tuple[int, int, int, int]:
    row = ChiffresProjet.objects.get(projet=projet)
    return row.open_count, row.late_count, row.due_today_count, row.slip_count


def test_a_task_created_done_or_pushed_back_through_the_api_moves_the_figures(api, as_user):
    alice, bob = as_user("alice"), as_user("bob")
    assert stored(api.projet) == (2, 1, 0, 0)  # bob's (in 3 days) and alice's (late)

    created = alice.post(
        "/api/v1/tasks/",
        json.dumps({"projet": api.projet.pk, "nom": "Nouvelle", "date_echeance": str(TODAY)}),
        content_type="application/json",
    )
    assert created.status_code == 201
    assert stored(api.projet) == (3, 1, 1, 0)

    done = bob.patch(
        f"/api/v1/tasks/{api.bobs.pk}/",
        json.dumps({"statut": "TERMINEE", "avancement": 100}),
        content_type="application/json",
    )
    assert done.status_code == 200
    assert stored(api.projet) == (2, 1, 1, 0)

    later = str(TODAY + 5 * DAY)
    pushed = alice.patch(
        f"/api/v1/tasks/{api.alices.pk}/",
        json.dumps({"date_echeance": later, "commentaire": "Attente du fournisseur"}),
        content_type="application/json",
    )
    assert pushed.status_code == 200, pushed.content
    assert stored(api.projet) == (2, 0, 1, 1)
