"""Password-reset requests: one email per account per quarter of an hour, no secret stored.

The page only queues the address (``core.tasks.request_password_reset``); here, in
the background, the accounts at that address are looked up and each gets an outbox
row holding the recipient and the kind only; the link is minted by the sender when
it sends (``email_rendering.render_password_reset``). Whether an address has an
account never shows: the page does the same work, and answers the same, either way.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.models import OutboundEmail, User
from core.selectors.accounts import password_reset_recipients
from core.services import outbox
from core.services.email_rendering import render_subject

logger = logging.getLogger(__name__)

# At most one reset email per account in this interval, however often it is asked.
REQUEST_INTERVAL = datetime.timedelta(minutes=15)


def request_password_reset_by_email(*, email: str, now: datetime.datetime | None = None) -> int:
    """Queue a reset email for each account at ``email`` (usually one, often none);
    the number queued."""
    now = now or timezone.now()
    return sum(
        request_password_reset(user=user, now=now)
        for user in password_reset_recipients(email=email)
    )


def request_password_reset(*, user: User, now: datetime.datetime | None = None) -> bool:
    """Queue a reset email for ``user`` unless one was queued less than
    ``REQUEST_INTERVAL`` ago; True when queued."""
    now = now or timezone.now()
    with transaction.atomic():
        if not _claim_request_slot(user=user, now=now):
            logger.info("Password reset for user %s not queued: asked again too soon.", user.pk)
            return False
        subject = render_subject("password_reset", {"user": user})
        outbox.enqueue(
            outbox.new_secret_row(
                recipient=user, kind=OutboundEmail.Kind.PASSWORD_RESET, subject=subject
            )
        )
    return True


def _claim_request_slot(*, user: User, now: datetime.datetime) -> bool:
    """A conditional UPDATE that changes one row or none: of concurrent requests
    for one account, exactly one wins (the database decides, not a prior read)."""
    free = Q(password_reset_requested_at__isnull=True) | Q(
        password_reset_requested_at__lte=now - REQUEST_INTERVAL
    )
    claimed = User.objects.filter(free, pk=user.pk).update(password_reset_requested_at=now)
    return claimed == 1
