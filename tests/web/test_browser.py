"""In a real browser (headless Chromium): sign in, badge, notification centre, task.

Screenshots of the main pages go to test-artifacts/screenshots/ for a human eye.
"""

from __future__ import annotations

import datetime
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from core.models import NotificationTache
from tests.factories import (
    PORTFOLIO,
    SUPERVISION,
    EtapeFactory,
    MembreProjetFactory,
    NotificationFactory,
    ProjetFactory,
    TacheFactory,
    UserFactory,
    grant,
)

# Playwright's sync API runs an event loop in this thread; the ORM calls made by
# the test itself (fixtures, assertions) are still plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "motdepasse-test"
DAY = datetime.timedelta(days=1)


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = "Chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: required in CI")
        pytest.skip(message)
    return path


@pytest.fixture
def browser_page() -> Iterator:
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        page.set_default_timeout(15_000)
        # Every page a test visits must live within the Content-Security-Policy:
        # Chromium reports each refused script, style or source on the console.
        violations: list[str] = []
        page.add_init_script(REPORT_CSP_VIOLATIONS)
        page.on("console", lambda message: _keep_csp_violation(message.text, violations))
        yield page
        browser.close()
    assert violations == [], f"Content-Security-Policy violations: {violations}"


REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy violation: ${event.violatedDirective} ` +
                `${event.blockedURI} at ${event.documentURI}`);
});
"""


def _keep_csp_violation(text: str, violations: list[str]) -> None:
    if "Content Security Policy" in text:
        violations.append(text)


@pytest.fixture
def no_broker() -> Iterator[None]:
    from si_gouvernance.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    yield
    app.conf.broker_url = saved


@pytest.fixture
def demo(transactional_db):
    today = timezone.localdate()
    alice = UserFactory(username="alice", first_name="Alice", last_name="Martin")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Durand")
    projet = ProjetFactory(
        nom="Refonte du portail", code="portail", chef_de_projet=alice, date_debut=today - 60 * DAY
    )
    MembreProjetFactory(projet=projet, utilisateur=bob)
    cadrage = EtapeFactory(projet=projet, nom="Cadrage", ordre=1)
    realisation = EtapeFactory(projet=projet, nom="Réalisation", ordre=2)
    late = TacheFactory(
        projet=projet,
        etape=cadrage,
        nom="Migrer l'annuaire LDAP",
        responsable=bob,
        date_echeance=today - 2 * DAY,
    )
    due_today = TacheFactory(
        projet=projet,
        etape=realisation,
        nom="Recetter le SSO",
        responsable=bob,
        date_echeance=today,
    )
    soon = TacheFactory(
        projet=projet,
        etape=realisation,
        nom="Rédiger le guide utilisateur",
        responsable=bob,
        date_echeance=today + 2 * DAY,
    )
    TacheFactory(projet=projet, nom="Choisir l'hébergeur", responsable=alice, date_echeance=None)
    Type = NotificationTache.Type
    for tache, kind, titre in [
        (soon, Type.ALERTE_ECHEANCE, "Échéance dans 2 jours : Rédiger le guide utilisateur"),
        (due_today, Type.ALERTE_CRITIQUE, "Échéance aujourd'hui : Recetter le SSO"),
        (late, Type.ALERTE_RETARD, "Tâche en retard : Migrer l'annuaire LDAP"),
    ]:
        NotificationFactory(
            destinataire=bob,
            tache=tache,
            type_notification=kind,
            titre=titre,
            message=f"La tâche « {tache.nom} » du projet Refonte du portail "
            f"est due le {tache.date_echeance:%d/%m/%Y}.",
        )
    admin = UserFactory(username="admin", first_name="Admin", last_name="DSI", is_staff=True)
    grant(admin, *PORTFOLIO, *SUPERVISION)  # the two groups a DSI hands out
    return {"projet": projet, "late": late}


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/comptes/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#notif-badge")


def badge(page) -> str:
    return page.inner_text("#notif-badge").strip()


def test_sign_in_read_notifications_and_open_a_task(live_server, demo, browser_page, no_broker):
    page, base = browser_page, live_server.url

    page.goto(f"{base}/")
    assert "/comptes/login/" in page.url  # anonymous: sent to sign-in
    shoot(page, "login")
    sign_in(page, base, "bob")

    assert badge(page) == "3"
    assert page.locator("#group-late").inner_text().count("Migrer l'annuaire LDAP") == 1
    shoot(page, "dashboard")

    page.click("nav >> text=Notifications")
    page.wait_for_selector(".notification")
    assert page.locator(".notification.unread").count() == 3
    shoot(page, "notifications")

    # One read in place (htmx): the row turns read and the badge follows, no reload.
    page.locator(".notification.soon [data-action=read]").click()
    page.wait_for_selector(".notification.soon.read")
    assert badge(page) == "2"

    page.click("#mark-all-read")
    page.wait_for_selector(".messages")
    assert badge(page) == "0"
    assert page.locator(".notification.unread").count() == 0

    page.click(".notification.late a.title")
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == "Migrer l'annuaire LDAP"
    assert page.url.endswith(f"/taches/{demo['late'].pk}/")

    page.goto(f"{base}/projets/{demo['projet'].pk}/")
    page.wait_for_selector("#taches")
    shoot(page, "project_detail")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    shoot(page, "project_detail_mobile")


def test_lead_dashboard_and_admin_supervision(live_server, demo, browser_page, no_broker):
    page, base = browser_page, live_server.url

    sign_in(page, base, "alice")
    page.wait_for_selector("#led-projets")
    shoot(page, "dashboard_lead")
    assert page.goto(f"{base}/supervision/").status == 403  # a lead has no such permission

    page.goto(f"{base}/")
    page.click(".account button")  # sign out (a POST with its CSRF token)
    page.wait_for_selector("input[name=username]")
    sign_in(page, base, "admin")
    page.goto(f"{base}/supervision/")
    page.wait_for_selector("#worker-status")
    assert "Aucun worker ne répond." in page.inner_text("#worker-status")
    shoot(page, "supervision")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    shoot(page, "supervision_mobile")


def test_auth_pages_and_the_admin_live_within_the_policy(
    live_server, demo, browser_page, no_broker
):
    """The policy is strict for the admin too: its scripts and widgets still work."""
    page, base = browser_page, live_server.url
    UserFactory(username="root", is_staff=True, is_superuser=True)

    page.goto(f"{base}/comptes/password_reset/")
    page.fill("input[name=email]", "bob@dsi.example.org")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")
    assert "/comptes/password_reset/done/" in page.url

    sign_in(page, base, "root")
    for path in (
        "/admin/",
        "/admin/core/tache/",
        "/admin/core/outboundemail/",
        "/admin/core/user/",
        f"/admin/core/projet/{demo['projet'].pk}/change/",
    ):
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
    rows = page.locator("#adhesions-group tr.dynamic-adhesions")
    before = rows.count()
    page.click("#adhesions-group .add-row a")  # a member row, added by the admin's script
    assert rows.count() == before + 1

    page.goto(f"{base}/admin/core/tache/add/")
    page.click("#calendarlink0")  # the date widget's calendar
    page.wait_for_selector("#calendarbox0", state="visible")
    page.click("#calendarbox0 a.calendarnav-next")
    page.click("#id_projet + .select2 .select2-selection")  # the autocomplete
    page.wait_for_selector(".select2-results__option:has-text('portail')")
    shoot(page, "admin_tache_add")
