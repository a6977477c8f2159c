"""A refused request is one log line (who, what, why); a crash keeps its traceback."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.factories import UserFactory
from tests.web.conftest import client_for


def request_log(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "django.request"]


def test_a_403_is_one_line_saying_who_what_and_why(world: World, caplog):
    with caplog.at_level(logging.INFO):
        response = client_for(world.alice).get(reverse("core:supervision"))

    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()  # the page is unchanged
    [record] = request_log(caplog)
    line = record.getMessage()
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "\n" not in line and "Traceback" not in caplog.text
    assert "alice" in line and "GET /supervision/" in line
    assert "Cette page est réservée aux administrateurs." in line


def test_an_admin_refusal_is_one_line_too(db, caplog):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_outboundemail"))

    with caplog.at_level(logging.INFO):
        response = client_for(viewer).get(reverse("admin:core_outboundemail_add"))

    assert response.status_code == 403
    [record] = request_log(caplog)
    assert record.exc_info is None and "viewer" in record.getMessage()
    assert "/admin/core/outboundemail/add/" in record.getMessage()


def test_a_refusal_cannot_forge_log_lines(world: World, caplog):
    with caplog.at_level(logging.INFO):
        client_for(world.alice).get(reverse("core:supervision") + "?x=%0AERROR forged")

    [record] = request_log(caplog)
    assert "\n" not in record.getMessage()


@pytest.mark.urls("tests.web.failing_urls")
def test_a_500_keeps_its_traceback(world: World, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(world.alice)

    with caplog.at_level(logging.INFO):
        response = client.get("/crash/")

    assert response.status_code == 500
    [record] = request_log(caplog)
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "RuntimeError: the view crashed" in caplog.text
