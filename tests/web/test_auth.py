"""Sign-in with the application's own pages (password reset: test_password_reset.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

PASSWORD = "motdepasse-test"


@pytest.mark.parametrize(
    "url",
    [
        reverse("core:dashboard"),
        reverse("core:project_list"),
        reverse("core:project_detail", args=[1]),
        reverse("core:task_detail", args=[1]),
        reverse("core:task_edit", args=[1]),
        reverse("core:task_create", args=[1]),
        reverse("core:notification_list"),
        reverse("core:supervision"),
    ],
)
def test_every_page_needs_sign_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_sign_in_lands_on_my_tasks(world):
    client = Client()
    page = client.get(reverse("login"))
    assert 'id="notif-badge"' not in page.content.decode()  # no navigation when signed out
    assert "Mot de passe oublié\u00a0?" in page.content.decode()

    response = client.post(reverse("login"), {"username": "bob", "password": PASSWORD})

    assert response["Location"] == reverse("core:dashboard")
    assert client.get(reverse("core:dashboard")).status_code == 200


def test_wrong_password_is_refused_with_a_message(world):
    response = Client().post(reverse("login"), {"username": "bob", "password": "faux"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_sign_out_is_a_post_with_csrf(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.bob)
    assert client.post(reverse("logout")).status_code == 403
    assert client.get(reverse("core:dashboard")).status_code == 200


def test_error_pages_keep_the_layout_and_speak_french(db, client, settings):
    from tests.factories import UserFactory

    settings.DEBUG = False
    client.force_login(UserFactory(username="dora"))
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page introuvable" in page
    assert "Mes tâches" in page  # the navigation bar is there
