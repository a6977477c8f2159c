"""End to end against a real SMTP server (aiosmtpd on localhost)."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.db import close_old_connections
from django.utils import timezone

from core.models import OutboundEmail
from core.services.daily_check import run_deadline_check
from core.services.outbox import resend, send_pending
from core.services.summary import send_daily_summary
from tests.conftest import TODAY
from tests.emails.conftest import assert_link_resolves
from tests.factories import ProjetFactory, TacheFactory, UserFactory

pytestmark = pytest.mark.smtp

DAY = datetime.timedelta(days=1)
NOW = timezone.make_aware(datetime.datetime(2026, 11, 25, 8, 20))
VIEWS = {"taches": "core:task_detail", "projets": "core:project_detail"}


@pytest.fixture
def late_world(world):
    TacheFactory(
        projet=world.projet, nom="Migration LDAP", responsable=world.bob, date_echeance=TODAY - DAY
    )
    TacheFactory(projet=world.projet, nom="Recette", responsable=world.bob, date_echeance=TODAY)
    return world


def _statuses() -> list[tuple[str, int]]:
    return list(OutboundEmail.objects.order_by("id").values_list("status", "attempts"))


def test_summary_arrives_with_both_parts_and_working_links(smtp_server, late_world, settings):
    settings.SITE_URL = "https://gouvernance.dsi.example.org"
    send_daily_summary(today=TODAY)

    result = send_pending(now=NOW)

    assert result.sent == 1
    [received] = smtp_server.received
    assert received.rcpt_tos == ["alice@dsi.example.org"]
    message = received.message
    assert "Refonte du portail" in message["Subject"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] == "<https://gouvernance.dsi.example.org/preferences/>"
    for part in (received.text, received.html):
        assert "Migration LDAP" in part and "Recette" in part and "Bob Durand" in part
        assert "25\u00a0novembre 2026" in part
    html_links = re.findall(r'href="(https?://[^"]+)"', received.html)
    text_links = re.findall(r"https?://\S+", received.text)
    assert set(html_links) == set(text_links)  # both parts carry the same information
    for link in html_links:
        if "/preferences/" not in link:
            assert_link_resolves(
                link, site_url=settings.SITE_URL, view_name=VIEWS[link.split("/")[3]]
            )
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT


def test_alert_emails_arrive_one_per_user(smtp_server, late_world):
    run_deadline_check(today=TODAY)

    send_pending(now=NOW)

    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "alice@dsi.example.org",
        "bob@dsi.example.org",
    ]
    [bob] = smtp_server.handler.to("bob@dsi.example.org")
    assert "Migration LDAP" in bob.text and "Recette" in bob.text
    assert "Migration LDAP" in bob.html and "Recette" in bob.html
    assert "Refonte du portail" in bob.message["Subject"]


def test_a_batch_reuses_one_smtp_connection(smtp_server, db):
    for i in range(12):
        lead = UserFactory(username=f"lead{i}")
        TacheFactory(projet=ProjetFactory(chef_de_projet=lead), date_echeance=TODAY)
    send_daily_summary(today=TODAY)

    result = send_pending(now=NOW, batch_size=50)

    assert result.sent == 12 and len(smtp_server.received) == 12
    assert smtp_server.handler.connections == 1  # not one per email


def test_smtp_down_loses_nothing_and_delivers_each_once_when_back(smtp_down, late_world):
    send_daily_summary(today=TODAY)
    run_deadline_check(today=TODAY)

    down = send_pending(now=NOW)

    assert down.retrying == 3 and down.sent == 0
    rows = list(OutboundEmail.objects.all())
    assert {(r.status, r.attempts) for r in rows} == {("PENDING", 1)}
    assert all("Connection refused" in r.last_error or "Errno" in r.last_error for r in rows)
    assert all(r.next_attempt_at > NOW for r in rows)
    # Not retried before its backoff.
    assert send_pending(now=NOW).claimed == 0

    smtp_down.start()
    back = send_pending(now=NOW + datetime.timedelta(minutes=2))
    again = send_pending(now=NOW + datetime.timedelta(hours=2))

    assert back.sent == 3 and again.claimed == 0
    assert len(smtp_down.received) == 3
    assert sorted(r.rcpt_tos[0] for r in smtp_down.received) == [
        "alice@dsi.example.org",  # summary
        "alice@dsi.example.org",  # alerts
        "bob@dsi.example.org",
    ]
    assert {r.status for r in OutboundEmail.objects.all()} == {"SENT"}


def test_failed_after_max_attempts_then_resent_from_the_admin_action(
    smtp_down, late_world, settings
):
    settings.EMAIL_MAX_ATTEMPTS = 2
    send_daily_summary(today=TODAY)

    send_pending(now=NOW)
    send_pending(now=NOW + datetime.timedelta(hours=1))
    send_pending(now=NOW + datetime.timedelta(hours=2))

    row = OutboundEmail.objects.get()
    assert (row.status, row.attempts) == ("FAILED", 2)
    assert row.last_error

    smtp_down.start()
    assert send_pending(now=NOW + datetime.timedelta(hours=3)).claimed == 0  # stays failed
    assert resend(ids=[row.id]) == 1
    assert send_pending(now=NOW + datetime.timedelta(hours=3)).sent == 1
    assert len(smtp_down.received) == 1


def test_a_permanent_refusal_fails_the_row_at_once_with_the_reason(smtp_server, late_world):
    smtp_server.handler.refused.add("bob@dsi.example.org")
    run_deadline_check(today=TODAY)

    result = send_pending(now=NOW)

    assert (result.sent, result.failed, result.retrying) == (1, 1, 0)
    assert [r.rcpt_tos for r in smtp_server.received] == [["alice@dsi.example.org"]]
    bob_row = OutboundEmail.objects.get(recipient=late_world.bob)
    assert (bob_row.status, bob_row.attempts) == ("FAILED", 1)
    assert "550" in bob_row.last_error and "No such mailbox" in bob_row.last_error
    # Never tried again, even after every backoff.
    assert send_pending(now=NOW + datetime.timedelta(days=1)).claimed == 0


def test_a_temporary_refusal_is_retried_with_backoff_then_delivered(smtp_server, late_world):
    smtp_server.handler.deferred.add("bob@dsi.example.org")
    run_deadline_check(today=TODAY)

    first = send_pending(now=NOW)

    assert (first.sent, first.retrying, first.failed) == (1, 1, 0)
    bob_row = OutboundEmail.objects.get(recipient=late_world.bob)
    assert bob_row.status == "PENDING" and "451" in bob_row.last_error
    assert bob_row.next_attempt_at == NOW + datetime.timedelta(minutes=1)
    assert send_pending(now=NOW + datetime.timedelta(seconds=30)).claimed == 0  # backoff

    smtp_server.handler.deferred.clear()
    again = send_pending(now=NOW + datetime.timedelta(minutes=1))

    assert again.sent == 1
    assert len(smtp_server.handler.to("bob@dsi.example.org")) == 1
    bob_row.refresh_from_db()
    assert (bob_row.status, bob_row.attempts, bob_row.last_error) == ("SENT", 2, "")


def _run_in_threads(target, count: int) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            target()
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_summary_twice_at_once_then_concurrent_senders_one_email_per_lead(postgres_db, smtp_server):
    for i in range(6):
        lead = UserFactory(username=f"lead{i}")
        TacheFactory(projet=ProjetFactory(chef_de_projet=lead), date_echeance=TODAY - DAY)

    errors = _run_in_threads(lambda: send_daily_summary(today=TODAY), 2)
    errors += _run_in_threads(lambda: send_daily_summary(today=TODAY), 3)
    errors += _run_in_threads(lambda: send_pending(now=NOW, batch_size=2), 3)

    assert not errors
    assert OutboundEmail.objects.count() == 6
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(
        f"lead{i}@dsi.example.org" for i in range(6)
    )


def test_alert_emails_by_chunks_reach_everyone_exactly_once(smtp_server, world, settings):
    """Ten times more recipients than a chunk holds: one email each, every alert in one."""
    from core.models import NotificationTache
    from core.services.alert_emails import ALERTS_LISTED, queue_alert_emails, unemailed_alerts
    from core.services.deadlines import create_deadline_alerts
    from tests.factories import MembreProjetFactory

    settings.SITE_URL = "https://gouvernance.dsi.example.org"
    owners = [UserFactory(username=f"owner{i}") for i in range(30)]
    for owner in owners:
        MembreProjetFactory(projet=world.projet, utilisateur=owner)
        TacheFactory(projet=world.projet, responsable=owner, date_echeance=TODAY)
    create_deadline_alerts(today=TODAY)

    assert queue_alert_emails(today=TODAY, chunk_size=3) == 31  # 30 owners and alice
    send_pending(now=NOW)

    received = sorted(r.rcpt_tos[0] for r in smtp_server.received)
    expected = sorted([f"owner{i}@dsi.example.org" for i in range(30)] + ["alice@dsi.example.org"])
    assert received == expected  # each exactly once
    assert not NotificationTache.objects.filter(unemailed_alerts(TODAY)).exists()
    # alice leads all 30 tasks: the most urgent 20 named, the rest one link away.
    [alice] = smtp_server.handler.to("alice@dsi.example.org")
    assert "30" in alice.message["Subject"]
    named = [line for line in alice.text.splitlines() if line.startswith("[")]
    assert len(named) == ALERTS_LISTED
    assert "10" in alice.text and "10" in alice.html
    link = "https://gouvernance.dsi.example.org/notifications/?statut=unread"
    assert link in alice.text and link.replace("&", "&amp;") in alice.html
    assert_link_resolves(
        link.split("?")[0], site_url=settings.SITE_URL, view_name="core:notification_list"
    )


def test_event_emails_arrive_one_per_user_per_batch_with_a_working_lift_link(
    smtp_server, world, settings
):
    """Three changes by two people within the five minutes: alice (the lead) gets
    one email for two blockages, bob one for his due date; nobody of his own."""
    from core.services import task_updates
    from core.services.alert_emails import queue_event_emails

    settings.SITE_URL = "https://gouvernance.dsi.example.org"
    p = world.projet
    first = TacheFactory(projet=p, nom="Migration LDAP", responsable=world.bob)
    second = TacheFactory(projet=p, nom="Recette", responsable=world.bob)
    for tache, reason in ((first, "Annuaire fermé"), (second, "Pas de jeu de test")):
        task_updates.report_blocked(tache_id=tache.pk, author=world.bob, reason=reason, today=TODAY)
    first.refresh_from_db()
    first.date_echeance = TODAY + 10 * DAY
    task_updates.save_task(tache=first, author=world.alice, today=TODAY, reason="Congés")
    queue_event_emails()

    send_pending()

    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "alice@dsi.example.org",
        "bob@dsi.example.org",
    ]
    [alice] = smtp_server.handler.to("alice@dsi.example.org")
    for part in (alice.text, alice.html):
        assert "Annuaire fermé" in part and "Pas de jeu de test" in part
    lift = re.search(r"https?://\S+/debloquer/", alice.text)
    assert lift is not None
    assert_link_resolves(lift.group(0), site_url=settings.SITE_URL, view_name="core:task_unblock")
    [bob] = smtp_server.handler.to("bob@dsi.example.org")
    assert "Congés" in bob.text and "→" in bob.text
