"""The import page (``core.add_projet``): upload → preview (nothing written) → confirm
(exactly the previewed file, kept server-side, then deleted)."""

from __future__ import annotations

import html
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import HistoriqueTache, Tache
from core.services import import_uploads
from tests.factories import UserFactory, grant
from tests.services.test_portfolio_import import EXCEL_CSV, HEADER, plain
from tests.web.conftest import client_for

URL = reverse("core:portfolio_import")
CONFIRM = reverse("core:portfolio_import_confirm")


@pytest.fixture(autouse=True)
def _kept_files(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def importer(world):
    return grant(UserFactory(username="dsi", is_staff=True), "core.add_projet")


def upload(client, text: str = EXCEL_CSV, name: str = "portefeuille.csv"):
    return client.post(URL, {"fichier": SimpleUploadedFile(name, text.encode("utf-8"))})


def text_of(response) -> str:
    return plain(html.unescape(response.content.decode()))


def kept(tmp_path) -> list:
    return list((tmp_path / "imports").iterdir())


def test_upload_preview_then_confirm(importer, world, tmp_path):
    client = client_for(importer, enforce_csrf_checks=False)
    assert client.get(URL).status_code == 200
    preview = upload(client)
    page = text_of(preview)
    assert preview.status_code == 200
    assert "Tâches : 4 créée(s), 0 modifiée(s)." in page
    assert "Ligne 2 : projet « Nouveau CRM » (crm) créé." in page
    assert Tache.objects.count() == 0 and len(kept(tmp_path)) == 1  # nothing written yet
    token = preview.context["token"]
    done = client.post(CONFIRM, {"token": token}, follow=True)
    assert Tache.objects.count() == 4 and kept(tmp_path) == []
    assert "Tâches : 4 créée(s), 0 modifiée(s)." in text_of(done)
    assert HistoriqueTache.objects.filter(auteur=importer, champ="CREATION").count() == 4
    again = client.post(CONFIRM, {"token": token}, follow=True)  # the file is gone
    assert "Cet aperçu n'est plus valable" in text_of(again)
    assert Tache.objects.count() == 4


def test_a_token_of_another_session_is_refused(importer, world, tmp_path):
    token = upload(client_for(importer)).context["token"]
    other = client_for(grant(UserFactory(), "core.add_projet"))
    response = other.post(CONFIRM, {"token": token}, follow=True)
    assert "Cet aperçu n'est plus valable" in text_of(response)
    assert Tache.objects.count() == 0 and len(kept(tmp_path)) == 1  # still the first one's


def test_a_bad_file_lists_its_lines_and_is_not_kept(importer, world, tmp_path):
    text = (
        f"{HEADER}\nportail;Refonte du portail;alice;;Qui;zoe;01/12/2026;A_FAIRE;\n"
        "portail;Refonte du portail;alice;;Date;bob;31/02/2026;A_FAIRE;\n"
    )
    page = text_of(upload(client_for(importer), text))
    assert "Fichier refusé : 2 erreurs, rien n'a été importé." in page
    assert "Ligne 2 : colonne « responsable » : aucun compte « zoe »." in page
    assert "Ligne 3 : colonne « date_echeance » : la date « 31/02/2026 » n'existe pas." in page
    assert 'id="confirm-import"' not in page
    assert kept(tmp_path) == []


def test_a_file_too_large_is_refused(importer, world, settings, monkeypatch):
    monkeypatch.setattr("core.forms.IMPORT_MAX_BYTES", 10)
    page = text_of(upload(client_for(importer)))
    assert "Le fichier est trop gros : 0 Mo au plus." in page
    assert Tache.objects.count() == 0


def test_the_xlsx_template_downloads_and_previews(importer, world):
    for username in ("sophie.lefevre", "camille.bernard", "lucas.roux"):
        UserFactory(username=username)
    client = client_for(importer)
    response = client.get(reverse("core:portfolio_import_template"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert next(sheet.iter_rows(values_only=True))[0] == "code_projet"
    preview = client.post(URL, {"fichier": SimpleUploadedFile("m.xlsx", response.content)})
    assert preview.context["result"].ok
    page = client.get(URL).content.decode()
    assert 'href="/static/core/modele_import_portefeuille.csv"' in page


def test_the_page_needs_the_permission_to_add_projects(world):
    assert client_for(world.bob).get(URL).status_code == 403
    assert client_for(world.bob).post(CONFIRM, {"token": "x"}).status_code == 403
    assert client_for(world.bob).get(reverse("core:portfolio_import_template")).status_code == 403


def test_stale_files_are_purged(importer, world, tmp_path):
    upload(client_for(importer))
    assert import_uploads.purge_stale(now=1e12) == 1 and kept(tmp_path) == []
