"""In a real browser: the DSI uploads a spreadsheet, reads the preview (nothing
written yet, no WCAG AA violation), confirms, and the tasks are there."""

from __future__ import annotations

import pytest

from core.models import Projet, Tache
from tests.factories import MembreProjetFactory, ProjetFactory, UserFactory, grant
from tests.services.test_portfolio_import import EXCEL_CSV
from tests.web.test_accessibility import axe_violations
from tests.web.test_browser import browser_page, no_broker, shoot, sign_in  # noqa: F401
from tests.web.web_tools import package_file

pytestmark = pytest.mark.browser


@pytest.fixture
def accounts(transactional_db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    alice = UserFactory(username="alice", first_name="Alice", last_name="Martin")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Durand")
    UserFactory(username="charlie", email="charlie@dsi.example.org")
    projet = ProjetFactory(nom="Refonte du portail", code="portail", chef_de_projet=alice)
    MembreProjetFactory(projet=projet, utilisateur=bob)
    grant(UserFactory(username="admin", is_staff=True), "core.add_projet", "core.view_portfolio")
    path = tmp_path / "portefeuille.csv"
    path.write_bytes(EXCEL_CSV.encode("utf-8"))
    return path


def test_upload_preview_and_confirm_an_import(
    live_server,
    accounts,
    browser_page,  # noqa: F811
    no_broker,  # noqa: F811
):
    page, base = browser_page, live_server.url
    sign_in(page, base, "admin")
    page.goto(f"{base}/portefeuille/")
    page.click("#portfolio-import")
    page.set_input_files("#id_fichier", str(accounts))
    page.click("#preview-import")
    page.wait_for_selector("#import-preview")
    counts = page.inner_text("#import-counts")
    assert "Tâches\u00a0: 4 créée(s), 0 modifiée(s)." in counts
    assert "projet «\u00a0Nouveau CRM\u00a0» (crm) créé" in page.inner_text("#import-changes")
    assert Tache.objects.count() == 0
    shoot(page, "portfolio_import_preview")
    assert axe_violations(page, package_file("axe-core").read_text(encoding="utf-8")) == []
    page.click("#confirm-import")
    page.wait_for_selector(".messages .success")
    assert "Tâches\u00a0: 4 créée(s)" in page.inner_text(".messages")
    assert Projet.objects.get(code="crm").taches.count() == 4
    assert list((accounts.parent / "imports").iterdir()) == []  # the kept file is gone
