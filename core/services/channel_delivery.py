"""Posting the channel messages: the outbox of ``MessageCanal``, sent with Apprise.

The same life as an email (``core.services.outbox_queue``): a message is claimed
(``SENDING``, a lease), posted, and marked ``SENT`` at once; a service that does
not answer, or answers an error, puts it back to ``PENDING`` with the
exponential backoff (1, 2, 4... minutes), ``FAILED`` after
``CHANNEL_MAX_ATTEMPTS`` (the admin's "resend" queues it again). Nothing is lost
while a chat service is down.

At-least-once, and the window is one message wide: a worker killed between the
service's "200 OK" and the UPDATE that marks the row posts that one message
again once its lease (the sending task's hard time limit) runs out. Apprise is
told not to retry by itself (the outbox does, with its backoff): one call to
the service per attempt.

Apprise never raises on a failed post: it answers false, and what it logged is
in its result; the reason is kept in ``last_error`` with every part of the URL
but the host masked (``core.services.channel_urls``).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable

import apprise
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from core.models import MessageCanal
from core.services.channel_urls import InvalidChannelUrl, error_text, plugin_for, secrets_hidden
from core.services.outbox_queue import (
    Bookkeeping,
    OutboxQueue,
    SendResult,
    announce,
    never,
    requeue,
    send_batches,
)
from core.signals import channel_messages_queued

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 50
CHANNEL_MESSAGES = OutboxQueue(
    model=MessageCanal,
    max_attempts_setting="CHANNEL_MAX_ATTEMPTS",
    timeout_setting="CHANNEL_TIMEOUT",
    cleared_when_sent=("body",),
    noun="Channel message",
    queued=channel_messages_queued,
    # A channel switched off keeps its messages until it is switched on again.
    due_also=Q(canal__actif=True),
)


class ChannelRefused(Exception):
    """The service did not take the message (its reason, secrets masked)."""


def dispatch_sender(*, expected: int = 1) -> None:
    """Announce messages written in this transaction (``outbox_queue.announce``)."""
    announce(CHANNEL_MESSAGES, expected=expected)


def send_pending_channel_messages(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int = 20,
    now: datetime.datetime | None = None,
    should_stop: Callable[[], bool] = never,
) -> SendResult:
    """Post the due messages, batch after batch; ``should_stop`` as for emails."""
    return send_batches(
        CHANNEL_MESSAGES,
        lambda rows: _send_batch(rows, now=now, should_stop=should_stop),
        batch_size=batch_size,
        max_batches=max_batches,
        now=now,
        should_stop=should_stop,
    )


def _send_batch(
    rows: list[MessageCanal], *, now: datetime.datetime | None, should_stop: Callable[[], bool]
) -> SendResult:
    urls = dict(
        MessageCanal.objects.filter(id__in=[row.id for row in rows]).values_list("id", "canal__url")
    )
    return Bookkeeping(CHANNEL_MESSAGES, rows, now=now).deliver_each(
        lambda row: post(urls[row.id], title=row.title, body=row.body),
        _failure,
        should_stop=should_stop,
    )


def _failure(exc: Exception) -> tuple[str, bool]:
    """What a failed post keeps in ``last_error`` (never the URL), and whether it
    is for good: a URL that no longer means a service is."""
    if isinstance(exc, InvalidChannelUrl):
        return str(exc.messages[0]), True
    if isinstance(exc, ChannelRefused):
        return str(exc), False
    return type(exc).__name__, False  # its text might quote the URL


def post(url: str, *, title: str, body: str) -> None:
    """Post one message to the service of ``url``; ``ChannelRefused`` if it did not
    take it. The URL's secrets never reach a log, Apprise's own included."""
    with secrets_hidden(url):
        plugin = plugin_for(url)
        notifier = apprise.Apprise()
        notifier.add(plugin)
        try:
            result = notifier.notify(
                body=body,
                title=title,
                body_format=apprise.NotifyFormat.TEXT,
                timeout=settings.CHANNEL_TIMEOUT,
            )
        except Exception as exc:  # a bug in a plugin: the message is retried
            raise ChannelRefused(error_text(f"{type(exc).__name__}: {exc}", url)) from None
        if not result:
            reason = "; ".join(entry.message for entry in result.logs()) or "no answer"
            raise ChannelRefused(error_text(reason, url))


def resend(*, ids: Iterable[int]) -> int:
    """Failed (or waiting) messages back in the queue now, with fresh attempts."""
    with transaction.atomic():
        count = requeue(CHANNEL_MESSAGES, ids=ids)
        if count:
            dispatch_sender(expected=count)
    return count
