"""Event notifications (core.services.task_events) and their batched emails.

Every event type: who is told, who is not (never the author), the preferences
honoured; and the emails: one per user per batch, whatever the number of changes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
import time_machine

from core.models import NotificationTache, OutboundEmail, Tache
from core.services import task_updates
from core.services.alert_emails import queue_alert_emails, queue_event_emails
from core.services.preferences import save_email_preferences
from tests.conftest import TODAY
from tests.factories import TacheFactory, UserFactory

DAY = datetime.timedelta(days=1)
Type = NotificationTache.Type
Statut = Tache.Statut

NOW = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tache(world):
    return TacheFactory(
        projet=world.projet, nom="Migrer l'annuaire", responsable=world.bob, date_echeance=TODAY
    )


def told(kind: str) -> set[str]:
    """Who got a notification of ``kind``."""
    rows = NotificationTache.objects.filter(type_notification=kind)
    return set(rows.values_list("destinataire__username", flat=True))


def only(kind: str) -> NotificationTache:
    [row] = NotificationTache.objects.filter(type_notification=kind)
    return row


def block(world, tache, reason="Le fournisseur ne répond pas"):
    task_updates.report_blocked(tache_id=tache.pk, author=world.bob, reason=reason, today=TODAY)


def test_a_blockage_reaches_the_lead_with_its_reason_not_the_owner_who_reported_it(world, tache):
    block(world, tache)

    assert told(Type.BLOCAGE) == {"alice"}
    event = only(Type.BLOCAGE)
    assert "Le fournisseur ne répond pas" in event.message
    assert "Bob Durand" in event.message and "Migrer l'annuaire" in event.titre
    assert event.date_alerte is None and event.outbound_email is None
    assert not NotificationTache.objects.exclude(type_notification=Type.BLOCAGE).exists()


def test_the_lead_blocking_their_own_project_task_tells_nobody_of_a_blockage(world, tache):
    tache.statut = Statut.BLOQUEE
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY, reason="Attente DSI")

    assert told(Type.BLOCAGE) == set()


def test_the_lead_lifting_a_blockage_tells_the_owner_and_records_it(world, tache):
    block(world, tache)

    lifted = task_updates.lift_block(
        tache_id=tache.pk, author=world.alice, comment="Contrat signé", today=TODAY
    )

    assert lifted
    tache.refresh_from_db()
    assert tache.statut == Statut.EN_COURS
    assert told(Type.DEBLOCAGE) == {"bob"}
    assert "Contrat signé" in only(Type.DEBLOCAGE).message
    entry = tache.historique.filter(champ="STATUT").order_by("-id").first()
    assert (entry.ancien_statut, entry.nouveau_statut, entry.auteur, entry.motif) == (
        Statut.BLOQUEE,
        Statut.EN_COURS,
        world.alice,
        "Contrat signé",
    )
    # Lifting twice changes nothing more.
    assert not task_updates.lift_block(tache_id=tache.pk, author=world.alice, today=TODAY)
    assert NotificationTache.objects.filter(type_notification=Type.DEBLOCAGE).count() == 1


def test_the_owner_lifting_their_own_blockage_is_told_nothing(world, tache):
    block(world, tache)
    task_updates.lift_block(tache_id=tache.pk, author=world.bob, today=TODAY)

    assert told(Type.DEBLOCAGE) == set()


def test_a_task_created_for_someone_tells_them_and_not_the_lead_who_created_it(world):
    tache = Tache(projet=world.projet, nom="Nouvelle", responsable=world.bob, date_echeance=TODAY)
    task_updates.create_task(tache=tache, author=world.alice, today=TODAY)

    assert told(Type.ASSIGNATION) == {"bob"}
    assert "Alice Martin" in only(Type.ASSIGNATION).message

    mine = Tache(projet=world.projet, nom="Pour moi", responsable=world.alice)
    task_updates.create_task(tache=mine, author=world.alice, today=TODAY)
    assert NotificationTache.objects.filter(tache=mine).count() == 0


def test_a_hand_over_tells_the_new_owner_only(world, tache):
    dana = UserFactory(username="dana", first_name="Dana", last_name="Roux")
    world.projet.membres.add(dana)
    tache.responsable = dana
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY)

    assert told(Type.ASSIGNATION) == {"dana"}


def test_a_due_date_changed_by_the_lead_tells_the_owner_old_new_and_why(world, tache):
    tache.date_echeance = TODAY + 7 * DAY
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY, reason="Recette décalée")

    assert told(Type.ECHEANCE_MODIFIEE) == {"bob"}  # not alice, who changed it
    message = only(Type.ECHEANCE_MODIFIEE).message
    assert "25 novembre 2026 → 2 décembre 2026" in message
    assert "Recette décalée" in message


def test_a_due_date_changed_by_an_administrator_tells_the_owner_and_the_lead(world, tache):
    admin = UserFactory(username="dsi", is_staff=True, is_superuser=True)
    tache.date_echeance = TODAY + DAY
    task_updates.save_task(tache=tache, author=admin, today=TODAY, rate_limited=False)

    assert told(Type.ECHEANCE_MODIFIEE) == {"alice", "bob"}


def test_a_reopened_task_tells_the_owner_and_the_lead_but_not_who_reopened_it(world, tache):
    task_updates.mark_done(tache_id=tache.pk, author=world.bob, today=TODAY)
    assert NotificationTache.objects.count() == 0  # done: no event

    tache.refresh_from_db()
    tache.statut = Statut.EN_COURS
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY, reason="Pas fini")

    assert told(Type.REOUVERTURE) == {"bob"}
    assert "Pas fini" in only(Type.REOUVERTURE).message


def test_a_type_switched_off_is_not_created_and_the_others_still_are(world, tache):
    save_email_preferences(
        user=world.alice, email_alerts=None, email_summary=None, muted_events=[Type.BLOCAGE]
    )
    block(world, tache)
    assert told(Type.BLOCAGE) == set()

    tache.refresh_from_db()
    tache.statut = Statut.A_FAIRE
    tache.responsable = world.alice
    task_updates.save_task(tache=tache, author=world.bob, today=TODAY, rate_limited=False)
    assert told(Type.ASSIGNATION) == {"alice"}


def test_an_inactive_account_is_told_nothing(world, tache):
    world.alice.is_active = False
    world.alice.save()
    block(world, tache)
    assert told(Type.BLOCAGE) == set()


# --- Emails -------------------------------------------------------------------------


def _event_emails() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind=OutboundEmail.Kind.EVENTS).order_by("id"))


def test_many_changes_make_one_email_per_user_per_batch(world, tache):
    other = TacheFactory(projet=world.projet, nom="Recette", responsable=world.bob)
    block(world, tache)
    block(world, other, reason="Serveur absent")
    tache.refresh_from_db()
    tache.date_echeance = TODAY + 3 * DAY
    task_updates.save_task(tache=tache, author=world.alice, today=TODAY, reason="Congés")

    assert queue_event_emails() == {"queued": 2}  # alice: 2 blockages; bob: 1 date

    alice_email, bob_email = sorted(_event_emails(), key=lambda e: e.recipient.username)
    assert alice_email.recipient == world.alice
    text = alice_email.body_text
    assert "Le fournisseur ne répond pas" in text and "Serveur absent" in text
    assert "/debloquer/" in text and "/debloquer/" in alice_email.body_html
    assert "Congés" in bob_email.body_text
    assert "2 changements" in alice_email.subject
    # A second batch finds nothing new; a new change makes a new email.
    assert queue_event_emails() == {"queued": 0}
    task_updates.lift_block(tache_id=other.pk, author=world.alice, today=TODAY)
    assert queue_event_emails() == {"queued": 1}
    assert _event_emails()[-1].recipient == world.bob


def test_the_morning_email_takes_no_event_and_stays_one_per_user(world, tache):
    block(world, tache)  # an event for alice; the task is due today: an alert for both

    from core.services.deadlines import create_deadline_alerts

    create_deadline_alerts(today=TODAY)
    assert queue_alert_emails(today=TODAY) == 2
    alerts = OutboundEmail.objects.filter(kind=OutboundEmail.Kind.ALERTS)
    assert sorted(alerts.values_list("recipient__username", flat=True)) == ["alice", "bob"]
    assert only(Type.BLOCAGE).outbound_email is None  # left for the event batch
    assert queue_event_emails() == {"queued": 1}


def test_events_of_users_who_receive_no_alert_email_stay_in_the_centre(world, tache):
    save_email_preferences(user=world.alice, email_alerts=False, email_summary=None)
    block(world, tache)

    assert queue_event_emails() == {"queued": 0}
    assert told(Type.BLOCAGE) == {"alice"}
    assert only(Type.BLOCAGE).outbound_email is None


def test_an_event_older_than_a_day_is_no_longer_emailed(world, tache, clock):
    block(world, tache)
    clock.shift(datetime.timedelta(hours=25))

    assert queue_event_emails() == {"queued": 0}


def test_the_periodic_job_sends_the_batch_every_five_minutes(world, tache):
    """Declared once (core.jobs.registry), beat runs it every 5 minutes; run
    in-process, it queues the batch and reports how many emails."""
    from core.jobs import registry
    from core.tasks import send_event_emails

    entry = registry.beat_schedule()["send-event-emails"]
    assert entry["task"] == "core.tasks.send_event_emails"
    assert entry["schedule"].minute == set(range(0, 60, 5))
    block(world, tache)

    result = send_event_emails.apply(kwargs={"trigger": "BEAT"}).get()

    assert (result["status"], result["queued"]) == ("success", 1)
    assert [email.recipient for email in _event_emails()] == [world.alice]


def test_the_batch_costs_the_same_queries_for_3_or_30_recipients(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def hand_tasks_to(count: int) -> int:
        for _ in range(count):
            owner = UserFactory()
            world.projet.membres.add(owner)
            tache = Tache(projet=world.projet, nom="Confiée", responsable=owner)
            task_updates.create_task(tache=tache, author=world.alice, today=TODAY)
        with CaptureQueriesContext(connection) as queries:
            assert queue_event_emails() == {"queued": count}
        return len(queries)

    from core.models import NotificationDefaults

    NotificationDefaults.current()  # cached for both: the administrators' defaults
    assert hand_tasks_to(3) == hand_tasks_to(30)
