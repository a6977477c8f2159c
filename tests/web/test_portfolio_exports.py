"""The portfolio's exports: the XLSX beside the CSV (same columns, typed cells, never a
formula), written in the request up to a size; above it, prepared by the Celery task,
notified, downloaded by its owner only from "My exports", deleted when expired."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core import mail
from django.urls import reverse
from openpyxl import load_workbook

from core.models import ExportPortefeuille, NotificationTache
from core.selectors import portfolio
from core.services import cleanup, portfolio_export
from core.services.alert_emails import queue_alert_emails, queue_event_emails
from tests.conftest import TODAY
from tests.factories import PORTFOLIO, ProjetFactory, TacheFactory, UserFactory, grant
from tests.web.conftest import NOW, client_for
from tests.web.test_portfolio import add_projects, queries

pytestmark = pytest.mark.usefixtures("frozen")

DAY = datetime.timedelta(days=1)
CSV_URL = reverse("core:portfolio_csv")
XLSX_URL = reverse("core:portfolio_xlsx")
START_URL = reverse("core:portfolio_export_start")
LIST_URL = reverse("core:portfolio_exports")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def admin(db):
    return grant(UserFactory(username="admin", first_name="Admin", last_name="DSI"), *PORTFOLIO)


@pytest.fixture
def other_reader(db):
    return grant(UserFactory(username="dsi2"), *PORTFOLIO)


@pytest.fixture
def small_limit(settings):
    """Two projects at most in the request: the world's project and one more."""
    settings.PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS = 2
    return settings


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8").lstrip("\ufeff")), delimiter=";"))


def sheet_rows(content: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Portefeuille"]
    return [list(row) for row in book["Portefeuille"].iter_rows(values_only=True)]


def test_the_xlsx_has_the_csv_columns_and_rows_with_numbers_as_numbers(world, admin):
    TacheFactory(projet=world.projet, date_echeance=TODAY - DAY)
    TacheFactory(projet=world.projet, date_echeance=TODAY)
    ProjetFactory(nom="Autre", code="autre", chef_de_projet=UserFactory())
    client = client_for(admin)

    response = client.get(XLSX_URL, {"chef": "alice"})

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="portefeuille-2026-11-25.xlsx"'
    rows = sheet_rows(body(response))
    expected = csv_rows(body(client.get(CSV_URL, {"chef": "alice"})))
    assert rows[0] == expected[0]  # the same header, in French
    assert rows[0][:5] == ["Projet", "Code", "Chef de projet", "Statut", "Tâches ouvertes"]
    assert len(rows[0]) == 8 + portfolio.TREND_WEEKS
    assert rows[1][:8] == ["Refonte du portail", "portail", "Alice Martin", "En cours", 2, 1, 1, 0]
    assert all(isinstance(value, int) for value in rows[1][4:])
    assert [[str(value) for value in row] for row in rows] == expected
    assert len(rows) == 2  # the filter holds


def test_the_xlsx_keeps_formula_looking_text_as_text(world, admin):
    tricky = ["=Formule", ' =HYPERLINK("http://evil.example";"x")', "@SUM(A1)", "-2+3"]
    for i, nom in enumerate(tricky):
        ProjetFactory(nom=nom, code=f"c{i}", chef_de_projet=world.alice)

    book = load_workbook(io.BytesIO(body(client_for(admin).get(XLSX_URL, {"tri": "nom"}))))

    cells = {cell.value: cell for cell in book["Portefeuille"]["A"][1:]}
    for nom in tricky:
        assert cells[nom].data_type == "s"  # text as it was typed, no apostrophe shown
        assert cells[nom].quotePrefix  # and still text once edited in the spreadsheet
    assert not cells["Refonte du portail"].quotePrefix


def test_a_date_column_is_a_date_cell_shown_the_french_way(world, admin, monkeypatch):
    """No column holds a date today; one that does (a project's end, say) needs no
    more than its value in ``cells``."""
    real = portfolio_export.cells
    monkeypatch.setattr(portfolio_export, "cells", lambda row: [*real(row), TODAY])

    book = load_workbook(io.BytesIO(body(client_for(admin).get(XLSX_URL))))

    cell = next(book["Portefeuille"].iter_rows(min_row=2))[-1]
    assert cell.is_date and cell.value.date() == TODAY
    assert cell.number_format == "DD/MM/YYYY"


def test_xlsx_export_costs_the_same_queries_at_5_and_35_projects(world, admin, monkeypatch):
    """The stored figures and trend points are read in one streamed query,
    whatever the number of chunks (once they are of today: the first read of a
    day counts the missing ones)."""
    monkeypatch.setattr(portfolio, "CSV_CHUNK", 10)
    client = client_for(admin)
    add_projects(4, lead=world.alice)  # with the world's project: one chunk
    queries(client, XLSX_URL)  # the new projects' figures counted
    one_chunk = queries(client, XLSX_URL)
    add_projects(30, lead=world.alice)  # 35 projects: four chunks
    queries(client, XLSX_URL)

    assert queries(client, XLSX_URL) == one_chunk
    assert len(sheet_rows(body(client.get(XLSX_URL)))) == 1 + 35


def test_the_csv_counts_its_projects_first_and_stays_flat(world, admin):
    client = client_for(admin)
    add_projects(3, lead=world.alice)
    queries(client, CSV_URL)  # the first read of the day counts the new projects' figures
    small = queries(client, CSV_URL)
    add_projects(30, lead=world.alice)
    queries(client, CSV_URL)
    assert queries(client, CSV_URL) == small


def test_a_large_export_is_offered_in_the_background_never_on_a_get(world, admin, small_limit):
    add_projects(2, lead=world.alice)  # three projects: above the limit
    client = client_for(admin)

    for url in (CSV_URL, XLSX_URL):
        response = client.get(url, {"statut": "EN_COURS"})
        assert response.status_code == 202
        page = response.content.decode()
        assert "Ces filtres retiennent 3 projets" in page
        assert f'action="{START_URL}"' in page and 'name="statut" value="EN_COURS"' in page
    assert not ExportPortefeuille.objects.exists()
    portfolio_page = client.get(reverse("core:portfolio")).content.decode()
    assert "Préparer l'export (CSV)" in portfolio_page.replace("&#x27;", "'")
    assert f'href="{LIST_URL}"' in portfolio_page


def start(client, django_capture_on_commit_callbacks, **data):
    """Ask for an export; the task runs (eager) once the request's transaction commits."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(START_URL, data)
    assert response.status_code == 302 and response["Location"] == LIST_URL
    return client.get(LIST_URL)


def test_a_background_export_is_written_notified_and_downloaded_by_its_owner(
    world, admin, other_reader, small_limit, django_capture_on_commit_callbacks
):
    add_projects(2, lead=world.alice)
    ProjetFactory(nom="=Formule", chef_de_projet=world.alice)
    client = client_for(admin)

    response = start(client, django_capture_on_commit_callbacks, format="csv", chef="alice")

    assert "Votre export est en préparation" in str(next(iter(response.context["messages"])))
    export = ExportPortefeuille.objects.get()
    assert (export.owner, export.status, export.row_count) == (admin, "READY", 4)
    assert export.filters["lead_id"] == world.alice.pk
    download = reverse("core:portfolio_export_download", args=[export.pk])
    assert f'href="{download}"' in response.content.decode()

    notification = NotificationTache.objects.get(destinataire=admin)
    assert notification.type_notification == NotificationTache.Type.EXPORT_PRET
    assert notification.export == export and "4 projets" in notification.message
    centre = client.get(reverse("core:notification_list")).content.decode()
    assert "Votre export du portefeuille est prêt" in centre and "Voir mes exports" in centre
    opened = client.get(reverse("core:notification_open", args=[notification.pk]))
    assert opened["Location"] == f"{LIST_URL}#export-{export.pk}"

    file = client.get(download)
    assert file.status_code == 200
    assert file["Content-Disposition"] == 'attachment; filename="portefeuille-2026-11-25.csv"'
    small_limit.PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS = 1000
    assert file.content == body(client.get(CSV_URL, {"chef": "alice"}))  # byte for byte
    assert "'=Formule" in file.content.decode()

    assert client_for(other_reader).get(download).status_code == 404
    assert client_for(world.alice).get(download).status_code == 403  # no portfolio permission
    assert "data-status" not in client_for(other_reader).get(LIST_URL).content.decode()


def test_a_background_xlsx_opens_with_its_rows(
    world, admin, small_limit, django_capture_on_commit_callbacks
):
    add_projects(2, lead=world.alice)
    client = client_for(admin)
    start(client, django_capture_on_commit_callbacks, format="xlsx")
    export = ExportPortefeuille.objects.get()

    file = client.get(reverse("core:portfolio_export_download", args=[export.pk]))

    assert file["Content-Type"] == XLSX_TYPE
    assert "portefeuille-2026-11-25.xlsx" in file["Content-Disposition"]
    rows = sheet_rows(file.content)
    assert len(rows) == 1 + 3 and {row[1] for row in rows[1:]} >= {"portail"}
    assert all(isinstance(value, int) for row in rows[1:] for value in row[4:])


def test_starting_an_export_is_a_post_with_csrf_by_a_portfolio_reader(world, admin):
    assert client_for(admin).get(START_URL).status_code == 405
    guarded = client_for(admin, enforce_csrf_checks=True)
    assert guarded.post(START_URL, {"format": "csv"}).status_code == 403
    assert client_for(world.alice).post(START_URL, {"format": "csv"}).status_code == 403
    anonymous = client_for(admin)
    anonymous.logout()
    assert anonymous.post(START_URL, {"format": "csv"})["Location"].startswith("/comptes/login/")
    assert anonymous.get(LIST_URL)["Location"].startswith("/comptes/login/")
    assert client_for(admin).post(START_URL, {"format": "pdf"}).status_code == 400
    assert not ExportPortefeuille.objects.exists()


def test_one_person_has_at_most_three_exports_in_preparation(world, admin):
    client = client_for(admin)
    for _ in range(3):
        client.post(START_URL, {"format": "csv"})  # queued after commit: never run here
    response = client.post(START_URL, {"format": "xlsx"}, follow=True)

    assert ExportPortefeuille.objects.filter(status="PENDING").count() == 3
    *_, refused = response.context["messages"]
    assert str(refused).startswith("Vous avez déjà 3 exports en préparation")
    page = response.content.decode()
    assert page.count('data-status="PENDING"') == 3 and "En attente" in page


def test_export_notifications_are_never_emailed(
    world, admin, small_limit, django_capture_on_commit_callbacks
):
    add_projects(2, lead=world.alice)
    start(client_for(admin), django_capture_on_commit_callbacks, format="csv")
    mail.outbox.clear()

    assert queue_event_emails(now=NOW) == {"queued": 0}
    assert queue_alert_emails(today=TODAY) == 0
    assert NotificationTache.objects.get().outbound_email is None
    assert mail.outbox == []


def test_an_expired_export_is_no_longer_served_and_the_cleanup_deletes_it(
    world, admin, small_limit, django_capture_on_commit_callbacks, time_machine
):
    add_projects(2, lead=world.alice)
    client = client_for(admin)
    start(client, django_capture_on_commit_callbacks, format="csv")
    kept = ExportPortefeuille.objects.get()
    download = reverse("core:portfolio_export_download", args=[kept.pk])
    time_machine.move_to(NOW + 8 * DAY, tick=False)  # retention: 7 days
    start(client, django_capture_on_commit_callbacks, format="xlsx")

    assert client.get(download).status_code == 404
    assert "expiré" in client.get(LIST_URL).content.decode()
    result = cleanup.cleanup_old_notifications(days=30)

    assert result["deleted_exports"] == 1
    assert list(ExportPortefeuille.objects.values_list("format", flat=True)) == ["xlsx"]
    assert NotificationTache.objects.filter(export_id=kept.pk).count() == 0
    assert NotificationTache.objects.count() == 1  # the new export's


def test_my_exports_is_paged(world, admin):
    for _ in range(25):
        ExportPortefeuille.objects.create(
            owner=admin, format="csv", business_date=TODAY, expires_at=NOW + DAY, status="FAILED"
        )
    client = client_for(admin)
    first = client.get(LIST_URL).content.decode()
    assert first.count('data-status="FAILED"') == 20 and "Page 1 sur 2" in first
    assert client.get(LIST_URL, {"page": 2}).content.decode().count('data-status="FAILED"') == 5


def test_the_admin_lists_an_export_notification_without_loading_its_file(
    world, admin, small_limit, django_capture_on_commit_callbacks
):
    add_projects(2, lead=world.alice)
    start(client_for(admin), django_capture_on_commit_callbacks, format="csv")
    export = ExportPortefeuille.objects.get()
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)

    page = client_for(superuser).get(reverse("admin:core_notificationtache_changelist"))

    assert page.status_code == 200
    assert f"export du portefeuille n° {export.pk}" in page.content.decode()
