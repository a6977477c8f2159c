"""Housekeeping, weekly: old read notifications, old sent emails, expired exports."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import MessageCanal, NotificationTache, OutboundEmail
from core.services import portfolio_export_jobs

DEFAULT_BATCH_SIZE = 5000
# A century: beyond it the cutoff date would overflow.
MAX_DAYS = 36500


def validate_days(days: object) -> int:
    """``days`` as a whole number from 1 to ``MAX_DAYS``, or ``ValueError`` saying so."""
    error = ValueError(
        _("Invalid number of days %(value)r: expected a whole number from 1 to %(max)d.")
        % {"value": days, "max": MAX_DAYS}
    )
    if isinstance(days, bool) or not isinstance(days, int | str):
        raise error
    try:
        value = int(days)
    except ValueError:
        raise error from None
    if not 1 <= value <= MAX_DAYS:
        raise error
    return value


def cleanup_old_notifications(
    *,
    days: int = 30,
    now: datetime.datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, int]:
    """Delete read notifications created more than ``days`` ago, old sent emails
    and expired portfolio exports; fail the exports a dead worker left.

    Unread notifications are always kept, as are pending and failed emails.
    """
    days = validate_days(days)
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=days)
    old_read = NotificationTache.objects.filter(lue=True, date_creation__lt=cutoff)
    deleted = delete_in_batches(old_read, batch_size=batch_size)
    return {
        "deleted": deleted,
        "days": days,
        **cleanup_sent_emails(now=now),
        "stale_exports": portfolio_export_jobs.fail_stale_exports(now=now),
        "deleted_exports": portfolio_export_jobs.delete_expired_exports(now=now),
    }


def cleanup_sent_emails(
    *,
    now: datetime.datetime | None = None,
    days: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> dict[str, int]:
    """Delete SENT outbox rows (emails and channel messages) older than ``days``
    (``OUTBOX_RETENTION_DAYS``).

    Pending and failed rows are kept whatever their age: they still need someone.
    Their alerts get ``outbound_email = NULL``; alert emails only take alerts of the
    current day, so these old ones are never emailed again.
    """
    days = validate_days(days if days is not None else settings.OUTBOX_RETENTION_DAYS)
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    old_sent = OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT, created_at__lt=cutoff)
    # The channel messages posted: the same retention (their text is gone already).
    old_posted = MessageCanal.objects.filter(status=MessageCanal.Status.SENT, created_at__lt=cutoff)
    return {
        "deleted_emails": delete_in_batches(old_sent, batch_size=batch_size),
        "email_days": days,
        "deleted_channel_messages": delete_in_batches(old_posted, batch_size=batch_size),
    }


def delete_in_batches(queryset: QuerySet[Any], *, batch_size: int) -> int:
    """Delete what ``queryset`` selects, a batch per short transaction.

    Short transactions keep the web pages from waiting behind one long delete.
    """
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.values_list("id", flat=True)[:batch_size])
            if not ids:
                return deleted
            deleted += queryset.model.objects.filter(id__in=ids).delete()[0]
