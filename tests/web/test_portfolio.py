"""The DSI's portfolio (``core.view_portfolio``): every project, its health, slips and trend;
filters, CSV export, and a fixed number of queries whatever the portfolio's size."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import Projet, Tache
from core.selectors import portfolio
from core.services import portfolio_figures, task_updates
from tests.conftest import TODAY
from tests.factories import (
    PORTFOLIO,
    MembreProjetFactory,
    ProjetFactory,
    TacheFactory,
    UserFactory,
    grant,
)
from tests.web.conftest import client_for

pytestmark = pytest.mark.usefixtures("frozen")

DAY = datetime.timedelta(days=1)
URL = reverse("core:portfolio")
CSV_URL = reverse("core:portfolio_csv")


@pytest.fixture
def admin(db):
    admin = UserFactory(username="admin", first_name="Admin", last_name="DSI")
    return grant(admin, *PORTFOLIO)


@pytest.fixture
def dora(db):
    return UserFactory(username="dora", first_name="Dora", last_name="Leroy")


def add_projects(n: int, *, lead) -> None:
    """n projects, each with a late, a due-today, an open and a done task and a slip."""
    for i in range(n):
        projet = ProjetFactory(nom=f"Projet {i:03d}", chef_de_projet=lead)
        MembreProjetFactory(projet=projet)
        late = TacheFactory(projet=projet, date_echeance=TODAY - 10 * DAY)
        TacheFactory(projet=projet, date_echeance=TODAY)
        TacheFactory(projet=projet, date_echeance=TODAY + 5 * DAY)
        TacheFactory(projet=projet, statut=Tache.Statut.TERMINEE, date_fin_reelle=TODAY)
        late.date_echeance = TODAY - 3 * DAY
        task_updates.save_task(tache=late, author=lead, today=TODAY)  # a slip


def test_staff_only(world, admin):
    assert client_for(world.alice).get(URL).status_code == 403
    assert client_for(world.alice).get(CSV_URL).status_code == 403
    assert client_for(admin).get(URL).status_code == 200


def test_the_portfolio_follows_its_permission_not_the_staff_flag(world):
    """Issue 16, finding 9: staff with no permission at all read the whole portfolio."""
    staff = UserFactory(username="staff", is_staff=True)
    reader = grant(UserFactory(username="dsi"), *PORTFOLIO)  # not staff

    for url in (URL, CSV_URL):
        assert client_for(staff).get(url).status_code == 403
        assert client_for(reader).get(url).status_code == 200
    assert "Portefeuille" not in client_for(staff).get(reverse("core:dashboard")).content.decode()
    navigation = client_for(reader).get(reverse("core:dashboard")).content.decode()
    assert f'href="{URL}"' in navigation
    assert f'href="{reverse("core:supervision")}"' not in navigation


def test_every_project_with_its_lead_counts_and_slips(world, admin, dora):
    p = world.projet
    late = TacheFactory(projet=p, date_echeance=TODAY - 2 * DAY)
    TacheFactory(projet=p, date_echeance=TODAY)
    TacheFactory(projet=p, date_echeance=TODAY, statut=Tache.Statut.TERMINEE)
    for days in (1, 5):
        late.date_echeance = TODAY - 2 * DAY + days * DAY
        task_updates.save_task(tache=late, author=world.alice, today=TODAY)
    ProjetFactory(nom="Archivé", chef_de_projet=dora, statut=Projet.Statut.ARCHIVE)

    response = client_for(admin).get(URL)

    rows = {row.projet.nom: row for row in response.context["rows"]}
    assert set(rows) == {"Refonte du portail", "Archivé"}  # admin is member of neither
    portail = rows["Refonte du portail"]
    assert (portail.open_count, portail.late_count, portail.due_today_count) == (2, 0, 1)
    assert portail.slip_count == 2
    assert portail.projet.chef_de_projet == world.alice
    content = response.content.decode()
    assert "Alice Martin" in content and "Dora Leroy" in content
    assert "Échéances repoussées" in content


def test_trend_counts_the_tasks_late_each_week(world, admin):
    p = world.projet
    # Late for over two weeks and still open: late on the last three measures.
    TacheFactory(projet=p, date_echeance=TODAY - 15 * DAY)
    # Late a week ago, done since.
    TacheFactory(
        projet=p,
        date_echeance=TODAY - 10 * DAY,
        statut=Tache.Statut.TERMINEE,
        date_fin_reelle=TODAY - 6 * DAY,
    )
    Tache.objects.update(date_creation=datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))

    [row] = client_for(admin).get(URL).context["rows"]

    assert row.trend == [0, 0, 0, 0, 0, 1, 2, 1]
    totals = portfolio.portfolio_totals(today=TODAY, filters=portfolio.PortfolioFilters())
    assert totals.trend == row.trend
    assert totals.late_count == row.late_count == 1


def test_filters_by_lead_and_status(world, admin, dora):
    ProjetFactory(nom="Projet de Dora", chef_de_projet=dora)
    ProjetFactory(nom="Suspendu", chef_de_projet=dora, statut=Projet.Statut.SUSPENDU)
    client = client_for(admin)

    def names(**params) -> set[str]:
        return {row.projet.nom for row in client.get(URL, params).context["rows"]}

    assert names(chef="dora") == {"Projet de Dora", "Suspendu"}
    assert names(chef="DORA", statut="SUSPENDU") == {"Suspendu"}
    assert names(statut="EN_COURS") == {"Projet de Dora", "Refonte du portail"}
    assert len(names(chef="999999")) == 3  # a bad filter shows everything, with its error


def test_csv_export_follows_the_filters(world, admin, dora):
    ProjetFactory(nom="=Formule", chef_de_projet=dora)
    TacheFactory(projet=world.projet, date_echeance=TODAY - DAY)

    response = client_for(admin).get(CSV_URL, {"chef": "alice"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "portefeuille-2026-11-25.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:8] == [
        "Projet",
        "Code",
        "Chef de projet",
        "Statut",
        "Tâches ouvertes",
        "Tâches en retard",
        "Échéance aujourd'hui",
        "Échéances repoussées",
    ]
    assert len(rows[0]) == 8 + portfolio.TREND_WEEKS
    assert rows[1][:8] == [
        "Refonte du portail",
        "portail",
        "Alice Martin",
        "En cours",
        "1",
        "1",
        "0",
        "0",
    ]
    assert len(rows) == 2
    everything = b"".join(client_for(admin).get(CSV_URL).streaming_content).decode()
    assert "'=Formule" in everything  # never read as a formula by a spreadsheet


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(captured)


def test_portfolio_runs_a_fixed_number_of_queries(world, admin):
    client = client_for(admin)
    add_projects(3, lead=world.alice)
    portfolio_figures.morning_refresh(today=TODAY)
    small = queries(client, URL), queries(client, f"{URL}?chef=alice")
    add_projects(30, lead=UserFactory())
    portfolio_figures.morning_refresh(today=TODAY)
    large = queries(client, URL), queries(client, f"{URL}?chef=alice")

    assert large == small
    # Session, user, the user's permissions (own, groups'), badge; the check for
    # figures not of today, count, page (figures and trend points), totals and
    # the totals' trend.
    assert small[0] <= 10


def test_csv_export_queries_do_not_grow_with_the_portfolio(world, admin):
    client = client_for(admin)
    add_projects(3, lead=world.alice)
    portfolio_figures.morning_refresh(today=TODAY)
    small = queries(client, CSV_URL)
    add_projects(30, lead=world.alice)
    portfolio_figures.morning_refresh(today=TODAY)
    assert queries(client, CSV_URL) == small


def test_csv_export_reads_the_stored_figures_in_one_query_across_chunks(world, admin, monkeypatch):
    """The figures and trend points of every project are one query, read as the
    file streams a chunk at a time: a bigger portfolio costs no query more (the
    first export ran the whole aggregate again for each chunk, the second read
    the history once per chunk)."""
    monkeypatch.setattr(portfolio, "CSV_CHUNK", 10)
    client = client_for(admin)
    add_projects(4, lead=world.alice)  # with the world's project: one chunk
    portfolio_figures.morning_refresh(today=TODAY)
    one_chunk = queries(client, CSV_URL)
    add_projects(30, lead=world.alice)  # 35 projects: four chunks
    portfolio_figures.morning_refresh(today=TODAY)
    text = b"".join(client.get(CSV_URL).streaming_content).decode("utf-8")

    assert queries(client, CSV_URL) == one_chunk
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 1 + 35  # every project once, across the chunks
    assert len({row[1] for row in rows[1:]}) == 35
    assert [row[5] for row in rows[1:]] == sorted((row[5] for row in rows[1:]), reverse=True)


def test_csv_export_neutralises_formulas_behind_blanks_and_line_breaks(world, admin):
    tricky = [' =HYPERLINK("http://evil.example";"Cliquez")', "\n=1+1", "\t=1", "-2+3"]
    for i, nom in enumerate(tricky):
        lead = UserFactory(first_name="@SUM(A1)", last_name=f"Chef {i}")
        ProjetFactory(nom=nom, code=f" +code{i}", chef_de_projet=lead)

    text = b"".join(client_for(admin).get(CSV_URL).streaming_content).decode("utf-8")

    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) >= {"'" + nom for nom in tricky}
    for i, nom in enumerate(tricky):
        assert by_name["'" + nom][1:3] == [f"' +code{i}", f"'@SUM(A1) Chef {i}"]


def test_the_portfolio_sorts_by_lateness_slips_lead_and_name_and_keeps_the_filters(
    world, admin, dora
):
    zoe = UserFactory(username="zoe", first_name="Zoé", last_name="Abadie")
    slipped = ProjetFactory(nom="Aaa glissé", chef_de_projet=dora)
    tache = TacheFactory(projet=slipped, date_echeance=TODAY + 5 * DAY)
    for days in (6, 7):  # pushed back twice, never late
        tache.date_echeance = TODAY + days * DAY
        task_updates.save_task(tache=tache, author=dora, today=TODAY, reason="Décalage")
    ProjetFactory(nom="Zzz de Zoé", chef_de_projet=zoe)
    TacheFactory(projet=world.projet, date_echeance=TODAY - DAY)  # alice's: late
    client = client_for(admin)

    def order(**params) -> list[str]:
        return [row.projet.nom for row in client.get(URL, params).context["rows"]]

    assert order()[0] == "Refonte du portail"  # the most late first
    assert order(tri="glissements")[0] == "Aaa glissé"
    assert order(tri="chef") == ["Zzz de Zoé", "Aaa glissé", "Refonte du portail"]  # Abadie
    assert order(tri="nom") == ["Aaa glissé", "Refonte du portail", "Zzz de Zoé"]
    assert order(tri="nom", chef="zoe") == ["Zzz de Zoé"]
    page = client.get(URL, {"tri": "nom", "chef": "dora"}).content.decode()
    assert 'value="dora"' in page and 'value="nom" selected' in page
    assert "tri=nom" in page  # the CSV link keeps the order and the filters
    assert "Aucun compte" in client.get(URL, {"chef": "inconnu"}).content.decode()
