"""Posting channel messages with Apprise to a local HTTP server standing in for the
chat service: delivered once, retried with backoff while it fails, failed after
CHANNEL_MAX_ATTEMPTS and sent again on "resend"; the URL's secrets in no log."""

from __future__ import annotations

import datetime
import logging
import socket

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from core.models import Canal, MessageCanal
from core.services.channel_delivery import resend, send_pending_channel_messages
from core.services.channel_urls import masked
from core.services.daily_check import run_deadline_check
from core.services.outbox_queue import retry_delay
from tests.conftest import TODAY
from tests.factories import TacheFactory

Status = MessageCanal.Status
SECRET = "s3cr3t-T0KEN-abcdef"
NOW = timezone.make_aware(datetime.datetime(2026, 11, 25, 8, 5))


def _channel(world, url: str) -> Canal:
    return Canal.objects.create(nom="Équipe", url=url, url_masquee=masked(url), projet=world.projet)


def _message(canal: Canal, n: int = 0) -> MessageCanal:
    return MessageCanal.objects.create(
        canal=canal, kind=MessageCanal.Kind.ALERTS, title=f"Alertes {n}", body=f"• Tâche {n}"
    )


def test_the_days_alerts_reach_the_chat_service_once(world, chat_server):
    TacheFactory(projet=world.projet, nom="Recette", responsable=world.bob, date_echeance=TODAY)
    _channel(world, chat_server.url())
    run_deadline_check(today=TODAY)
    result = send_pending_channel_messages()
    assert (result.sent, result.failed) == (1, 0)
    [post] = chat_server.messages
    assert post["title"].startswith("Alertes d'échéance du 25 novembre 2026")
    assert "Recette" in post["message"]
    # A rerun of the check and of the sender posts nothing more.
    run_deadline_check(today=TODAY)
    send_pending_channel_messages()
    assert len(chat_server.posts) == 1
    message = MessageCanal.objects.get()
    assert message.status == Status.SENT and message.body == ""  # the body served delivery


def test_the_sender_starts_once_the_check_commits(
    world, chat_server, django_capture_on_commit_callbacks
):
    TacheFactory(projet=world.projet, nom="Recette", responsable=world.bob, date_echeance=TODAY)
    _channel(world, chat_server.url())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_deadline_check(today=TODAY)
        assert chat_server.posts == []  # nothing posted before the commit
    assert callbacks
    assert [p["title"][:20] for p in chat_server.messages] == ["Alertes d'échéance d"]


def test_a_mattermost_url_posts_to_the_servers_hook(world, chat_server):
    """A service's own URL scheme, pointed at the local server (plain HTTP: mmost://)."""
    canal = _channel(world, f"mmost://127.0.0.1:{chat_server.port}/{SECRET}")
    _message(canal)
    assert send_pending_channel_messages().sent == 1
    [post] = chat_server.posts
    assert post.path == f"/hooks/{SECRET}"
    assert "Tâche 0" in post.body["text"]


def test_backoff_while_the_service_fails_then_delivery_once_it_recovers(world, chat_server):
    canal = _channel(world, chat_server.url())
    message = _message(canal)
    chat_server.status = 500
    with time_machine.travel(NOW, tick=False):
        result = send_pending_channel_messages(now=NOW)
    assert (result.sent, result.retrying) == (0, 1)
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.attempts == 1
    assert message.next_attempt_at == NOW + retry_delay(1)
    assert "500" in message.last_error and SECRET not in message.last_error
    # Not due yet: nothing is tried before the backoff is over.
    assert send_pending_channel_messages(now=NOW + datetime.timedelta(seconds=30)).claimed == 0
    assert chat_server.refused == 1

    chat_server.status = 200
    later = NOW + retry_delay(1)
    with time_machine.travel(later, tick=False):
        assert send_pending_channel_messages(now=later).sent == 1
    message.refresh_from_db()
    assert message.status == Status.SENT and message.last_error == ""
    assert len(chat_server.posts) == 1


def test_nothing_is_lost_while_the_service_does_not_answer(world):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once closed
    canal = _channel(world, f"json://127.0.0.1:{port}/hooks/{SECRET}")
    message = _message(canal)
    assert send_pending_channel_messages(now=NOW).retrying == 1
    message.refresh_from_db()
    assert message.status == Status.PENDING and message.body == "• Tâche 0"


def test_failed_after_the_maximum_attempts_and_resend_delivers(world, chat_server, settings):
    settings.CHANNEL_MAX_ATTEMPTS = 3
    canal = _channel(world, chat_server.url())
    message = _message(canal)
    chat_server.status = 503
    moment = NOW
    for _attempt in range(3):
        send_pending_channel_messages(now=moment)
        moment += datetime.timedelta(hours=2)
    message.refresh_from_db()
    assert message.status == Status.FAILED and message.attempts == 3
    assert send_pending_channel_messages(now=moment).claimed == 0  # given up

    chat_server.status = 200
    with transaction.atomic():
        assert resend(ids=[message.pk]) == 1
    send_pending_channel_messages()
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert [p["title"] for p in chat_server.messages] == ["Alertes 0"]


def test_a_switched_off_channel_keeps_its_messages(world, chat_server):
    canal = _channel(world, chat_server.url())
    _message(canal)
    Canal.objects.filter(pk=canal.pk).update(actif=False)
    assert send_pending_channel_messages().claimed == 0
    Canal.objects.filter(pk=canal.pk).update(actif=True)
    assert send_pending_channel_messages().sent == 1


@pytest.mark.parametrize("status", [200, 500])
def test_the_urls_secrets_are_in_no_log(world, chat_server, caplog, status):
    caplog.set_level(logging.DEBUG)  # Apprise logs the URL it posts to at DEBUG
    url = chat_server.url("json", f"/hooks/{SECRET}?token=QUERY-{SECRET}")
    canal = _channel(world, url)
    _message(canal)
    chat_server.status = status
    send_pending_channel_messages()
    assert chat_server.posts or chat_server.refused  # it did reach the server
    assert "apprise" in caplog.text  # Apprise did log, and nothing of the secret
    assert SECRET not in caplog.text
    assert SECRET not in MessageCanal.objects.get().last_error


def test_the_weekly_cleanup_deletes_old_posted_messages_only(world, settings):
    from core.services.cleanup import cleanup_sent_emails

    canal = _channel(world, "json://127.0.0.1:9/hooks/x")
    old_sent, old_failed, recent_sent = _message(canal, 1), _message(canal, 2), _message(canal, 3)
    MessageCanal.objects.filter(pk__in=[old_sent.pk, recent_sent.pk]).update(status=Status.SENT)
    MessageCanal.objects.filter(pk=old_failed.pk).update(status=Status.FAILED)
    old = NOW - datetime.timedelta(days=settings.OUTBOX_RETENTION_DAYS + 1)
    MessageCanal.objects.filter(pk__in=[old_sent.pk, old_failed.pk]).update(created_at=old)

    assert cleanup_sent_emails(now=NOW)["deleted_channel_messages"] == 1
    assert set(MessageCanal.objects.values_list("pk", flat=True)) == {old_failed.pk, recent_sent.pk}
