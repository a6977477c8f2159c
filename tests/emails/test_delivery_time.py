"""Delivery time per user: alert emails and the daily summary right after the
morning check (the default), or once as a digest at the hour chosen, on working
days only if asked; never twice."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.test import Client

from core.models import OutboundEmail
from core.services.daily_check import run_deadline_check, send_alert_digests
from core.services.summary import send_daily_summary
from core.tasks import check_task_deadlines
from core.tasks import send_alert_digests as digests_task
from tests.conftest import TODAY
from tests.factories import TacheFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SATURDAY = datetime.date(2026, 11, 28)


def at(hour: int, minute: int = 0, day: datetime.date = TODAY) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=PARIS)


def alert_emails_to(user) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind="ALERTS", recipient=user))


@pytest.fixture
def bob_at_two(world):
    """bob owns a task due today and takes his alert emails at 14:00; alice, who
    leads the project, right after the morning check."""
    TacheFactory(projet=world.projet, nom="Recette", responsable=world.bob, date_echeance=TODAY)
    world.bob.email_hour = 14
    world.bob.save(update_fields=["email_hour"])
    return world


def test_an_alert_of_8_oclock_is_emailed_at_the_hour_chosen_once(bob_at_two):
    world = bob_at_two
    with time_machine.travel(at(8), tick=False):
        run_deadline_check(today=TODAY)
    assert len(alert_emails_to(world.alice)) == 1  # right after the check
    assert alert_emails_to(world.bob) == []  # not his hour yet

    with time_machine.travel(at(13), tick=False):
        assert send_alert_digests()["alert_emails"] == 0
    with time_machine.travel(at(14), tick=False):
        assert send_alert_digests()["alert_emails"] == 1
    with time_machine.travel(at(15), tick=False):
        assert send_alert_digests()["alert_emails"] == 0
        run_deadline_check(today=TODAY)  # a rerun of the check neither

    [email] = alert_emails_to(world.bob)
    assert "Recette" in email.body_text
    assert len(alert_emails_to(world.alice)) == 1  # the digests are not hers


def test_the_hourly_job_waits_for_the_days_check(bob_at_two):
    """A check late or under way at bob's hour: no partial digest, and no summary
    from a day without its alerts; the check, when it comes, emails him."""
    with time_machine.travel(at(14), tick=False):
        waiting = digests_task.apply(kwargs={"trigger": "BEAT"}).get()
    assert waiting["waiting_for_check"] is True and waiting["alert_emails"] == 0
    assert OutboundEmail.objects.count() == 0

    with time_machine.travel(at(14, 30), tick=False):
        check_task_deadlines.apply(kwargs={"trigger": "CATCH_UP"}).get()
    assert len(alert_emails_to(bob_at_two.bob)) == 1  # his hour has passed
    with time_machine.travel(at(15), tick=False):
        report = digests_task.apply(kwargs={"trigger": "BEAT"}).get()
    assert (report["alert_emails"], report["status"]) == (0, "success")
    assert len(alert_emails_to(bob_at_two.bob)) == 1  # once


def test_a_late_check_emails_those_whose_hour_has_passed(bob_at_two):
    """The check caught up at 15:00: bob's 14:00 has come, he is emailed with it."""
    with time_machine.travel(at(15), tick=False):
        run_deadline_check(today=TODAY)
    assert len(alert_emails_to(bob_at_two.bob)) == 1


def test_the_daily_summary_follows_the_same_choice(bob_at_two):
    world = bob_at_two
    world.alice.email_hour = 10
    world.alice.save(update_fields=["email_hour"])
    with time_machine.travel(at(8), tick=False):
        run_deadline_check(today=TODAY)
        assert send_daily_summary(today=TODAY).queued == 0  # 08:15: not hers
    with time_machine.travel(at(10), tick=False):
        assert send_alert_digests()["summaries"] == 1
    with time_machine.travel(at(11), tick=False):
        assert send_alert_digests()["summaries"] == 0
    assert OutboundEmail.objects.filter(kind="SUMMARY", recipient=world.alice).count() == 1


def test_working_days_only_means_no_email_on_a_saturday(world, settings):
    settings.WORKING_DAYS_CALENDAR = "aucun"  # the organisation works every day
    TacheFactory(projet=world.projet, responsable=world.bob, date_echeance=SATURDAY)
    world.bob.email_working_days_only = True
    world.bob.save(update_fields=["email_working_days_only"])

    with time_machine.travel(at(8, day=SATURDAY), tick=False):
        result = run_deadline_check(today=SATURDAY)

    assert result.total_created == 2  # bob's alert and alice's: in the application
    assert alert_emails_to(world.bob) == []
    assert len(alert_emails_to(world.alice)) == 1


def test_the_preferences_page_saves_the_hour_and_working_days(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.bob)
    page = client.get("/preferences/")
    assert "14:00" in page.content.decode()
    token = str(page.context["csrf_token"])
    answer = client.post(
        "/preferences/",
        {
            "email_alerts": "default",
            "email_hour": "14",
            "email_working_days_only": "on",
            "csrfmiddlewaretoken": token,
        },
    )
    assert answer.status_code == 302
    world.bob.refresh_from_db()
    assert (world.bob.email_hour, world.bob.email_working_days_only) == (14, True)

    refused = client.post(
        "/preferences/",
        {"email_alerts": "default", "email_hour": "3", "csrfmiddlewaretoken": token},
    )
    assert refused.status_code == 200  # the page again, with the error
    assert refused.context["form"].errors["email_hour"]
    world.bob.refresh_from_db()
    assert world.bob.email_hour == 14  # nothing changed

    client.post(
        "/preferences/", {"email_alerts": "default", "email_hour": "", "csrfmiddlewaretoken": token}
    )
    world.bob.refresh_from_db()
    assert (world.bob.email_hour, world.bob.email_working_days_only) == (None, False)
