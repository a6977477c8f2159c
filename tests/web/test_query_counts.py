"""Every page runs in a fixed number of queries, whatever the number of rows.

Each page is measured with a small and a larger data set; the counts must be
equal (and stay under a ceiling that documents the budget).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import (
    HistoriqueProjet,
    HistoriqueTache,
    JobRun,
    NotificationDefaults,
    NotificationTache,
    Tache,
)
from core.services import portfolio_figures
from tests.conftest import TODAY
from tests.factories import (
    PORTFOLIO,
    SUPERVISION,
    EtapeFactory,
    MembreProjetFactory,
    NotificationFactory,
    ProjetFactory,
    TacheFactory,
    UserFactory,
    add_comments,
    grant,
)
from tests.web.conftest import NOW, client_for

pytestmark = pytest.mark.usefixtures("frozen")

DAY = datetime.timedelta(days=1)
# Session + user + the user's permissions (two: own and groups', for the
# navigation's links) + unread badge, then the page's own reads.
MAX_QUERIES = 10


def grow(world, n: int) -> None:
    """Add ``n`` of everything a page lists: tasks, phases, members, projects, alerts."""
    start = Tache.objects.count()
    for i in range(n):
        etape = EtapeFactory(projet=world.projet, ordre=1000 + start + i)
        member = MembreProjetFactory(projet=world.projet).utilisateur
        tache = TacheFactory(
            projet=world.projet,
            etape=etape,
            responsable=world.bob if i % 2 else member,
            date_echeance=TODAY + (i - n // 2) * DAY,
            statut=Tache.Statut.TERMINEE if i % 5 == 0 else Tache.Statut.A_FAIRE,
        )
        HistoriqueTache.objects.create(
            tache=tache,
            champ=HistoriqueTache.Champ.ECHEANCE,
            ancienne_echeance=TODAY - 30 * DAY,
            nouvelle_echeance=tache.date_echeance,
        )
        _project_history(world, etape=etape, member=member, i=i)
        other = ProjetFactory(chef_de_projet=world.alice)
        MembreProjetFactory(projet=other, utilisateur=world.bob)
        TacheFactory(projet=other, responsable=world.bob, date_echeance=TODAY - i * DAY)
        for kind in NotificationTache.Type.values:
            NotificationFactory(destinataire=world.bob, tache=tache, type_notification=kind)
            NotificationFactory(destinataire=world.alice, tache=tache, type_notification=kind)
        JobRun.objects.create(
            job="check_task_deadlines",
            business_date=TODAY,
            status=JobRun.Status.SUCCESS,
            started_at=NOW - i * DAY,
            finished_at=NOW - i * DAY,
            counts={"total_created": i},
        )


def _project_history(world, *, etape, member, i: int) -> None:
    """A hand-over (two users named by id), a phase's and a member's changes."""
    Action, Sujet = HistoriqueProjet.Action, HistoriqueProjet.Sujet
    lead = UserFactory()
    HistoriqueProjet.objects.bulk_create(
        [
            HistoriqueProjet(
                projet=world.projet,
                auteur=world.alice,
                action=Action.PASSATION,
                champ="chef_de_projet",
                ancienne_valeur=str(lead.pk),
                nouvelle_valeur=str(world.alice.pk),
            ),
            HistoriqueProjet(
                projet=world.projet,
                auteur=lead,
                action=Action.MODIFICATION,
                sujet=Sujet.ETAPE,
                etape=etape,
                etape_nom=etape.nom,
                champ="date_fin_prevue",
                nouvelle_valeur=(TODAY + i * DAY).isoformat(),
            ),
            HistoriqueProjet(
                projet=world.projet,
                auteur=world.alice,
                action=Action.AJOUT_MEMBRE,
                sujet=Sujet.MEMBRE,
                membre=member,
                champ="role",
                nouvelle_valeur="MEMBRE",
            ),
        ]
    )


def queries(client, url: str, method: str = "get") -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url)
    assert response.status_code in (200, 302), response.status_code
    return len(captured)


def _deep_unread_page(world) -> str:
    """The query string of a page of bob's unread notifications past the first."""
    from core.selectors.notifications import Cursor

    unread = NotificationTache.objects.filter(destinataire=world.bob, lue=False)
    edge = unread.order_by("-date_creation", "-id")[3]
    return f"?statut=unread&older={Cursor.of(edge).token}"


def pages(world) -> list[tuple[str, object, str]]:
    tache = Tache.objects.filter(projet=world.projet).order_by("pk").first()
    staff = grant(UserFactory(username="dsi"), *PORTFOLIO)
    return [
        ("staff", staff, reverse("core:portfolio")),
        ("bob", world.bob, reverse("core:dashboard")),
        ("alice", world.alice, reverse("core:dashboard")),
        ("bob", world.bob, reverse("core:notification_list")),
        ("bob", world.bob, reverse("core:notification_list") + _deep_unread_page(world)),
        ("bob", world.bob, reverse("core:project_list")),
        ("bob", world.bob, reverse("core:project_detail", args=[world.projet.pk])),
        ("alice", world.alice, reverse("core:project_detail", args=[world.projet.pk])),
        ("bob", world.bob, reverse("core:project_history", args=[world.projet.pk])),
        ("alice", world.alice, reverse("core:project_history", args=[world.projet.pk]) + "?page=2"),
        ("alice", world.alice, reverse("core:project_edit", args=[world.projet.pk])),
        ("alice", world.alice, reverse("core:member_add", args=[world.projet.pk])),
        ("bob", world.bob, reverse("core:task_detail", args=[tache.pk])),
        ("bob", world.bob, reverse("core:task_history", args=[tache.pk])),
        ("alice", world.alice, reverse("core:task_edit", args=[tache.pk])),
        ("alice", world.alice, reverse("core:task_create", args=[world.projet.pk])),
    ]


def measure(world) -> dict[str, int]:
    # The administrators' defaults (the project page's alert policy) are cached for
    # a minute, as a running site has them: read once, not counted against a page.
    NotificationDefaults.current()
    # The portfolio's figures and trend points of the day, as the morning run
    # leaves them (a page refreshes them only when it has not run).
    portfolio_figures.morning_refresh(today=TODAY)
    return {
        f"{name} {re.sub('older=[^&]*', 'older=...', url)}": queries(client_for(user), url)
        for name, user, url in pages(world)
    }


def test_pages_run_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    grow(world, 3)
    small = measure(world)
    grow(world, 30)
    large = measure(world)

    assert large == small
    for _name, user, url in pages(world):
        client = client_for(user)
        with django_assert_max_num_queries(MAX_QUERIES):
            client.get(url)


def test_posts_run_a_fixed_number_of_queries(world):
    grow(world, 3)
    client = client_for(world.bob)
    read_all = reverse("core:notification_read_all")
    small = queries(client, read_all, "post")
    NotificationTache.objects.update(lue=False)
    grow(world, 30)
    large = queries(client, read_all, "post")
    assert large == small

    NotificationTache.objects.update(lue=False)
    one = NotificationTache.objects.filter(destinataire=world.bob).first()
    assert queries(client, reverse("core:notification_read", args=[one.pk]), "post") <= 6


def test_supervision_runs_a_fixed_number_of_queries(world):
    from si_gouvernance.celery import app as celery_app

    admin = grant(UserFactory(username="admin"), *SUPERVISION)
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        grow(world, 3)
        small = queries(client_for(admin), reverse("core:supervision"))
        grow(world, 30)
        large = queries(client_for(admin), reverse("core:supervision"))
    finally:
        celery_app.conf.broker_url = saved
    # Two more than a page: the heartbeats of the workers and of beat (liveness).
    assert large == small <= MAX_QUERIES + 2


def test_a_task_page_costs_the_same_with_3_or_200_history_entries(world):
    """The task page reads the latest entries and two counts; its history pages
    one page at a time: neither grows with the history."""
    tache = TacheFactory(projet=world.projet, responsable=world.bob)
    history = reverse("core:task_history", args=[tache.pk])
    urls = [reverse("core:task_detail", args=[tache.pk]), history, f"{history}?page=2"]
    client = client_for(world.bob)
    add_comments(tache, 3, auteur=world.alice)
    small = [queries(client, url) for url in urls]
    add_comments(tache, 197, auteur=world.alice)
    large = [queries(client, url) for url in urls]

    assert large == small
    assert max(large) <= MAX_QUERIES


@pytest.mark.parametrize("page", ["999999999", "9" * 5000, "-1", "0", "abc", "2.5", "1e9"])
def test_an_absurd_page_number_costs_what_a_real_page_costs(world, page):
    """Past the end, the last page; not a number, the first: one COUNT either way,
    never a 404 or a second count. Page sizes are fixed: no parameter changes them."""
    staff = grant(UserFactory(username="dsi"), *PORTFOLIO)
    for _ in range(55):  # two pages of each list
        MembreProjetFactory(projet=ProjetFactory(chef_de_projet=world.alice), utilisateur=world.bob)
    tache = TacheFactory(projet=world.projet, responsable=world.bob)
    add_comments(tache, 55)
    lists = [
        (world.bob, reverse("core:project_list")),
        (staff, reverse("core:portfolio")),
        (world.bob, reverse("core:task_history", args=[tache.pk])),
    ]
    portfolio_figures.morning_refresh(today=TODAY)
    for user, url in lists:
        client = client_for(user)
        with CaptureQueriesContext(connection) as real:
            client.get(url, {"page": "2", "per_page": "100000"})
        with CaptureQueriesContext(connection) as absurd:
            response = client.get(url, {"page": page, "per_page": "100000"})

        assert response.status_code == 200
        assert response.context["page"].number in (1, 2)
        assert len(response.context["page"].object_list) <= 50
        assert len(absurd) == len(real), url
