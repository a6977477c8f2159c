"""Sign-in with the OpenID Connect provider in a real browser (headless Chromium):
from the sign-in page's button to the provider's page and back to the dashboard,
the claims mapped; a second sign-in applies what the provider changed."""

from __future__ import annotations

import pytest

import tests.oidc_urls  # noqa: F401  # the site's URLs read with the provider off
from core.models import AccountSource, User
from core.services.directory_accounts import LEAD_GROUP_NAME
from tests.oidc_provider import JEANNE, Person
from tests.web import test_browser
from tests.web.test_accessibility import axe_violations
from tests.web.test_browser import shoot
from tests.web.test_oidc_sign_in import use_provider
from tests.web.web_tools import package_file

pytestmark = pytest.mark.browser

browser_page = test_browser.browser_page
no_broker = test_browser.no_broker


def sign_in_with_provider(page, base: str, person: Person) -> None:
    page.goto(f"{base}/comptes/login/")
    page.click("text=Se connecter avec Keycloak DSI")
    page.wait_for_selector("input[name=sub]")  # the provider's own page
    page.fill("input[name=sub]", person.sub)
    page.click("button:has-text('Authorize')")
    page.wait_for_selector("#notif-badge")


def test_sign_in_with_the_provider_from_the_button(
    settings, live_server, transactional_db, oidc_provider, browser_page, no_broker
):
    use_provider(settings, oidc_provider)
    page, base = browser_page, live_server.url
    page.goto(f"{base}/comptes/login/")
    shoot(page, "sign-in-with-provider")

    sign_in_with_provider(page, base, JEANNE)

    assert page.url == f"{base}/"
    assert page.inner_text(".user-name") == "Jeanne Dupont"
    assert page.is_visible("#admin-link")  # staff, from the dsi-admins group
    assert not page.is_visible("#password-change-link")  # no local password
    jeanne = User.objects.get(username="jdupont")
    assert jeanne.account_source == AccountSource.OIDC and jeanne.email == JEANNE.email
    assert jeanne.groups.filter(name=LEAD_GROUP_NAME).exists()

    page.click("button:has-text('Se déconnecter')")
    page.wait_for_selector("text=Vous êtes déconnecté")
    oidc_provider.set_person(
        Person(JEANNE.sub, "jdupont", "Jeanne", "Martin", "j.martin@dsi.example.org")
    )
    sign_in_with_provider(page, base, JEANNE)

    assert page.inner_text(".user-name") == "Jeanne Martin"
    assert not page.is_visible("#admin-link")  # out of the staff group
    jeanne.refresh_from_db()
    assert jeanne.email == "j.martin@dsi.example.org" and not jeanne.is_staff
    assert not jeanne.groups.filter(name=LEAD_GROUP_NAME).exists()


def test_the_button_and_a_refused_sign_in_pass_axe(
    settings, live_server, transactional_db, oidc_provider, browser_page
):
    use_provider(settings, oidc_provider)
    page, base = browser_page, live_server.url
    axe = package_file("axe-core").read_text(encoding="utf-8")
    page.goto(f"{base}/comptes/login/")
    assert axe_violations(page, axe) == []

    page.goto(f"{base}/comptes/oidc/retour/?code=x&state=forged")  # lands on the sign-in page

    assert page.url == f"{base}/comptes/login/"
    assert "n'a pas pu être vérifiée" in page.inner_text(".messages")
    assert axe_violations(page, axe) == []
