"""Each list of the API runs a fixed number of queries, whatever the number of rows:
measured at two sizes 10× apart (5 and 50 of everything), equal, under a ceiling."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Etape, NotificationDefaults, Projet
from core.services import portfolio_figures
from tests.api.conftest import DAY, bearer
from tests.conftest import TODAY
from tests.factories import (
    EtapeFactory,
    MembreProjetFactory,
    NotificationFactory,
    ProjetFactory,
    TacheFactory,
    add_projects,
)

# Token and user, permissions (two, for the DSI's read-everything check), count, page.
MAX_QUERIES = 7
URLS = [
    ("bob", "/api/v1/projects/?page_size=200"),
    ("dora", "/api/v1/projects/?page_size=200"),
    ("bob", "/api/v1/tasks/?page_size=200"),
    ("bob", "/api/v1/tasks/?owner=me&status=A_FAIRE,BLOQUEE&page_size=200"),
    ("dora", "/api/v1/tasks/?page_size=200"),
    ("bob", "/api/v1/notifications/?page_size=200"),
    ("bob", "/api/v1/notifications/?unread=true&page_size=200"),
    ("dora", "/api/v1/portfolio/?page_size=200"),
    ("dora", "/api/v1/portfolio/summary/"),
]


def grow(api, n: int) -> None:
    for i in range(n):
        etape = EtapeFactory(projet=api.projet, ordre=Etape.objects.count() + 10)
        member = MembreProjetFactory(projet=api.projet).utilisateur
        tache = TacheFactory(
            projet=api.projet,
            etape=etape,
            responsable=api.bob if i % 2 else member,
            date_echeance=TODAY + (i - n // 2) * DAY,
        )
        other = ProjetFactory(chef_de_projet=api.alice)
        MembreProjetFactory(projet=other, utilisateur=api.bob)
        TacheFactory(projet=other, responsable=api.bob, date_echeance=TODAY - i * DAY)
        NotificationFactory(destinataire=api.bob, tache=tache)


def measure(api) -> dict[str, int]:
    NotificationDefaults.current()
    portfolio_figures.morning_refresh(today=timezone.localdate())  # the morning run's
    counts = {}
    for who, url in URLS:
        client = bearer(api.tokens[who])
        client.get(url)  # the token's last use: written once a minute, not per request
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        counts[f"{who} {url}"] = len(captured)
    return counts


@pytest.mark.django_db
def test_lists_run_a_fixed_number_of_queries(api):
    grow(api, 5)
    small = measure(api)
    grow(api, 45)
    large = measure(api)
    assert large == small
    assert max(large.values()) <= MAX_QUERIES, large


@pytest.mark.django_db
def test_the_dsi_lists_60_or_600_projects_in_the_same_queries_with_each_pages_figures(api):
    """The figures are counted for the page's projects only, not the portfolio's."""
    client = bearer(api.tokens["dora"])
    client.get("/api/v1/projects/")  # the token's last use, written once a minute
    add_projects(55, lead=api.alice)
    with CaptureQueriesContext(connection) as small:
        client.get("/api/v1/projects/", {"page": 2})
    add_projects(540, lead=api.alice)
    with CaptureQueriesContext(connection) as large:
        response = client.get("/api/v1/projects/", {"page": 2})

    assert len(large) == len(small) <= MAX_QUERIES
    body = response.json()
    assert body["count"] == Projet.objects.count()
    names = [row["nom"] for row in body["results"]]
    assert names == sorted(Projet.objects.values_list("nom", flat=True))[50:100]
    row = next(row for row in body["results"] if row["code"].startswith("p"))
    assert (row["taches_ouvertes"], row["taches_en_retard"]) == (2, 1)
