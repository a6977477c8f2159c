"""``manage.py seed_demo``: a newcomer's first look at the application."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from core.models import MembreProjet, NotificationTache, Projet, Tache, User
from core.models.notifications import MILESTONE_TYPES
from tests.conftest import TODAY

NOON_PARIS = datetime.datetime(2026, 11, 25, 11, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _pinned_day():
    with time_machine.travel(NOON_PARIS, tick=False):
        yield


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple]:
    return list(
        Tache.objects.order_by("id").values_list(
            "projet__code", "nom", "responsable__username", "statut", "priorite", "date_echeance"
        )
    )


@pytest.mark.django_db
def test_fills_an_empty_database_with_a_realistic_organisation(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-Pa55word")

    seed("--seed", "7")

    assert User.objects.count() == 15
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("demo-Pa55word")
    assert User.objects.get(username="lucas.roux").check_password("demo-Pa55word")
    assert Projet.objects.filter(statut=Projet.Statut.TERMINE).exists()
    assert Projet.objects.filter(statut=Projet.Statut.SUSPENDU).exists()
    assert Projet.objects.values("chef_de_projet").distinct().count() == 4
    assert Tache.objects.count() == 100
    assert Tache.objects.filter(responsable__isnull=True).exists()
    assert Tache.objects.filter(etape__isnull=False).count() >= 90
    assert len(set(Tache.objects.values_list("statut", flat=True))) == 6
    dues = Tache.objects.exclude(projet__statut=Projet.Statut.TERMINE).values_list(
        "date_echeance", flat=True
    )
    assert TODAY - datetime.timedelta(days=20) <= min(dues) <= TODAY - datetime.timedelta(days=10)
    assert TODAY + datetime.timedelta(days=20) <= max(dues) <= TODAY + datetime.timedelta(days=30)
    leaver = MembreProjet.objects.get(date_fin__lt=TODAY)
    assert (
        Tache.objects.open().filter(projet=leaver.projet, responsable=leaver.utilisateur).exists()
    )


@pytest.mark.django_db
def test_second_run_changes_nothing(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-Pa55word")
    seed()
    before = snapshot()

    seed()

    assert snapshot() == before
    assert User.objects.count() == 15


@pytest.mark.django_db
def test_does_nothing_when_a_user_already_exists(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-Pa55word")
    User.objects.create_user("realuser", password="x")

    seed()

    assert (User.objects.count(), Tache.objects.count()) == (1, 0)


@pytest.mark.django_db
def test_same_seed_same_data(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-Pa55word")
    seed("--seed", "42", "--tasks", "60")
    first = snapshot()
    Projet.objects.all().delete()
    User.objects.all().delete()

    seed("--seed", "42", "--tasks", "60")

    assert snapshot() == first
    assert len(first) == 60


@pytest.mark.django_db
def test_generated_password_is_printed_once_and_kept_out_of_the_repo(
    monkeypatch, settings, tmp_path: Path
) -> None:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path

    output = seed()

    password = (tmp_path / "demo_password.txt").read_text().strip()
    assert len(password) >= 12 and password in output
    assert User.objects.get(username="admin").check_password(password)
    assert (tmp_path / "demo_password.txt").stat().st_mode & 0o077 == 0


@pytest.mark.django_db
def test_too_few_tasks_is_an_error(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-Pa55word")
    with pytest.raises(CommandError):
        seed("--tasks", "2")
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_check_on_demo_data_creates_every_alert_type_once(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "demo-Pa55word")
    seed("--seed", "3")

    call_command("check_task_deadlines", stdout=io.StringIO())
    created = NotificationTache.objects.count()
    call_command("check_task_deadlines", stdout=io.StringIO())

    assert NotificationTache.objects.count() == created
    types = set(NotificationTache.objects.values_list("type_notification", flat=True))
    # The task alerts, and the demo's phases and projects ending soon or past.
    assert {"ALERTE_ECHEANCE", "ALERTE_CRITIQUE", "ALERTE_RETARD"} <= types
    assert types <= {"ALERTE_ECHEANCE", "ALERTE_CRITIQUE", "ALERTE_RETARD", *MILESTONE_TYPES}
    # The leaver owns an open task due soon: never alerted on that project.
    leaver = MembreProjet.objects.get(date_fin__lt=TODAY)
    assert not NotificationTache.objects.filter(
        destinataire=leaver.utilisateur, tache__projet=leaver.projet
    ).exists()


@pytest.mark.django_db
def test_demo_data_is_coherent(monkeypatch) -> None:
    from core.models import HistoriqueTache

    monkeypatch.setenv("DEMO_PASSWORD", "demo-Pa55word")
    seed("--seed", "3")

    for tache in Tache.objects.select_related("etape", "projet"):
        assert tache.etape is not None
        assert tache.schedule_warnings() == [], tache.nom
    finished = Tache.objects.filter(projet__statut=Projet.Statut.TERMINE)
    assert finished.exists()
    assert set(finished.values_list("statut", flat=True)) <= {"TERMINEE", "ANNULEE"}
    assert HistoriqueTache.objects.filter(HistoriqueTache.SLIP).exists()
    assert HistoriqueTache.objects.filter(champ="CREATION").count() == Tache.objects.count()
    blocked = Tache.objects.filter(statut="BLOQUEE")
    assert all(t.historique.exclude(motif="").exists() for t in blocked)


@pytest.mark.django_db
def test_the_demo_portfolio_shows_a_trend_over_weeks(monkeypatch) -> None:
    """Issue 20: the demo's trend read 0·0·0·0·0·0·0·23 (counted from the rows'
    creation, the moment of seeding). Its history now goes back weeks: tasks were
    late before today, and every closed task says when it was closed."""
    from django.utils import timezone

    from core.models import HistoriqueTache
    from core.selectors import portfolio

    monkeypatch.setenv("DEMO_PASSWORD", "demo-Pa55word")
    seed("--seed", "3")

    today = timezone.localdate()
    trend = portfolio.portfolio_totals(today=today, filters=portfolio.PortfolioFilters()).trend
    assert sum(trend[:-1]) > 0, trend
    closed = Tache.objects.filter(statut__in=["TERMINEE", "ANNULEE", "EN_PAUSE"])
    stated = HistoriqueTache.objects.filter(champ="STATUT", tache__in=closed)
    assert stated.values("tache").distinct().count() == closed.count()
    assert not Tache.objects.filter(date_creation__date=today).exists()
