"""In a real browser, at 1280 px and 390 px: the notification centre most urgent
first, and the lead lifting a blockage they were notified of.

Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from core.models import NotificationTache, Tache
from core.services.deadlines import create_deadline_alerts
from tests.factories import TacheFactory
from tests.web import test_browser
from tests.web.test_browser import shoot, sign_in

browser_page = test_browser.browser_page
demo = test_browser.demo
no_broker = test_browser.no_broker

pytestmark = pytest.mark.browser
DAY = datetime.timedelta(days=1)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def sign_out(page) -> None:
    page.context.clear_cookies()


def test_the_centre_lists_a_mornings_alerts_most_urgent_first(
    live_server, demo, browser_page, no_broker
):
    page, base, today = browser_page, live_server.url, timezone.localdate()
    NotificationTache.objects.all().delete()
    TacheFactory(
        projet=demo["projet"],
        nom="Sauvegardes",
        responsable=demo["late"].responsable,
        date_echeance=today - 10 * DAY,
    )
    create_deadline_alerts(today=today)
    sign_in(page, base, "bob")

    for size, name in ((DESKTOP, "centre_order"), (PHONE, "centre_order_mobile")):
        page.set_viewport_size(size)
        page.goto(f"{base}/notifications/")
        titles = page.locator(".notification .title").all_inner_texts()
        kinds = [row.get_attribute("data-type") for row in page.locator(".notification").all()]
        assert kinds == ["ALERTE_RETARD", "ALERTE_RETARD", "ALERTE_CRITIQUE", "ALERTE_ECHEANCE"]
        assert "Sauvegardes" in titles[0] and "Migrer l'annuaire LDAP" in titles[1]
        shoot(page, name)


def test_the_lead_lifts_a_blockage_they_were_notified_of(
    live_server, demo, browser_page, no_broker
):
    page, base, tache = browser_page, live_server.url, demo["late"]
    sign_in(page, base, "bob")
    page.goto(f"{base}/taches/{tache.pk}/")
    page.click("#block-link")
    page.fill("textarea[name=motif]", "Le serveur LDAP de recette est éteint")
    page.click("#confirm-block-button")
    page.wait_for_selector(".messages")
    sign_out(page)

    sign_in(page, base, "alice")
    page.goto(f"{base}/notifications/")
    row = page.locator(".notification[data-type=BLOCAGE]")
    assert "Le serveur LDAP de recette est éteint" in row.inner_text()
    assert "Blocage signalé" in row.inner_text()
    shoot(page, "blockage_notified")
    page.set_viewport_size(PHONE)
    assert row.locator("[data-action=unblock]").is_visible()
    shoot(page, "blockage_notified_mobile")
    row.locator("[data-action=unblock]").click()

    page.wait_for_selector("#confirm-unblock")
    assert "Le serveur LDAP de recette est éteint" in page.inner_text("#confirm-unblock")
    shoot(page, "unblock_confirm_mobile")
    page.set_viewport_size(DESKTOP)
    shoot(page, "unblock_confirm")
    page.fill("textarea[name=commentaire]", "Serveur redémarré")
    page.click("#confirm-unblock-button")

    page.wait_for_selector(".messages")
    assert page.url.endswith("/notifications/")  # back where the lead was
    assert "Blocage de «\u00a0Migrer l'annuaire LDAP\u00a0» levé." in page.inner_text(".messages")
    assert page.locator(".notification[data-type=BLOCAGE] [data-action=unblock]").count() == 0
    tache.refresh_from_db()
    assert tache.statut == Tache.Statut.EN_COURS
    page.goto(f"{base}/taches/{tache.pk}/")
    assert "Bloquée → En cours" in page.inner_text("#history")
    assert "Serveur redémarré" in page.inner_text("#history")
    sign_out(page)

    sign_in(page, base, "bob")  # the owner is told
    page.goto(f"{base}/notifications/")
    lifted = page.locator(".notification[data-type=DEBLOCAGE]")
    assert "Alice Martin a levé le blocage" in lifted.inner_text()
    shoot(page, "blockage_lifted_owner")
