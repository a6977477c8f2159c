"""Error pages in French, inside the application's layout (DEBUG off)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.web.conftest import client_for


@pytest.fixture
def production(settings) -> None:
    settings.DEBUG = False


def test_a_refused_form_explains_itself_in_french(world, production):
    client = client_for(world.bob, enforce_csrf_checks=True)

    response = client.post(reverse("core:preferences"), {})

    assert response.status_code == 403
    page = response.content.decode()
    assert "Formulaire expiré" in page
    assert "Mes tâches" in page  # the navigation bar: inside the layout
    assert "CSRF verification failed" not in page


def test_a_refused_sign_in_form_explains_itself_too(db, production):
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x"})
    assert response.status_code == 403
    assert "Formulaire expiré" in response.content.decode()


def test_access_denied_is_french_and_in_the_layout(world, production):
    response = client_for(world.bob).get(reverse("core:supervision"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Accès refusé" in page and "Mes tâches" in page


def test_a_bad_host_gets_the_french_400_page(db, production):
    response = Client().get(reverse("login"), HTTP_HOST="intrus.example.com")
    assert response.status_code == 400
    assert "Requête incorrecte" in response.content.decode()


def test_a_server_error_gets_the_french_500_page(db, production):
    from django.views.defaults import server_error

    response = server_error(Client().get("/").wsgi_request)

    assert response.status_code == 500
    page = response.content.decode()
    assert "Erreur du serveur" in page
    assert "app.css" in page  # the application's stylesheet: its layout, not a bare page
