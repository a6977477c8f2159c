"""`manage.py check --deploy` catches what would break in production: links in
emails pointing at localhost (the default when SITE_URL is forgotten), a public
/health/ behind HTTPS."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def deploy_check() -> str:
    out = StringIO()
    try:
        call_command("check", "--deploy", "--fail-level", "WARNING", stdout=out, stderr=out)
    except SystemCheckError as error:
        return str(error)
    return out.getvalue()


def test_a_forgotten_site_url_is_reported(settings):
    settings.SITE_URL = "http://localhost:8000"
    assert "core.W001" in deploy_check()


def test_plain_http_links_behind_https_are_reported(settings):
    settings.SECURE = True
    settings.SITE_URL = "http://gouvernance.example.org"
    assert "core.W002" in deploy_check()


@pytest.mark.parametrize("url", ["https://gouvernance.example.org"])
def test_a_public_https_address_passes(settings, url):
    settings.SECURE = True
    settings.SITE_URL = url
    output = deploy_check()
    assert "core.W001" not in output and "core.W002" not in output


def test_a_public_health_check_in_production_is_reported(settings):
    settings.SECURE = True
    settings.SITE_URL = "https://gouvernance.example.org"
    settings.HEALTH_TOKEN = ""
    assert "core.W003" in deploy_check()

    settings.HEALTH_TOKEN = "jeton-de-supervision"
    assert "core.W003" not in deploy_check()
