"""The Content-Security-Policy: on every page, strict, and the pages need nothing more.

The browser half (no violation reported while using the pages, admin included)
is in test_browser.py.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import TODAY, World
from tests.factories import TacheFactory, UserFactory
from tests.web.conftest import client_for

pytestmark = pytest.mark.usefixtures("frozen")

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_strict(response) -> None:
    directives = policy(response)
    assert directives, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    sources = {source for values in directives.values() for source in values}
    assert not sources & {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"}


def assert_nothing_inline(response) -> None:
    page = response.content.decode()
    assert 'style="' not in page
    assert not INLINE_SCRIPT.search(page)
    assert not EVENT_HANDLER.search(page)
    assert "javascript:" not in page


@pytest.fixture
def pages(world: World) -> list[tuple[Client, str]]:
    tache = TacheFactory(
        projet=world.projet,
        nom="Recetter le SSO",
        responsable=world.bob,
        date_echeance=TODAY - datetime.timedelta(days=1),
    )
    alice, bob = client_for(world.alice), client_for(world.bob)
    staff = client_for(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return [
        (bob, reverse("core:dashboard")),
        (alice, reverse("core:dashboard")),
        (bob, reverse("core:notification_list")),
        (bob, reverse("core:project_list")),
        (bob, reverse("core:project_detail", args=[world.projet.pk])),
        (bob, reverse("core:task_detail", args=[tache.pk])),
        (alice, reverse("core:task_edit", args=[tache.pk])),
        (alice, reverse("core:task_create", args=[world.projet.pk])),
        (alice, reverse("core:project_edit", args=[world.projet.pk])),
        (alice, reverse("core:phase_create", args=[world.projet.pk])),
        (alice, reverse("core:member_add", args=[world.projet.pk])),
        (alice, reverse("core:member_remove", args=[world.projet.pk, world.bob.pk])),
        (alice, reverse("core:project_hand_over", args=[world.projet.pk])),
        (bob, reverse("core:project_history", args=[world.projet.pk])),
        (staff, reverse("core:project_create")),
        (bob, reverse("core:preferences")),
        (bob, reverse("api:docs")),
        (staff, reverse("core:supervision")),
        (bob, reverse("core:supervision")),  # 403
        (bob, "/cette-page-n-existe-pas/"),  # 404
        (bob, reverse("password_change")),
        (Client(), reverse("login")),
        (Client(), reverse("password_reset")),
        (Client(), reverse("password_reset_done")),
        (Client(), reverse("password_reset_confirm", args=["Mg", "mauvais-jeton"])),
    ]


def test_every_page_has_a_strict_policy_and_nothing_inline(pages, settings):
    settings.DEBUG = False
    for client, url in pages:
        response = client.get(url, follow=True)
        assert response.status_code in (200, 403, 404), url
        assert_strict(response)
        assert_nothing_inline(response)


def test_the_admin_is_under_the_same_policy(db):
    staff = client_for(UserFactory(username="admin", is_staff=True, is_superuser=True))
    for url in (reverse("admin:index"), reverse("admin:core_tache_add")):
        assert_strict(staff.get(url))


@pytest.mark.urls("tests.web.failing_urls")
def test_the_crash_page_has_the_policy_and_nothing_inline(world: World, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(world.bob)

    response = client.get("/crash/")

    assert response.status_code == 500
    assert_strict(response)
    assert_nothing_inline(response)
