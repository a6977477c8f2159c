"""Dates in words are French, « 1er » included, wherever they are written: alerts,
emails, pages and commands go through ``core.dates``."""

from __future__ import annotations

import datetime
import io
import json

from django.core.management import call_command
from django.template import Context, Template
from django.utils import translation

from core.dates import long_date, long_datetime
from core.models import NotificationTache
from core.services.deadlines import create_deadline_alerts
from tests.conftest import World
from tests.factories import TacheFactory

FIRST = datetime.date(2026, 12, 1)


def test_the_first_of_the_month_is_1er_and_other_days_plain():
    with translation.override("fr"):
        assert long_date(FIRST) == "1er\u00a0décembre 2026"
        assert long_date(FIRST, with_weekday=True) == "mardi 1er\u00a0décembre 2026"
        assert long_date(datetime.date(2026, 12, 2)) == "2\u00a0décembre 2026"
        moment = datetime.datetime(2026, 12, 1, 7, 0, tzinfo=datetime.UTC)
        assert long_datetime(moment) == "1er\u00a0décembre 2026 à 08:00"  # Paris time
        rendered = Template("{% load governance %}{{ day|long_date }}").render(
            Context({"day": FIRST})
        )
        assert rendered == "1er\u00a0décembre 2026"


def test_an_alert_due_on_the_first_says_1er(world: World):
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=FIRST)
    with translation.override("fr"):
        create_deadline_alerts(today=FIRST - datetime.timedelta(days=1))  # a Monday
    alert = NotificationTache.objects.filter(destinataire=world.bob).get()
    assert "le 1er\u00a0décembre 2026" in alert.message


def test_the_summary_dry_run_is_french_sentences_and_json_on_request(world: World):
    out = io.StringIO()
    call_command("send_daily_summary", "--dry-run", "--date", "2026-11-25", stdout=out)
    text = out.getvalue()
    assert text.startswith("Récapitulatif quotidien du mercredi 25\u00a0novembre 2026 (simulation")
    assert "  chefs de projet\u00a0: 1\n" in text
    assert "{" not in text
    out = io.StringIO()
    call_command("send_daily_summary", "--dry-run", "--date", "2026-11-25", "--json", stdout=out)
    assert json.loads(out.getvalue())["leads"] == 1
