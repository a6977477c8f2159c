"""Reads about failed sign-ins (django-axes' ``AccessAttempt`` rows)."""

from __future__ import annotations

import datetime

from axes.models import AccessAttempt
from django.db.models import Sum


def address_failures(*, ip_address: str, since: datetime.datetime) -> int:
    """Failed sign-ins from ``ip_address``, every account together, as axes counts
    them: a row (account, address, browser) counts all its failures while its last
    one is newer than ``since``."""
    total = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return int(total or 0)
