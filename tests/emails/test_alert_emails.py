"""Alert emails: one email per user and run, listing their new alerts, never twice."""

from __future__ import annotations

import datetime
import logging
import threading

import pytest
from django.core import mail
from django.db import close_old_connections
from django.db.models import Count, Subquery

from core.models import NotificationTache, OutboundEmail, Tache
from core.services.alert_emails import covering_email, queue_alert_emails, unemailed_alerts
from core.services.daily_check import run_deadline_check
from core.services.deadlines import create_deadline_alerts
from tests.conftest import TODAY
from tests.factories import NotificationFactory, TacheFactory

DAY = datetime.timedelta(days=1)


@pytest.fixture
def alerting_world(world):
    """bob owns a late task, one due today and one due in two days."""
    p = world.projet
    TacheFactory(projet=p, nom="Migration LDAP", responsable=world.bob, date_echeance=TODAY - DAY)
    TacheFactory(projet=p, nom="Recette", responsable=world.bob, date_echeance=TODAY)
    TacheFactory(projet=p, nom="Formation", responsable=world.bob, date_echeance=TODAY + 2 * DAY)
    return world


def _alert_emails() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind=OutboundEmail.Kind.ALERTS))


def test_one_email_per_user_listing_all_their_alerts(alerting_world):
    result = run_deadline_check(today=TODAY)

    assert result.emails_queued == 2  # bob (3 alerts) and alice (2: late + today)
    bob_email = OutboundEmail.objects.get(recipient=alerting_world.bob)
    for name in ("Migration LDAP", "Recette", "Formation"):
        assert name in bob_email.body_text and name in bob_email.body_html
    text = bob_email.body_text
    # Most urgent first: late, then due today, then due soon.
    assert text.index("Migration LDAP") < text.index("Recette") < text.index("Formation")
    assert "Refonte du portail" in bob_email.subject
    assert bob_email.headers["Auto-Submitted"] == "auto-generated"
    alice_email = OutboundEmail.objects.get(recipient=alerting_world.alice)
    assert "Formation" not in alice_email.body_text  # due-soon alerts go to the owner only
    assert not NotificationTache.objects.filter(unemailed_alerts(TODAY)).exists()


def test_rerun_emails_nothing_again_but_new_alerts_get_a_new_email(alerting_world):
    run_deadline_check(today=TODAY)
    assert queue_alert_emails(today=TODAY) == 0
    assert len(_alert_emails()) == 2

    run_deadline_check(today=TODAY + DAY)

    assert len(_alert_emails()) == 4


def test_opted_out_user_gets_no_email_and_alerts_stay_in_app(alerting_world, caplog):
    alerting_world.bob.email_alerts = False
    alerting_world.bob.save()
    caplog.set_level(logging.INFO, logger="core.services.alert_emails")

    queued = run_deadline_check(today=TODAY).emails_queued

    assert queued == 1
    assert not OutboundEmail.objects.filter(recipient=alerting_world.bob).exists()
    assert NotificationTache.objects.filter(destinataire=alerting_world.bob).count() == 3
    assert "bob" in caplog.text and "opted_out" in caplog.text


def test_administrators_default_applies_to_users_who_never_chose(alerting_world, settings):
    settings.NOTIFICATION_DEFAULT_ALERT_EMAILS = False
    alerting_world.alice.email_alerts = True
    alerting_world.alice.save()

    run_deadline_check(today=TODAY)

    assert [e.recipient for e in _alert_emails()] == [alerting_world.alice]


def test_user_without_email_is_skipped_with_a_logged_reason(alerting_world, caplog):
    alerting_world.bob.email = ""
    alerting_world.bob.save()
    caplog.set_level(logging.INFO, logger="core.services.alert_emails")

    run_deadline_check(today=TODAY)

    assert [e.recipient for e in _alert_emails()] == [alerting_world.alice]
    assert "bob" in caplog.text and "no_email" in caplog.text


def test_old_alerts_are_not_news(alerting_world):
    """An alert of an earlier day (e.g. its email row was cleaned up) is not emailed."""
    NotificationFactory(
        destinataire=alerting_world.bob,
        tache__projet=alerting_world.projet,
        date_alerte=TODAY - 5 * DAY,
        titre="Ancienne alerte",
    )
    run_deadline_check(today=TODAY)
    assert all("Ancienne alerte" not in e.body_text for e in _alert_emails())


def test_email_failure_keeps_the_alerts_fails_the_run_and_the_rerun_emails(
    alerting_world, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr("core.services.daily_check.queue_alert_emails", broken)
    with pytest.raises(RuntimeError, match="template missing"):
        run_deadline_check(today=TODAY)
    assert NotificationTache.objects.count() == 5  # committed before the emails
    assert not _alert_emails()

    monkeypatch.undo()
    rerun = run_deadline_check(today=TODAY)
    assert rerun.total_created == 0
    assert rerun.emails_queued == len(_alert_emails()) > 0
    assert not NotificationTache.objects.filter(unemailed_alerts(TODAY)).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_email_each_alert_once(postgres_db, alerting_world):
    create_deadline_alerts(today=TODAY)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            queue_alert_emails(today=TODAY)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    emails = _alert_emails()
    assert sorted(e.recipient.username for e in emails) == ["alice", "bob"]
    # Each row was sent (and its body dropped): the alert is in the email received.
    received = {message.to[0]: message.body for message in mail.outbox}
    covering = Subquery(covering_email().values("recipient").annotate(n=Count("id")).values("n"))
    notifications = NotificationTache.objects.annotate(emails=covering)
    for notification in notifications.select_related("destinataire", "tache"):
        assert notification.emails == 1  # in one email exactly
        assert notification.tache.nom in received[notification.destinataire.email]


def _owners_with_a_task_due_today(world, numbers: range) -> None:
    from tests.factories import MembreProjetFactory, UserFactory

    for i in numbers:
        owner = UserFactory(username=f"owner{i}")
        MembreProjetFactory(projet=world.projet, utilisateur=owner)
        TacheFactory(projet=world.projet, responsable=owner, date_echeance=TODAY)


def _queue_queries() -> int:
    """Queries of one queueing of today's alert emails, from a clean slate."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    OutboundEmail.objects.all().delete()
    NotificationTache.objects.all().delete()
    create_deadline_alerts(today=TODAY)
    cache.clear()  # the administrators' email defaults are read once per run
    with CaptureQueriesContext(connection) as ctx:
        queue_alert_emails(today=TODAY)
    return len(ctx.captured_queries)


def test_queueing_queries_do_not_grow_with_recipients(world):
    _owners_with_a_task_due_today(world, range(3))
    few = _queue_queries()
    assert OutboundEmail.objects.count() == 4  # 3 owners + alice, the lead
    _owners_with_a_task_due_today(world, range(3, 30))
    many = _queue_queries()
    assert OutboundEmail.objects.count() == 31  # one email per recipient
    assert few == many


def test_queueing_queries_do_not_grow_with_alerts_per_recipient(world):
    _owners_with_a_task_due_today(world, range(3))
    few = _queue_queries()
    for tache in list(Tache.objects.all()):
        for days in range(1, 15):  # two weeks of lateness on each owner's desk
            TacheFactory(
                projet=world.projet, responsable=tache.responsable, date_echeance=TODAY - days * DAY
            )
    many = _queue_queries()
    assert OutboundEmail.objects.count() == 4
    assert NotificationTache.objects.count() == 6 + 3 * 14 * 2  # owners and alice, late ones
    assert few == many


def test_the_subject_names_three_projects_at_most(world):
    from tests.factories import MembreProjetFactory, ProjetFactory

    for name in ("Alpha", "Bravo", "Charlie", "Delta", "Echo"):
        projet = ProjetFactory(nom=name, chef_de_projet=world.alice)
        MembreProjetFactory(projet=projet, utilisateur=world.bob)
        TacheFactory(projet=projet, responsable=world.bob, date_echeance=TODAY)

    run_deadline_check(today=TODAY)

    subject = OutboundEmail.objects.get(recipient=world.bob).subject
    names = subject.split(": ")[1].removesuffix("…").split(", ")
    assert len(names) == 3 and set(names) < {"Alpha", "Bravo", "Charlie", "Delta", "Echo"}
    assert subject.endswith("…") and "5" in subject


def test_the_email_lists_the_latest_first_among_late_alerts(world):
    p = world.projet
    TacheFactory(projet=p, nom="Un jour", responsable=world.bob, date_echeance=TODAY - DAY)
    TacheFactory(projet=p, nom="Vingt jours", responsable=world.bob, date_echeance=TODAY - 20 * DAY)

    run_deadline_check(today=TODAY)

    text = OutboundEmail.objects.get(recipient=world.bob).body_text
    assert text.index("Vingt jours") < text.index("Un jour")


def test_a_phase_alert_is_emailed_to_the_lead_with_a_link_to_the_project(world):
    from django.urls import reverse

    from tests.factories import EtapeFactory

    friday = datetime.date(2027, 1, 15)
    etape = EtapeFactory(projet=world.projet, nom="Recette", date_fin_prevue=friday)
    TacheFactory(projet=world.projet, etape=etape, responsable=world.bob, date_echeance=None)
    TacheFactory(projet=world.projet, nom="Bascule", responsable=world.bob, date_echeance=friday)

    run_deadline_check(today=friday)

    email = OutboundEmail.objects.get(recipient=world.alice)
    project_path = reverse("core:project_detail", args=[world.projet.pk])
    text, html = email.body_text, email.body_html
    assert "Fin de la phase aujourd'hui\u00a0: Recette" in text
    assert "1 tâche est encore ouverte." in text
    assert "Voir le projet\u00a0: http" in text and project_path in text
    assert "Bascule" in text  # the task alert of the day, with its own actions
    # Only the task's alert offers to finish it: the phase's links to the project.
    finish = reverse("core:task_finish", args=[Tache.objects.get(nom="Bascule").pk])
    assert text.count("/terminer/") == 1 and finish in text
    assert "Fin de la phase" in html and f'{project_path}"' in html
    assert "Refonte du portail" in email.subject
    assert not NotificationTache.objects.filter(unemailed_alerts(TODAY)).exists()
