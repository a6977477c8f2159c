"""When each user's alert emails and daily summary are due.

A user takes them right after the morning check (the default), or as one digest
at an hour of their choosing (``User.email_hour``), and may take them on working
days only (``User.email_working_days_only``: not on Saturdays, Sundays or the
organisation's non-working days). The morning check and the summary take those
whose time has come; the hourly job "send-alert-digests" takes the others when
theirs comes. What was emailed is never emailed again (the alert emails' ranges,
the summary's key), so a run that comes late only catches up.
"""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone

from core.working_days import is_working_day

SATURDAY = 5


def due_now(
    *,
    today: datetime.date,
    now: datetime.datetime | None = None,
    digests_only: bool = False,
    working_day: bool | None = None,
) -> Q:
    """The users (a ``User`` filter) whose emails of ``today`` are due at ``now``;
    ``digests_only``: only those who chose an hour (the hourly job's);
    ``working_day``: whether ``today`` is one, when the caller knows."""
    local = timezone.localtime(now or timezone.now())
    if local.date() > today:  # a day gone by: every hour has come
        due = Q()
    else:
        due = Q(email_hour__isnull=True) | Q(email_hour__lte=local.hour)
    if digests_only:
        due &= Q(email_hour__isnull=False)
    if working_day is None:
        working_day = is_working_day(today)
    if today.weekday() >= SATURDAY or not working_day:
        due &= Q(email_working_days_only=False)
    return due
