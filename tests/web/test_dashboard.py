"""The dashboard "Mes tâches": my open tasks by urgency; my projects' health."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from core.models import Projet, Tache
from tests.conftest import TODAY
from tests.factories import ProjetFactory, TacheFactory
from tests.web.conftest import client_for

pytestmark = pytest.mark.usefixtures("frozen")

DAY = datetime.timedelta(days=1)


def groups_of(response) -> dict[str, list[str]]:
    return {
        g["key"]: [t.nom for t in g["taches"]]
        for part in response.context["group_parts"]
        for g in part
    }


def test_my_open_tasks_grouped_by_urgency(world):
    def task(nom, due, **kwargs):
        return TacheFactory(
            projet=world.projet, nom=nom, responsable=world.bob, date_echeance=due, **kwargs
        )

    task("En retard", TODAY - 3 * DAY)
    task("Aujourd'hui", TODAY)
    task("Dimanche", datetime.date(2026, 11, 29))  # last day of this week
    task("Lundi prochain", datetime.date(2026, 11, 30))
    task("Sans date", None)
    task("Terminée", TODAY - DAY, statut=Tache.Statut.TERMINEE)
    task("Annulée", TODAY, statut=Tache.Statut.ANNULEE)
    TacheFactory(projet=world.projet, nom="Pas à moi", responsable=world.alice)

    response = client_for(world.bob).get(reverse("core:dashboard"))

    assert groups_of(response) == {
        "late": ["En retard"],
        "today": ["Aujourd'hui"],
        "this_week": ["Dimanche"],
        "later": ["Lundi prochain"],
        "no_due_date": ["Sans date"],
    }
    content = response.content.decode()
    assert 'id="group-late"' in content
    assert "Terminée" not in content and "Pas à moi" not in content


def test_tasks_of_a_project_i_left_are_not_mine_any_more(world):
    other = ProjetFactory(chef_de_projet=world.alice)  # bob is not a member
    TacheFactory(projet=other, nom="Ailleurs", responsable=world.bob)

    response = client_for(world.bob).get(reverse("core:dashboard"))

    assert response.context["total"] == 0
    assert "Ailleurs" not in response.content.decode()


def test_a_member_has_no_project_health_section(world):
    response = client_for(world.bob).get(reverse("core:dashboard"))
    assert response.context["led_projects"] == []
    assert 'id="led-projets"' not in response.content.decode()


def test_lead_sees_health_figures_and_most_urgent_tasks(world):
    p = world.projet
    TacheFactory(projet=p, nom="Retard 1", responsable=world.bob, date_echeance=TODAY - 5 * DAY)
    TacheFactory(projet=p, nom="Retard 2", date_echeance=TODAY - DAY)
    TacheFactory(projet=p, nom="Ouverte", date_echeance=TODAY + 3 * DAY)
    TacheFactory(projet=p, nom="Plus tard", date_echeance=TODAY + 10 * DAY)
    TacheFactory(projet=p, nom="Bloquée", statut=Tache.Statut.BLOQUEE, date_echeance=TODAY)
    TacheFactory(projet=p, statut=Tache.Statut.TERMINEE, date_fin_reelle=TODAY - 2 * DAY)
    TacheFactory(projet=p, statut=Tache.Statut.TERMINEE, date_fin_reelle=TODAY - 9 * DAY)
    ProjetFactory(chef_de_projet=world.alice, statut=Projet.Statut.ARCHIVE, nom="Archivé")

    response = client_for(world.alice).get(reverse("core:dashboard"))

    [projet] = response.context["led_projects"]
    assert (projet.nom, projet.open_count, projet.late_count, projet.done_count) == (
        "Refonte du portail",
        5,
        2,
        1,
    )
    # Most urgent first; beyond the summary's horizon (7 days) a task is not urgent.
    urgent = [t.nom for t in response.context["urgent_tasks"]]
    assert urgent == ["Retard 1", "Retard 2", "Bloquée", "Ouverte"]
    content = response.content.decode()
    assert 'id="urgent-taches"' in content and "Archivé" not in content


def test_done_this_week_is_the_same_on_the_dashboard_and_in_the_summary(world):
    from core.models import OutboundEmail
    from core.services.summary import send_daily_summary

    p = world.projet
    TacheFactory(projet=p, nom="Retard", date_echeance=TODAY - DAY)  # news: a summary is sent
    TacheFactory(projet=p, statut=Tache.Statut.TERMINEE, date_fin_reelle=TODAY - 2 * DAY)
    TacheFactory(projet=p, statut=Tache.Statut.TERMINEE, date_fin_reelle=TODAY - 9 * DAY)
    TacheFactory(projet=p, statut=Tache.Statut.TERMINEE, date_fin_reelle=None)  # set in the admin

    [projet] = client_for(world.alice).get(reverse("core:dashboard")).context["led_projects"]
    send_daily_summary(today=TODAY)
    email = OutboundEmail.objects.get(recipient=world.alice, kind=OutboundEmail.Kind.SUMMARY)

    health = email.body_text.split("Refonte du portail ===")[1].splitlines()[1]
    assert re.findall(r"\d+", health) == ["1", "1", "2"]  # open, late, done this week
    assert (projet.open_count, projet.late_count, projet.done_count) == (1, 1, 2)


def test_late_tasks_show_days_late_and_priority_sorted_by_lateness_then_priority(world):
    def task(nom, days_late, priorite):
        return TacheFactory(
            projet=world.projet,
            nom=nom,
            responsable=world.bob,
            date_echeance=TODAY - days_late * DAY,
            priorite=priorite,
        )

    task("Un jour, basse", 1, Tache.Priorite.BASSE)
    task("Un jour, critique", 1, Tache.Priorite.CRITIQUE)
    task("Cinq jours, normale", 5, Tache.Priorite.NORMALE)
    task("Un jour, haute", 1, Tache.Priorite.HAUTE)
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=TODAY)

    response = client_for(world.bob).get(reverse("core:dashboard"))

    assert groups_of(response)["late"] == [
        "Cinq jours, normale",
        "Un jour, critique",
        "Un jour, haute",
        "Un jour, basse",
    ]
    late = response.content.decode().split('id="group-late"')[1].split("</section>")[0]
    assert "5 jours de retard" in late and "1 jour de retard" in late
    assert "Critique" in late and "Basse" in late
    counts = response.content.decode().split('id="urgency-counts"')[1].split("</nav>")[0]
    assert "En retard&nbsp;: <strong>4</strong>" in counts
    assert "Échéance aujourd&#x27;hui&nbsp;: <strong>1</strong>" in counts


def test_the_lead_sees_slipped_due_dates_on_the_dashboard(world):
    from core.services import task_updates

    tache = TacheFactory(projet=world.projet, nom="Glissante", date_echeance=TODAY - DAY)
    tache.date_echeance = TODAY + DAY
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY)

    content = client_for(world.alice).get(reverse("core:dashboard")).content.decode()

    urgent = content.split('id="urgent-taches"')[1]
    assert "repoussée 1 fois" in urgent


def test_a_busy_owner_sees_each_groups_20_most_urgent_and_how_many_in_all(world):
    """An owner with hundreds of tasks: the counts are the true ones, each group
    shows its 20 most urgent, and the page costs the same queries at 10x the tasks."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n: int) -> None:
        for i in range(n):
            TacheFactory(
                projet=world.projet,
                nom=f"Retard {Tache.objects.count():04d}",
                responsable=world.bob,
                date_echeance=TODAY - (1 + i % 40) * DAY,
            )

    add(25)
    TacheFactory(
        projet=world.projet, nom="Demain", responsable=world.bob, date_echeance=TODAY + DAY
    )
    client = client_for(world.bob)
    url = reverse("core:dashboard")
    with CaptureQueriesContext(connection) as small:
        response = client.get(url)

    late = groups_of(response)["late"]
    assert len(late) == 20
    most_late = Tache.objects.filter(nom__startswith="Retard").order_by("date_echeance", "pk")
    assert set(late) == {t.nom for t in most_late[:20]}
    assert groups_of(response)["this_week"] == ["Demain"]
    page = response.content.decode()
    assert "En retard&nbsp;: <strong>25</strong>" in page
    assert "Et 5 autres, moins urgentes" in page
    add(250)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert len(groups_of(response)["late"]) == 20
    assert "Et 255 autres, moins urgentes" in response.content.decode()
    assert len(large) == len(small)
