"""The portfolio's stored figures: right after every write path (the lead's and
the owner's services, the admin, the import), the next day (a task becomes late)
with or without the morning run, and for a project whose row is missing or old.

"Right" is what a reader counts by hand, and what a count over the tasks gives."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from django.db.models import Count, Q
from django.urls import reverse

from core.models import ChiffresProjet, HistoriqueTache, Projet, Tache, User
from core.services import portfolio_figures, task_updates
from core.services.portfolio_import import import_portfolio
from tests.conftest import TODAY
from tests.factories import PORTFOLIO, ProjetFactory, TacheFactory, UserFactory, grant
from tests.web.conftest import NOW, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

DAY = datetime.timedelta(days=1)
S = Tache.Statut


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def stored(projet: Projet) -> tuple[int, int, int, int]:
    """(open, late, due today, slipped) as stored, without any refresh."""
    row = ChiffresProjet.objects.get(projet=projet)
    return row.open_count, row.late_count, row.due_today_count, row.slip_count


def counted(projet: Projet, *, today: datetime.date = TODAY) -> tuple[int, int, int, int]:
    """The same figures counted over the tasks and their history."""
    tasks = Tache.objects.filter(projet=projet, statut__in=Tache.OPEN_STATUTS).aggregate(
        n=Count("id"),
        late=Count("id", filter=Q(date_echeance__lt=today)),
        today=Count("id", filter=Q(date_echeance=today)),
    )
    slips = HistoriqueTache.objects.filter(HistoriqueTache.SLIP, tache__projet=projet).count()
    return tasks["n"], tasks["late"], tasks["today"], slips


@pytest.fixture
def lead(world) -> User:
    return world.alice


def create(projet: Projet, lead: User, due: datetime.date | None, **fields) -> Tache:
    tache = Tache(projet=projet, nom="T", responsable=lead, date_echeance=due, **fields)
    return task_updates.create_task(tache=tache, author=lead, today=TODAY)


def test_the_leads_and_the_owners_writes_keep_the_figures(world, lead):
    projet = world.projet
    late = create(projet, lead, TODAY - 2 * DAY)
    today = create(projet, lead, TODAY)
    assert stored(projet) == (2, 1, 1, 0)

    today.date_echeance = TODAY + 3 * DAY  # pushed back: a slip, no longer due today
    task_updates.save_task(tache=today, author=lead, today=TODAY, reason="Décalage")
    assert stored(projet) == (2, 1, 0, 1)

    task_updates.mark_done(tache_id=late.pk, author=lead, today=TODAY)  # the owner's click
    assert stored(projet) == (1, 0, 0, 1)

    task_updates.update_progress(  # re-opened
        tache_id=late.pk, author=lead, statut=S.EN_COURS, avancement=20, today=TODAY
    )
    assert stored(projet) == (2, 1, 0, 1) == counted(projet)


def test_a_task_moved_to_another_project_counts_in_the_new_one_only(world, lead):
    other = ProjetFactory(chef_de_projet=lead)
    tache = create(world.projet, lead, TODAY - DAY)
    tache.projet = other
    task_updates.save_task(tache=tache, author=lead, today=TODAY)

    assert stored(world.projet) == (0, 0, 0, 0)
    assert stored(other) == (1, 1, 0, 0)


def test_the_admins_edit_and_delete_keep_the_figures(world, lead):
    dsi = UserFactory(username="dsi", is_staff=True, is_superuser=True)
    client = client_for(dsi)
    tache = create(world.projet, lead, TODAY)
    create(world.projet, lead, TODAY - DAY)
    change = reverse("admin:core_tache_change", args=[tache.pk])
    form = {
        "projet": world.projet.pk,
        "nom": tache.nom,
        "statut": S.BLOQUEE,
        "priorite": tache.priorite,
        "date_echeance": (TODAY - 3 * DAY).isoformat(),
        "avancement": 0,
        "report_motif": "",
    }
    assert client.post(change, form).status_code == 302
    assert stored(world.projet) == (2, 2, 0, 0) == counted(world.projet)

    # A task with a history cannot be deleted there (the history is read only):
    # one without, as an older tool left them.
    Tache.objects.filter(projet=world.projet).delete()
    first, second = (TacheFactory(projet=world.projet, date_echeance=TODAY - DAY) for _ in "12")
    assert stored(world.projet) == (2, 2, 0, 0)
    delete = reverse("admin:core_tache_delete", args=[first.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert stored(world.projet) == (1, 1, 0, 0)

    changelist = reverse("admin:core_tache_changelist")
    selected = {"action": "delete_selected", "post": "yes", "_selected_action": [second.pk]}
    assert client.post(changelist, selected).status_code == 302
    assert stored(world.projet) == (0, 0, 0, 0)


def test_the_import_keeps_the_figures_of_the_projects_it_writes(world, lead, tmp_path: Path):
    header = "code_projet;projet;chef_de_projet;etape;tache;responsable;date_echeance;statut"
    rows = [
        f"portail;Refonte du portail;alice;;Ancienne;bob;{(TODAY - DAY):%d/%m/%Y};À faire",
        f"crm;Nouveau CRM;alice;;Besoins;bob;{TODAY:%d/%m/%Y};En cours",
        f"crm;Nouveau CRM;alice;;Finie;bob;{(TODAY - DAY):%d/%m/%Y};Terminée",
    ]
    path = tmp_path / "portefeuille.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    result = import_portfolio(
        path=path, file_name=path.name, author=None, dry_run=False, today=TODAY
    )

    assert not result.errors
    crm = Projet.objects.get(code="crm")
    assert stored(world.projet) == (1, 1, 0, 0)
    assert stored(crm) == (1, 0, 1, 0) == counted(crm)


def test_tomorrow_a_task_due_today_is_late_with_or_without_the_morning_run(world, lead):
    create(world.projet, lead, TODAY)
    dsi = client_for(grant(UserFactory(username="dsi"), *PORTFOLIO))
    tomorrow = TODAY + DAY

    with time_machine.travel(NOW + DAY, tick=False):
        # Before the morning run: the row is of yesterday, the page counts again.
        row = dsi.get(reverse("core:portfolio")).context["rows"][0]
        assert (row.open_count, row.late_count, row.due_today_count) == (1, 1, 0)
        assert stored(world.projet) == (1, 1, 0, 0)

    ChiffresProjet.objects.update(computed_on=TODAY, late_count=0, due_today_count=1)
    portfolio_figures.morning_refresh(today=tomorrow)
    assert stored(world.projet) == (1, 1, 0, 0) == counted(world.projet, today=tomorrow)


def test_a_missing_or_old_row_shows_right_figures(world, lead):
    create(world.projet, lead, TODAY - DAY)
    other = ProjetFactory(nom="Sans ligne", chef_de_projet=lead)
    Tache.objects.create(projet=other, nom="En SQL", date_echeance=TODAY)  # no service
    ChiffresProjet.objects.filter(projet=other).delete()
    ChiffresProjet.objects.filter(projet=world.projet).update(
        computed_on=TODAY - 3 * DAY, open_count=9, late_count=9
    )
    dsi = client_for(grant(UserFactory(username="dsi"), *PORTFOLIO))

    page = dsi.get(reverse("core:portfolio"))

    rows = {row.projet.pk: row for row in page.context["rows"]}
    assert (rows[world.projet.pk].open_count, rows[world.projet.pk].late_count) == (1, 1)
    assert (rows[other.pk].open_count, rows[other.pk].due_today_count) == (1, 1)
    totals = page.context["totals"]
    assert (totals.open_count, totals.late_count, totals.due_today_count) == (2, 1, 1)
    assert ChiffresProjet.objects.filter(computed_on=TODAY).count() == 2


def test_the_morning_run_counts_every_project_once_and_twice_the_same(world, lead):
    for i in range(5):
        projet = ProjetFactory(chef_de_projet=lead)
        TacheFactory(projet=projet, date_echeance=TODAY - i * DAY)
    ChiffresProjet.objects.all().delete()

    first = portfolio_figures.morning_refresh(today=TODAY)
    again = portfolio_figures.morning_refresh(today=TODAY)

    assert first.projects == again.projects == Projet.objects.count() == 6
    assert again.trend_days == 0
    for projet in Projet.objects.all():
        assert stored(projet) == counted(projet)


def test_the_daily_check_refreshes_the_figures_after_the_alerts(world, lead):
    from core.services.daily_check import run_deadline_check

    create(world.projet, lead, TODAY)
    ChiffresProjet.objects.update(computed_on=None, due_today_count=0)

    run_deadline_check(today=TODAY)

    assert ChiffresProjet.objects.get(projet=world.projet).computed_on == TODAY
    assert stored(world.projet) == (1, 0, 1, 0)


@pytest.mark.parametrize("projects", [5, 50])
def test_the_first_screen_takes_ten_queries_at_5_or_50_projects(
    world, lead, projects, django_assert_num_queries
):
    from tests.web.test_portfolio import add_projects

    add_projects(projects, lead=lead)
    portfolio_figures.morning_refresh(today=TODAY)
    client = client_for(grant(UserFactory(username="dsi"), *PORTFOLIO))
    client.get(reverse("core:portfolio"))  # the session's first read

    # Session, user, permissions (own, groups'), badge; figures of today?, count,
    # the page with its figures and trend points, totals, the totals' trend.
    with django_assert_num_queries(10):
        page = client.get(reverse("core:portfolio"), {"tri": "glissements"})

    assert len(page.context["rows"]) == min(projects + 1, 50)
    totals = page.context["totals"]
    # Each added project: a late task (slipped once), one due today, one open.
    assert (totals.open_count, totals.late_count, totals.slip_count) == (
        3 * projects,
        projects,
        projects,
    )


def test_the_summary_row_is_the_whole_filtered_portfolio_beyond_the_page(world, lead):
    from tests.web.test_portfolio import add_projects

    zoe = UserFactory(username="zoe")
    add_projects(55, lead=lead)  # two pages of alice's projects (with the world's)
    add_projects(3, lead=zoe)
    suspended = ProjetFactory(chef_de_projet=zoe, statut=Projet.Statut.SUSPENDU)
    TacheFactory(projet=suspended, date_echeance=TODAY - DAY)
    client = client_for(grant(UserFactory(username="dsi"), *PORTFOLIO))

    def totals(**params) -> tuple[int, int, int, int, int]:
        page = client.get(reverse("core:portfolio"), params).context
        t = page["totals"]
        return (
            page["page"].paginator.count,
            t.open_count,
            t.late_count,
            t.due_today_count,
            t.slip_count,
        )

    assert totals() == (60, 175, 59, 58, 58)
    assert totals(chef="alice") == (56, 165, 55, 55, 55)
    assert totals(chef="zoe") == (4, 10, 4, 3, 3)
    assert totals(chef="zoe", statut=Projet.Statut.SUSPENDU) == (1, 1, 1, 0, 0)
    rows = client.get(reverse("core:portfolio"), {"chef": "zoe"}).context["rows"]
    assert [row.late_count for row in rows] == [1, 1, 1, 1]
