"""In a real browser: acting on an alert, the confirmation pages, the lead closing a
task outside its phase, the portfolio, and French whatever the browser's language.

Screenshots at 1280 px and 390 px (a phone) go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from core.models import HistoriqueTache, NotificationTache, Tache, User
from core.services.daily_check import run_deadline_check
from core.services.deadlines import create_deadline_alerts
from tests.factories import ProjetFactory, TacheFactory, UserFactory
from tests.web import test_browser
from tests.web.test_browser import CHROMIUM_ARGS, DAY, chromium_path, shoot, sign_in

# The browser tests' fixtures, shared with test_browser.py.
browser_page = test_browser.browser_page
demo = test_browser.demo
no_broker = test_browser.no_broker

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def shoot_both(page, name: str) -> None:
    shoot(page, name)
    page.set_viewport_size(PHONE)
    page.reload()
    shoot(page, f"{name}_mobile")
    page.set_viewport_size({"width": 1280, "height": 900})


def messages(page) -> str:
    return page.inner_text(".messages")


def test_owner_marks_done_from_the_notifications_and_the_alert_is_gone_next_day(
    live_server, demo, browser_page, no_broker
):
    page, base, late = browser_page, live_server.url, demo["late"]
    sign_in(page, base, "bob")
    page.goto(f"{base}/notifications/")
    row = page.locator(".notification.late")
    assert row.locator("[data-action=done]").is_visible()
    assert row.locator("[data-action=block]").is_visible()
    assert row.locator("[data-action=view]").is_visible()
    shoot_both(page, "notifications_actions")

    page.locator(".notification.late [data-action=done]").click()
    page.wait_for_selector(".messages")
    assert "Tâche «\u00a0Migrer l'annuaire LDAP\u00a0» marquée terminée." in messages(page)
    assert page.locator(".notification.late.read").count() == 1
    assert page.locator(".notification.late [data-action=done]").count() == 0
    late.refresh_from_db()
    assert (late.statut, late.date_fin_reelle) == (Tache.Statut.TERMINEE, timezone.localdate())

    # The next morning's check: the other tasks alert again, the finished one never.
    create_deadline_alerts(today=timezone.localdate() + DAY)
    page.reload()
    assert page.locator(".notification.unread").count() >= 1
    assert NotificationTache.objects.filter(tache=late, lue=False).count() == 0
    assert "Migrer l'annuaire LDAP" not in " ".join(
        page.locator(".notification.unread").all_inner_texts()
    )
    shoot(page, "notifications_next_day")


def test_owner_cannot_change_a_task_that_is_not_theirs(live_server, demo, browser_page):
    page, base = browser_page, live_server.url
    alices = Tache.objects.get(nom="Choisir l'hébergeur")
    elsewhere = TacheFactory(projet=ProjetFactory(chef_de_projet=UserFactory(username="eve")))
    sign_in(page, base, "bob")

    assert page.goto(f"{base}/taches/{alices.pk}/modifier/").status == 403
    assert page.goto(f"{base}/taches/{alices.pk}/terminer/").status == 403
    shoot(page, "forbidden")
    assert page.goto(f"{base}/taches/{elsewhere.pk}/terminer/").status == 404
    page.goto(f"{base}/taches/{alices.pk}/")
    assert page.locator("#progress-form").count() == 0
    assert page.locator("#finish-link").count() == 0


def test_the_email_link_opens_a_confirmation_and_get_changes_nothing(
    live_server, demo, browser_page, no_broker
):
    page, base, late = browser_page, live_server.url, demo["late"]
    run_deadline_check(today=timezone.localdate())
    # Sent at once (eager sender, in-memory backend): the row keeps no body.
    bob = User.objects.get(username="bob")
    [email] = [m for m in mail.outbox if m.to == [bob.email]]
    link = re.search(r"Marquer terminée\u00a0: (\S+)", email.body).group(1)
    link = link.replace("http://localhost:8000", base)

    page.goto(link)  # signed out: sign in first, then back to the confirmation
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", "motdepasse-test")
    page.click("button[type=submit]")
    page.wait_for_selector("#confirm-done")
    assert "Marquer cette tâche comme terminée\u00a0?" in page.inner_text("#confirm-done")
    page.reload()  # any number of GETs
    late.refresh_from_db()
    assert late.statut == Tache.Statut.A_FAIRE
    shoot_both(page, "email_confirm_done")

    page.click("#confirm-done-button")
    page.wait_for_selector(".messages")
    late.refresh_from_db()
    assert late.statut == Tache.Statut.TERMINEE
    assert "Terminée" in page.inner_text("#task-status")
    assert "À faire → Terminée" in page.inner_text("#history")
    shoot(page, "task_done_history")


def test_lead_closes_a_task_whose_due_date_is_outside_its_phase(
    live_server, demo, browser_page, no_broker
):
    page, base, late = browser_page, live_server.url, demo["late"]
    etape = late.etape
    etape.date_fin_prevue = timezone.localdate() - 10 * DAY
    etape.save()
    sign_in(page, base, "alice")

    page.goto(f"{base}/taches/{late.pk}/modifier/")
    page.select_option("select[name=statut]", "TERMINEE")
    shoot(page, "lead_edit_outside_phase")
    page.click("form.card button[type=submit]")
    page.wait_for_selector(".messages")

    late.refresh_from_db()
    assert late.statut == Tache.Statut.TERMINEE
    text = messages(page)
    assert "enregistrée" in text
    assert "postérieure à la fin de l'étape «\u00a0Cadrage\u00a0»" in text
    shoot_both(page, "lead_closed_outside_phase")


def test_portfolio_for_staff_and_403_for_others(live_server, demo, browser_page, no_broker):
    page, base = browser_page, live_server.url
    for i in range(3):
        ProjetFactory(nom=f"Projet du SI {i}", chef_de_projet=UserFactory(username=f"lead{i}"))
    sign_in(page, base, "alice")
    assert page.goto(f"{base}/portefeuille/").status == 403
    page.goto(f"{base}/")
    page.click(".account button")  # sign out
    page.wait_for_selector(".messages")
    assert "Vous êtes déconnecté." in messages(page)

    sign_in(page, base, "admin")
    page.click("nav >> text=Portefeuille")
    page.wait_for_selector("#portfolio")
    assert page.locator("#portfolio tbody tr").count() == 4
    assert "Alice Martin" in page.inner_text("#portfolio")
    shoot(page, "portfolio")
    page.set_viewport_size(PHONE)
    page.reload()
    first = page.locator("#portfolio tbody tr").first
    box = first.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]  # a card, no sideways scroll
    shoot(page, "portfolio_mobile")


def test_the_project_list_is_cards_on_a_phone(live_server, demo, browser_page):
    page, base = browser_page, live_server.url
    late = demo["late"]  # its due date was pushed back twice: a second pill in the cell
    for moved in (1, 2):
        HistoriqueTache.objects.create(
            tache=late,
            champ=HistoriqueTache.Champ.ECHEANCE,
            ancienne_echeance=late.date_echeance - datetime.timedelta(days=moved + 1),
            nouvelle_echeance=late.date_echeance - datetime.timedelta(days=moved),
        )
    sign_in(page, base, "bob")
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/projets/{demo['projet'].pk}/")
    row = page.locator("#taches tbody tr", has_text="Migrer l'annuaire LDAP")
    due, status = row.locator("td").nth(3), row.locator("td").nth(4)
    for cell in (due, status):
        box = cell.bounding_box()
        assert cell.is_visible() and box is not None and box["x"] + box["width"] <= 390
    assert "en retard" in due.inner_text() and "À faire" in status.inner_text()
    assert "repoussée 2 fois" in due.inner_text()
    # The card's parts wrap inside it: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert (due.get_attribute("data-label"), status.get_attribute("data-label")) == (
        "Échéance",
        "Statut",
    )
    shoot(page, "project_tasks_cards_mobile")


def test_an_english_browser_gets_french(live_server, demo):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(
            locale="en-US",
            extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
            viewport={"width": 1280, "height": 900},
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/comptes/login/")
        assert "Se connecter" in page.inner_text("h1")
        sign_in(page, live_server.url, "bob")
        text = page.inner_text("body")
        assert "Mes tâches" in text and "My tasks" not in text
        today = timezone.localdate()
        assert today.strftime("%Y") in text
        assert "jour" in text  # "n jours de retard"
        shoot(page, "english_browser_dashboard")
        browser.close()
