"""Links in emails lead to the site: SITE_URL, else the address ``dev.py run``
serves, which it writes where a command run by hand in another shell reads it
(issue 20: a check run by hand linked to http://localhost:8000 while the
application was on another port)."""

from __future__ import annotations

import datetime
import importlib.util
import io

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from core.models import OutboundEmail
from core.site_url import site_url
from tests.conftest import TODAY
from tests.factories import TacheFactory
from tests.web.conftest import NOW


@pytest.fixture
def dev_py():
    spec = importlib.util.spec_from_file_location("dev", settings.BASE_DIR / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def run_dir(settings, tmp_path):
    """No SITE_URL, and the var/ of a `dev.py run`."""
    settings.SITE_URL = ""
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_a_check_run_by_hand_links_to_where_dev_py_runs(world, run_dir, dev_py):
    dev_py.write_site_url(run_dir, "127.0.0.1:8123")  # as `dev.py run` starts
    tache = TacheFactory(
        projet=world.projet, responsable=world.bob, date_echeance=TODAY + datetime.timedelta(2)
    )

    with time_machine.travel(NOW, tick=False):
        call_command("check_task_deadlines", stdout=io.StringIO())

    email = OutboundEmail.objects.get(recipient=world.bob)
    for body in (email.body_text, email.body_html):
        assert f"http://127.0.0.1:8123/taches/{tache.pk}/" in body
        assert "localhost:8000" not in body


def test_site_url_wins_then_the_run_file_then_the_default(settings, run_dir, dev_py):
    assert site_url() == "http://localhost:8000"
    dev_py.write_site_url(run_dir, "0.0.0.0:8123")
    assert site_url().endswith(":8123") and site_url() != "http://0.0.0.0:8123"
    settings.SITE_URL = "https://gouvernance.example.org"
    assert site_url() == "https://gouvernance.example.org"
