"""Secrets a user holds and the application keeps only as a SHA-256: the personal
API tokens (``core.services.api_tokens``) and the calendar feeds
(``core.services.calendar_feeds``).

A secret is 256 random bits (``secrets.token_urlsafe(32)``): a plain SHA-256 is
enough to store it (no slow hash is needed against guessing a random secret), and
it lets a request find its row by an indexed equality on ``empreinte``. Its first
characters (``prefixe``) let its owner tell their secrets apart.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.db.models import Q

from core.models.hashed_secrets import HashedSecret

PREFIX_LENGTH = 8
# The last-used date is written at most this often per secret, not on every request.
TOUCH_EVERY = datetime.timedelta(minutes=1)


@dataclass(frozen=True)
class Secret:
    value: str  # shown to its owner once, never stored

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.value)

    @property
    def prefix(self) -> str:
        return self.value[:PREFIX_LENGTH]


def new_secret() -> Secret:
    return Secret(secrets.token_urlsafe(32))


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def touch_last_used(row: HashedSecret, *, now: datetime.datetime) -> None:
    """Bring ``row.derniere_utilisation`` up to date, one write a minute at most.
    Conditional: of concurrent requests in the same minute, one writes."""
    last = row.derniere_utilisation
    if last is not None and last > now - TOUCH_EVERY:
        return
    stale = Q(derniere_utilisation__isnull=True) | Q(derniere_utilisation__lte=now - TOUCH_EVERY)
    type(row)._default_manager.filter(stale, pk=row.pk).update(derniere_utilisation=now)
    row.derniere_utilisation = now
