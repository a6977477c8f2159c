"""The portfolio's trend, "Tâches en retard sur les 8 dernières semaines": the tasks
late at the end of each week as their history tells it (status and due date of the
time), on a history spanning eight weeks written through the services, with the
counts a reader works out by hand; the same on the page, in the CSV and in a fixed
number of queries."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import Projet, Tache, TendanceProjet, User
from core.selectors import portfolio
from core.services import portfolio_figures, task_updates
from tests.conftest import TODAY
from tests.factories import PORTFOLIO, ProjetFactory, TacheFactory, UserFactory, grant
from tests.web.conftest import client_for

PARIS = ZoneInfo("Europe/Paris")
S = Tache.Statut
# TODAY is Wednesday 25 November 2026: the trend is measured at the end of
# 7, 14, 21, 28 October, 4, 11, 18 and 25 November.
WEEK_ENDS = [datetime.date(2026, 10, 7) + datetime.timedelta(weeks=n) for n in range(8)]


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=PARIS)


@dataclass
class History:
    lead: User
    p1: Projet
    p2: Projet
    # Expected late tasks at each week end, oldest first: worked out by hand below.
    p1_trend = [2, 2, 3, 1, 1, 2, 2, 3]
    p2_trend = [1, 0, 0, 1, 1, 2, 2, 2]
    total_trend = [3, 2, 3, 2, 2, 4, 4, 5]


class Writer:
    """The lead's and the owner's changes, each at its moment."""

    def __init__(self, lead: User) -> None:
        self.lead = lead

    def create(self, when: datetime.datetime, projet: Projet, nom: str, due) -> Tache:
        with time_machine.travel(when, tick=False):
            tache = Tache(projet=projet, nom=nom, responsable=self.lead, date_echeance=due)
            return task_updates.create_task(tache=tache, author=self.lead, today=when.date())

    def status(self, when: datetime.datetime, tache: Tache, statut: str) -> None:
        with time_machine.travel(when, tick=False):
            task_updates.update_progress(
                tache_id=tache.pk,
                author=self.lead,
                statut=statut,
                avancement=50,
                comment="Bloquée" if statut == S.BLOQUEE else "",
                today=when.date(),
            )

    def edit(self, when: datetime.datetime, tache: Tache, **fields) -> None:
        with time_machine.travel(when, tick=False):
            tache.refresh_from_db()
            for name, value in fields.items():
                setattr(tache, name, value)
            task_updates.save_task(tache=tache, author=self.lead, today=when.date(), reason="Motif")


@pytest.fixture
def history(db) -> Iterator[History]:
    lead = UserFactory(username="lead")
    p1 = ProjetFactory(nom="Projet 1", code="p1", chef_de_projet=lead)
    p2 = ProjetFactory(nom="Projet 2", code="p2", chef_de_projet=lead)
    w = Writer(lead)
    created = at(9, 30)
    # A: due 10 October, never done: late from the end of 14 October.     0 1 1 1 1 1 1 1
    w.create(created, p1, "A", datetime.date(2026, 10, 10))
    # B: due 1 October, done at 00:30 on 22 October (Paris): still open at the end
    # of the 21st (a UTC day would say otherwise).                          1 1 1 0 0 0 0 0
    b = w.create(created, p1, "B", datetime.date(2026, 10, 1))
    w.status(at(10, 22, 0, 30), b, S.TERMINEE)
    # C: due 15 October, done 25 October, re-opened 8 November.             0 0 1 0 0 1 1 1
    c = w.create(created, p1, "C", datetime.date(2026, 10, 15))
    w.status(at(10, 25), c, S.TERMINEE)
    w.status(at(11, 8), c, S.EN_COURS)
    # D: due 5 October, pushed back on 12 October to 20 November.           1 0 0 0 0 0 0 1
    d = w.create(created, p1, "D", datetime.date(2026, 10, 5))
    w.edit(at(10, 12), d, date_echeance=datetime.date(2026, 11, 20))
    # E: created on 10 November, already past due (1 November).             0 0 0 0 0 1 1 1
    w.create(at(11, 10), p2, "E", datetime.date(2026, 11, 1))
    # F: due 1 October, cancelled by the lead on 9 October.                 1 0 0 0 0 0 0 0
    f = w.create(created, p2, "F", datetime.date(2026, 10, 1))
    w.edit(at(10, 9), f, statut=S.ANNULEE)
    # G: no due date until 2 November, then 20 October: blocked on the 3rd
    # (still open).                                                         0 0 0 0 1 1 1 1
    g = w.create(created, p2, "G", None)
    w.edit(at(11, 2), g, date_echeance=datetime.date(2026, 10, 20))
    w.status(at(11, 3), g, S.BLOQUEE)
    # I: a task from before the history (no row at all), done on 3 November,
    # due 25 October: late at the end of 28 October only.                   0 0 0 1 0 0 0 0
    i = TacheFactory(
        projet=p2,
        nom="I",
        statut=S.TERMINEE,
        date_echeance=datetime.date(2026, 10, 25),
        date_fin_reelle=datetime.date(2026, 11, 3),
    )
    Tache.objects.filter(pk=i.pk).update(date_creation=at(9, 1))
    # H: paused (not open) since 1 October, due 2 October: never late.      0 0 0 0 0 0 0 0
    h = w.create(created, p2, "H", datetime.date(2026, 10, 2))
    w.edit(at(10, 1), h, statut=S.EN_PAUSE)
    with time_machine.travel(at(11, 25), tick=False):
        yield History(lead=lead, p1=p1, p2=p2)


def stored_trends(*, today: datetime.date = TODAY) -> dict[str, list[int]]:
    everything = portfolio.PortfolioFilters()
    projets = list(portfolio.portfolio_projects(today=today, filters=everything))
    return {row.projet.code: row.trend for row in portfolio.portfolio_rows(projets, today=today)}


def test_the_trend_follows_the_history_week_by_week(history):
    assert portfolio.trend_days(today=TODAY) == WEEK_ENDS

    trends = portfolio.history_trends([history.p1.pk, history.p2.pk], today=TODAY)
    run = portfolio_figures.morning_refresh(today=TODAY)
    totals = portfolio.portfolio_totals(today=TODAY, filters=portfolio.PortfolioFilters())

    assert trends == {history.p1.pk: history.p1_trend, history.p2.pk: history.p2_trend}
    # The first morning run writes the seven past weeks from the history: the
    # stored trend is the history's, on the page's rows and in the totals.
    assert run.trend_days == 7
    assert stored_trends() == {"p1": history.p1_trend, "p2": history.p2_trend}
    assert totals.trend == history.total_trend
    # This week's measure is today's late count.
    assert totals.trend[-1] == totals.late_count == 5


def test_a_morning_a_week_later_adds_one_day_and_forgets_the_oldest(history):
    """The points are daily (the trend ends today, the same weekday before): the
    first week's mornings write seven days each, then each morning the one a week
    back, written once and never changed."""
    portfolio_figures.morning_refresh(today=TODAY)
    week_later = TODAY + datetime.timedelta(weeks=1)
    with time_machine.travel(at(12, 2, 6), tick=False):
        c = Tache.objects.get(nom="C")
        Writer(history.lead).status(at(12, 2, 6), c, S.TERMINEE)
        run = portfolio_figures.morning_refresh(today=week_later)
        expected = portfolio.history_trends([history.p1.pk, history.p2.pk], today=week_later)

        assert run.trend_days == 1  # 25 November; the other six were written a week ago
        assert stored_trends(today=week_later) == {
            "p1": expected[history.p1.pk],
            "p2": expected[history.p2.pk],
        }
        assert stored_trends(today=week_later)["p1"][-2:] == [3, 2]  # C done this morning
        assert portfolio_figures.morning_refresh(today=week_later).trend_days == 0  # rerun
    days = set(TendanceProjet.objects.values_list("jour", flat=True))
    assert min(days) == WEEK_ENDS[1]  # 7 October forgotten


def test_the_page_and_the_csv_show_the_same_trend(history):
    dsi = grant(UserFactory(username="dsi"), *PORTFOLIO)
    client = client_for(dsi)

    page = client.get(reverse("core:portfolio"))
    export = b"".join(client.get(reverse("core:portfolio_csv")).streaming_content).decode()

    rows = {row.projet.code: row.trend for row in page.context["rows"]}
    assert rows == {"p1": history.p1_trend, "p2": history.p2_trend}
    content = page.content.decode()
    # The chart's text alternative: every week with its count.
    for day, count in zip(WEEK_ENDS, history.total_trend, strict=True):
        assert f'<th scope="row">{day:%d/%m/%Y}</th><td>{count}</td>' in content
    lines = list(csv.reader(io.StringIO(export.lstrip("\ufeff")), delimiter=";"))
    assert lines[0][-8:] == [f"En retard au {day:%d/%m/%Y}" for day in WEEK_ENDS]
    by_code = {line[1]: [int(n) for n in line[-8:]] for line in lines[1:]}
    assert by_code == {"p1": history.p1_trend, "p2": history.p2_trend}


def test_the_trend_takes_a_fixed_number_of_queries_whatever_the_tasks_and_their_history(
    history,
):
    def count(fn) -> tuple[int, int]:
        """Queries in all (on PostgreSQL, a transaction turns the JIT off), and
        those reading the tasks."""
        with CaptureQueriesContext(connection) as captured:
            fn()
        reads = [q for q in captured.captured_queries if '"core_tache"' in q["sql"]]
        return len(captured), len(reads)

    projets = [history.p1.pk, history.p2.pk]
    everything = portfolio.PortfolioFilters()

    def measure() -> tuple[tuple[int, int], ...]:
        return (
            count(lambda: portfolio.history_trends(projets, today=TODAY)),
            count(lambda: stored_trends()),
            count(lambda: portfolio.portfolio_totals(today=TODAY, filters=everything)),
        )

    portfolio_figures.morning_refresh(today=TODAY)
    before = measure()
    w = Writer(history.lead)
    for n in range(20):
        tache = w.create(at(10, 1), history.p1, f"X{n}", datetime.date(2026, 10, 3))
        w.status(at(10, 20), tache, S.TERMINEE)
        w.status(at(11, 2), tache, S.EN_COURS)
    # Written in the past for the test: the points of those days are written again.
    TendanceProjet.objects.all().delete()
    portfolio_figures.morning_refresh(today=TODAY)
    after = measure()

    assert after == before
    # The history once; the stored figures never read the tasks.
    assert after == ((1, 1), (1, 0), (2, 0))
    # Late at the end of 7 and 14 October, done on the 20th, open again since 2 November.
    added = [20, 20, 0, 0, 20, 20, 20, 20]
    expected = [a + b for a, b in zip(history.p1_trend, added, strict=True)]
    assert portfolio.history_trends(projets, today=TODAY)[history.p1.pk] == expected
    assert stored_trends()["p1"] == expected
