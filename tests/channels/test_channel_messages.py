"""Channel messages written by the morning check and the event job: one message per
channel and run, listing what its project or its owner got, never twice."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Canal, MessageCanal, NotificationTache, Tache
from core.services import channel_messages
from core.services.channel_messages import queue_channel_events, queue_channel_messages
from core.services.daily_check import run_deadline_check
from tests.channels.helpers import block, canal
from tests.conftest import TODAY
from tests.factories import MembreProjetFactory, ProjetFactory, TacheFactory, UserFactory

DAY = datetime.timedelta(days=1)


def _bodies(canal: Canal) -> list[str]:
    return list(canal.messages.values_list("body", flat=True))


def test_one_message_per_project_channel_listing_its_alerts_once(alerting_world):
    equipe = canal(projet=alerting_world.projet)
    other = ProjetFactory(nom="Autre projet")
    TacheFactory(projet=other, nom="Ailleurs", responsable=UserFactory(), date_echeance=TODAY)
    ailleurs = canal(projet=other)

    result = run_deadline_check(today=TODAY)

    assert result.channel_messages_queued == 2
    [message] = equipe.messages.all()
    assert message.kind == MessageCanal.Kind.ALERTS
    assert message.dedup_key == f"alerts:{equipe.pk}:{TODAY}"
    assert message.title == "Alertes d'échéance du 25 novembre 2026\xa0: Refonte du portail"
    # bob's and alice's copies of an alert are one line; most urgent first.
    assert message.body.count("Migration LDAP") == 1 and message.body.count("Recette") == 1
    assert message.body.index("Migration LDAP") < message.body.index("Recette")
    assert "Ailleurs" not in message.body
    tache = Tache.objects.get(nom="Recette")
    assert f"http://localhost:8000/taches/{tache.pk}/" in message.body
    assert "Ailleurs" in _bodies(ailleurs)[0]


def test_a_rerun_posts_nothing_twice(alerting_world):
    equipe = canal(projet=alerting_world.projet)
    run_deadline_check(today=TODAY)
    assert queue_channel_messages(today=TODAY) == 0
    run_deadline_check(today=TODAY)
    assert equipe.messages.count() == 1
    # The next day is a new message.
    run_deadline_check(today=TODAY + DAY)
    assert equipe.messages.count() == 2


def test_a_personal_channel_gets_its_owners_alerts_only(alerting_world):
    mine = canal(utilisateur=alerting_world.bob)
    charlies = canal(utilisateur=alerting_world.charlie)
    run_deadline_check(today=TODAY)
    [message] = mine.messages.all()
    assert message.title == "Vos alertes d'échéance du 25 novembre 2026"
    assert "Migration LDAP" in message.body and "Refonte du portail" in message.body
    assert not charlies.messages.exists()  # charlie got no alert: no empty message


def test_a_long_day_lists_the_first_lines_then_how_many_more(world, monkeypatch):
    monkeypatch.setattr(channel_messages, "LINES_LISTED", 3)
    for n in range(5):
        TacheFactory(projet=world.projet, nom=f"T{n}", responsable=world.bob, date_echeance=TODAY)
    equipe = canal(projet=world.projet)
    run_deadline_check(today=TODAY)
    body = _bodies(equipe)[0]
    assert body.count("• ") == 3
    assert f"Et 2 autres\xa0: http://localhost:8000/projets/{world.projet.pk}/" in body


def test_a_switched_off_channel_gets_nothing(alerting_world):
    off = canal(projet=alerting_world.projet)
    Canal.objects.filter(pk=off.pk).update(actif=False)
    run_deadline_check(today=TODAY)
    assert not MessageCanal.objects.exists()


def test_names_cannot_mention_a_whole_team(world):
    TacheFactory(
        projet=world.projet,
        nom="Urgent @channel <!here>",
        responsable=world.bob,
        date_echeance=TODAY,
    )
    equipe = canal(projet=world.projet)
    run_deadline_check(today=TODAY)
    body = _bodies(equipe)[0]
    assert "@channel" not in body and "<!here>" not in body
    assert "Urgent @\u200bchannel ‹!here›" in body


def _world_of(size: int):
    lead = UserFactory()
    for _n in range(size):
        projet = ProjetFactory(chef_de_projet=lead)
        owner = UserFactory()
        MembreProjetFactory(projet=projet, utilisateur=owner)
        TacheFactory(projet=projet, responsable=owner, date_echeance=TODAY - DAY)
        TacheFactory(projet=projet, responsable=owner, date_echeance=TODAY)
        canal(projet=projet)
        canal(utilisateur=owner)


@pytest.mark.parametrize("size", [3, 30])
def test_queueing_costs_the_same_queries_at_10x_the_channels(db, size):
    _world_of(size)
    run_deadline_check(today=TODAY, send_emails=False)
    from core.services.alert_emails import queue_alert_emails

    queue_alert_emails(today=TODAY)
    with CaptureQueriesContext(connection) as queries:
        queued = queue_channel_messages(today=TODAY, chunk_size=100)
    assert queued == 2 * size
    # Per kind of channel: the channels, what is queued already, the lines, the insert;
    # the transaction's savepoints. The same at 3 and at 30.
    assert len(queries) == EXPECTED_QUERIES


EXPECTED_QUERIES = 12


# --- Events ------------------------------------------------------------------------


def test_events_go_to_personal_channels_once_and_blockages_to_the_project(world):
    tache = TacheFactory(projet=world.projet, nom="Recette", responsable=world.bob)
    alices = canal(utilisateur=world.alice)
    equipe = canal(projet=world.projet)
    bobs = canal(utilisateur=world.bob)

    block(tache, author=world.bob)
    assert queue_channel_events() == 2
    assert queue_channel_events() == 0  # nothing twice

    [to_alice] = alices.messages.all()
    assert to_alice.kind == MessageCanal.Kind.EVENTS
    assert "Serveur indisponible" not in to_alice.title and "Recette" in to_alice.body
    [to_team] = equipe.messages.all()
    assert to_team.title == "Blocages signalés\xa0: Refonte du portail"
    # Who reported it and why, for the team to help.
    assert "Bob Durand" in to_team.body and "Serveur indisponible" in to_team.body
    assert not bobs.messages.exists()  # never told of one's own change

    # A new event: a new message, with the new event only.
    tache.refresh_from_db()
    tache.statut = Tache.Statut.EN_COURS
    tache.save()
    autre = TacheFactory(projet=world.projet, nom="Déploiement", responsable=world.bob)
    block(autre, author=world.bob)
    assert queue_channel_events() == 2
    newest = alices.messages.order_by("-id").first()
    assert newest is not None and "Déploiement" in newest.body and "Recette" not in newest.body


def test_a_muted_event_type_is_not_posted(world):
    world.alice.muted_events = [NotificationTache.Type.BLOCAGE]
    world.alice.save()
    tache = TacheFactory(projet=world.projet, responsable=world.bob)
    alices = canal(utilisateur=world.alice)
    block(tache, author=world.bob)
    queue_channel_events()
    assert not alices.messages.exists()


def test_old_events_are_not_news(world):
    tache = TacheFactory(projet=world.projet, responsable=world.bob)
    alices = canal(utilisateur=world.alice)
    block(tache, author=world.bob)
    with time_machine.travel(timezone.now() + 2 * DAY):
        assert queue_channel_events() == 0
    assert not alices.messages.exists()


@pytest.mark.parametrize("size", [3, 30])
def test_event_messages_cost_the_same_queries_at_10x_the_channels(db, size):
    lead = UserFactory()
    for _n in range(size):
        projet = ProjetFactory(chef_de_projet=lead)
        owner = UserFactory()
        MembreProjetFactory(projet=projet, utilisateur=owner)
        block(TacheFactory(projet=projet, responsable=owner), author=owner)
        canal(projet=projet)
    canal(utilisateur=lead)
    with CaptureQueriesContext(connection) as queries:
        assert queue_channel_events(chunk_size=100) == size + 1
    # Per kind of channel: the channels, the lines, the newest, the watermarks, the
    # insert (and on PostgreSQL the channels' row locks and the events' advisory
    # lock, core.services.alert_lock); the savepoints. The same at 3 and 30.
    assert len(queries) == (18 if connection.vendor == "postgresql" else 14)
