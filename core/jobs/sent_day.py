"""The business day of a scheduled run, fixed when beat sends its message.

Beat's rows (django-celery-beat's ``DatabaseScheduler``) hold fixed kwargs
(``{"trigger": "BEAT"}``), so the day cannot be stored in them. Celery's public
``before_task_publish`` signal runs in the sending process just before the message
is serialized: for a daily job's message sent by beat (Celery's beat marks its
messages with the ``celery_beat_task`` header; the ``BEAT`` trigger says so too)
and carrying no ``today``, it adds the business day (Europe/Paris) of the
message's ETA, else of the moment it is sent. The catch-up passes its day itself
(``core.jobs.catch_up``); a retry re-sends the kwargs it ran with, day included.
The task honours that day when it runs (``core.jobs.arguments.run_day(sent=True)``,
``core.jobs.runs.run_job``), however late.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from celery.signals import before_task_publish
from django.utils import timezone

from core.jobs import registry

BEAT_HEADER = "celery_beat_task"  # set by celery.beat.Scheduler.apply_async


def sent_for(headers: Mapping[str, Any], *, now: datetime.datetime | None = None) -> datetime.date:
    """The business day a message is for: its ETA's, else now's (when it is sent)."""
    eta = headers.get("eta")
    moment = datetime.datetime.fromisoformat(eta) if isinstance(eta, str) else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return timezone.localdate(moment or now or timezone.now())


def message_kwargs(body: object) -> dict[str, Any] | None:
    """The kwargs of a task message (protocol 2: ``(args, kwargs, embed)``), to edit."""
    if isinstance(body, tuple | list) and len(body) == 3 and isinstance(body[1], dict):
        return body[1]
    return None


def from_beat(headers: Mapping[str, Any], kwargs: Mapping[str, Any]) -> bool:
    return bool(headers.get(BEAT_HEADER)) or kwargs.get("trigger") == registry.BEAT["trigger"]


@before_task_publish.connect(dispatch_uid="core.jobs.sent_day.add_business_day")
def add_business_day(
    sender: str | None = None,
    body: object = None,
    headers: Mapping[str, Any] | None = None,
    **_kwargs: Any,
) -> None:
    """Add ``today`` to a daily job's message from beat that has none."""
    kwargs = message_kwargs(body)
    headers = headers or {}
    if kwargs is None or "today" in kwargs or not from_beat(headers, kwargs):
        return
    if sender in {job.task for job in registry.daily_jobs()}:
        kwargs["today"] = sent_for(headers).isoformat()
