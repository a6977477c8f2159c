"""Background portfolio exports: a failure is FAILED and told, a database error is
retried, a worker killed mid-export is taken over by the next delivery, nothing is
stuck forever, and a late attempt never overwrites a newer one."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import OperationalError

from core.models import ExportPortefeuille, NotificationTache
from core.selectors.portfolio import PortfolioFilters
from core.services import portfolio_export, portfolio_export_jobs
from core.services.portfolio_export_jobs import (
    fail_stale_exports,
    filters_from_json,
    generate_export,
    request_export,
)
from core.tasks import generate_portfolio_export
from si_gouvernance.celery import app
from tests.factories import PORTFOLIO, ProjetFactory, UserFactory, grant

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
Status = ExportPortefeuille.Status
Type = NotificationTache.Type

pytestmark = pytest.mark.usefixtures("pinned")


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def export(world):
    owner = grant(UserFactory(username="dsi"), *PORTFOLIO)
    ProjetFactory(nom="Autre", chef_de_projet=world.bob)
    return request_export(owner=owner, fmt="csv", filters=PortfolioFilters())


def notifications(export: ExportPortefeuille) -> list[tuple[str, str]]:
    rows = NotificationTache.objects.filter(destinataire=export.owner, export=export)
    return list(rows.values_list("type_notification", "message"))


def fresh(export: ExportPortefeuille) -> ExportPortefeuille:
    return ExportPortefeuille.objects.get(pk=export.pk)


def test_an_export_is_written_once_however_often_its_message_comes(export):
    assert generate_export(export_id=export.pk) == {"status": Status.READY, "rows": 2}
    assert generate_export(export_id=export.pk) == {"status": Status.READY}

    stored = fresh(export)
    assert (stored.status, stored.attempts, stored.row_count) == (Status.READY, 1, 2)
    assert bytes(stored.content).startswith("\ufeffProjet;Code".encode())
    assert stored.size == len(bytes(stored.content))
    assert stored.expires_at == NOW + datetime.timedelta(days=7)
    assert [kind for kind, _ in notifications(export)] == [Type.EXPORT_PRET]


def test_a_failure_is_failed_in_french_and_its_owner_told(export, monkeypatch, caplog):
    def broken(out, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(portfolio_export, "write_csv", broken)

    assert generate_export(export_id=export.pk) == {"status": Status.FAILED}

    failed = fresh(export)
    assert failed.status == Status.FAILED and failed.content is None
    assert failed.error.startswith("L'export n'a pas pu être préparé.")
    assert "a bug" not in failed.error and "a bug" in caplog.text  # the log says why
    [(kind, message)] = notifications(export)
    assert kind == Type.EXPORT_ECHOUE
    assert message.endswith("Vous pouvez le demander de nouveau depuis le portefeuille.")


def failing_database(times: int):
    """A CSV writer whose first ``times`` calls lose the database connection."""
    real = portfolio_export.write_csv
    calls = []

    def flaky(out, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("the server closed the connection")
        return real(out, **kwargs)

    return flaky


@pytest.fixture
def as_a_worker(monkeypatch):
    """A failure becomes the task's state and its retries run (eager), as on a worker."""
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


def test_a_database_error_is_retried_by_the_task(export, monkeypatch, as_a_worker):
    monkeypatch.setattr(portfolio_export, "write_csv", failing_database(1))

    assert generate_portfolio_export.apply(args=[export.pk]).state == "SUCCESS"

    assert (fresh(export).status, fresh(export).attempts) == (Status.READY, 2)
    assert [kind for kind, _ in notifications(export)] == [Type.EXPORT_PRET]


def test_a_database_down_for_every_attempt_fails_the_export(export, monkeypatch, as_a_worker):
    monkeypatch.setattr(portfolio_export, "write_csv", failing_database(99))

    generate_portfolio_export.apply(args=[export.pk])

    assert (fresh(export).status, fresh(export).attempts) == (Status.FAILED, 3)
    assert [kind for kind, _ in notifications(export)] == [Type.EXPORT_ECHOUE]


def test_a_worker_killed_mid_export_is_taken_over_by_the_next_delivery(export):
    ExportPortefeuille.objects.filter(pk=export.pk).update(
        status=Status.RUNNING, attempts=1, started_at=NOW
    )  # what a worker killed while writing leaves

    assert generate_export(export_id=export.pk)["status"] == Status.READY
    assert fresh(export).attempts == 2


def test_an_export_whose_every_attempt_died_is_failed(export):
    ExportPortefeuille.objects.filter(pk=export.pk).update(
        status=Status.RUNNING, attempts=portfolio_export_jobs.MAX_ATTEMPTS, started_at=NOW
    )

    assert generate_export(export_id=export.pk) == {"status": Status.FAILED}
    assert fresh(export).error == (
        "L'export a été interrompu 3 fois (le processus qui l'écrivait s'est arrêté)."
    )
    assert [kind for kind, _ in notifications(export)] == [Type.EXPORT_ECHOUE]


def test_nothing_waits_or_runs_forever(export, world):
    running = request_export(owner=export.owner, fmt="xlsx", filters=PortfolioFilters())
    recent = request_export(owner=export.owner, fmt="xlsx", filters=PortfolioFilters())
    ExportPortefeuille.objects.filter(pk=export.pk).update(created_at=NOW - 2 * HOUR)
    ExportPortefeuille.objects.filter(pk=running.pk).update(
        status=Status.RUNNING, attempts=1, started_at=NOW - 2 * HOUR
    )

    assert fail_stale_exports(now=NOW) == 2

    assert fresh(export).status == fresh(running).status == Status.FAILED
    assert fresh(export).error.startswith("L'export n'a pas été préparé à temps")
    assert fresh(recent).status == Status.PENDING
    assert [kind for kind, _ in notifications(running)] == [Type.EXPORT_ECHOUE]
    assert fail_stale_exports(now=NOW) == 0  # told once


def test_a_late_attempt_never_overwrites_a_newer_one(export, monkeypatch):
    """Two deliveries at once (a message duplicated): the later claim wins, the
    earlier one's file is dropped, the owner is told once."""
    real = portfolio_export.write_csv
    nested: list[dict] = []
    started = []

    def overtaken(out, **kwargs):
        if not started:
            started.append(1)
            nested.append(generate_export(export_id=export.pk))  # the second delivery
        return real(out, **kwargs)

    monkeypatch.setattr(portfolio_export, "write_csv", overtaken)

    assert generate_export(export_id=export.pk) == {"status": "SUPERSEDED", "rows": 2}
    assert nested == [{"status": Status.READY, "rows": 2}]
    assert fresh(export).attempts == 2
    assert len(notifications(export)) == 1


def test_the_filters_recorded_with_an_export_survive_a_code_change():
    recorded = {"lead_id": 4, "statut": "EN_COURS", "sort": "nom", "a_removed_filter": 1}
    assert filters_from_json(recorded) == PortfolioFilters(lead_id=4, statut="EN_COURS", sort="nom")


HOUR = datetime.timedelta(hours=1)
