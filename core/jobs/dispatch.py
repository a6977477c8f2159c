"""Celery work started by the services' domain events, after their transaction commits.

Never before the commit: the worker would not see the rows. A broker outage at
that moment is logged, not raised (``robust``): the rows are already committed and
the periodic sweep (``send-pending-emails``) picks them up.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from celery import current_app
from django.db import transaction
from django.dispatch import receiver
from kombu.exceptions import OperationalError as BrokerError

from core.jobs.registry import SEND_PENDING_CHANNEL_MESSAGES, SEND_PENDING_EMAILS, PeriodicJob
from core.models import JobRun
from core.services import channel_delivery, outbox
from core.signals import channel_messages_queued, emails_queued

logger = logging.getLogger(__name__)

# At most this many sender tasks are started for one burst of queued emails.
MAX_PARALLEL_SENDERS = 8


@receiver(emails_queued, dispatch_uid="core.jobs.dispatch.start_senders")
def start_senders(*, count: int = 1, **_kwargs: Any) -> None:
    _start_after_commit(SEND_PENDING_EMAILS, count=count, batch_size=outbox.DEFAULT_BATCH_SIZE)


@receiver(channel_messages_queued, dispatch_uid="core.jobs.dispatch.start_channel_senders")
def start_channel_senders(*, count: int = 1, **_kwargs: Any) -> None:
    _start_after_commit(
        SEND_PENDING_CHANNEL_MESSAGES, count=count, batch_size=channel_delivery.DEFAULT_BATCH_SIZE
    )


def _start_after_commit(job: PeriodicJob, *, count: int, batch_size: int) -> None:
    senders = max(1, min(MAX_PARALLEL_SENDERS, math.ceil(count / batch_size)))

    def start() -> None:
        sender = current_app.signature(job.task)
        for _ in range(senders):
            sender.delay(trigger=JobRun.Trigger.EVENT.value)

    transaction.on_commit(start, robust=True)


def after_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue ``task(*args, **kwargs)`` once the current transaction commits; a broker
    down then is logged, not raised (the caller's work is already committed)."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs), robust=True)


def after_commit_or_inline(task: Any, **kwargs: Any) -> None:
    """Queue ``task(**kwargs)`` once the transaction commits; with the broker down,
    run it here instead (logged): work that nothing else would redo, such as a
    password-reset request, is never lost, at the cost of doing it in the request."""

    def queue() -> None:
        try:
            task.delay(**kwargs)
        except BrokerError as exc:
            logger.warning("Broker unavailable, %s run in the request: %s", task.name, exc)
            task.apply(kwargs=kwargs)

    transaction.on_commit(queue)


def publish_now(task: Any, *, kwargs: dict[str, Any], timeout_s: float = 2.0) -> str:
    """Queue ``task`` on a fresh broker connection tried once; return its id.

    For a person waiting on a page ("run now"): the default publish retry policy
    would keep them waiting for minutes when the broker is down; here the error
    comes at once, to be shown, and nothing was queued.
    """
    app = task.app
    if app.conf.task_always_eager:  # in-process (tests): no broker to reach
        return str(task.apply_async(kwargs=kwargs).id)
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout_s)
        result = task.apply_async(kwargs=kwargs, connection=connection, retry=False)
    return str(result.id)
