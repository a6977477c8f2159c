"""Personal API tokens: created with a secret shown once, stored as its SHA-256,
revoked by their owner, checked on each API request.

The secret is 256 random bits (``secrets.token_urlsafe(32)``): a plain SHA-256 is
enough to store it (no slow hash is needed against guessing a random secret), and
it lets a request find its token by an indexed equality on ``empreinte``.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import JetonApi, User

PREFIX_LENGTH = 8
# Active tokens one person may hold (one per script or tool is a handful).
MAX_ACTIVE_TOKENS = 20
# The last-used date is written at most this often per token, not on every request.
TOUCH_EVERY = datetime.timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    jeton: JetonApi
    secret: str  # shown to its owner once, never stored


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, user: User, name: str) -> NewToken:
    """A new token for ``user``; the returned secret is the only copy."""
    active = JetonApi.objects.filter(utilisateur=user, date_revocation__isnull=True)
    if active.count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            _("You already have %(count)d active tokens: revoke one first.")
            % {"count": MAX_ACTIVE_TOKENS},
            code="too_many_tokens",
        )
    secret = secrets.token_urlsafe(32)
    jeton = JetonApi.objects.create(
        utilisateur=user, nom=name, prefixe=secret[:PREFIX_LENGTH], empreinte=fingerprint(secret)
    )
    return NewToken(jeton=jeton, secret=secret)


def revoke_token(*, user: User, token_id: int, now: datetime.datetime | None = None) -> bool:
    """Revoke one of ``user``'s tokens; False if it is not theirs or already revoked."""
    active = JetonApi.objects.filter(pk=token_id, utilisateur=user, date_revocation__isnull=True)
    return active.update(date_revocation=now or timezone.now()) == 1


def authenticate(secret: str, *, now: datetime.datetime | None = None) -> JetonApi | None:
    """The active token of an active user whose secret this is, else None; its
    last-used date brought up to date (one write a minute at most)."""
    jeton = (
        JetonApi.objects.select_related("utilisateur")
        .filter(empreinte=fingerprint(secret), date_revocation__isnull=True)
        .first()
    )
    if jeton is None or not jeton.utilisateur.is_active:
        return None
    now = now or timezone.now()
    last = jeton.derniere_utilisation
    if last is None or last <= now - TOUCH_EVERY:
        _touch(jeton, now=now)
    return jeton


def _touch(jeton: JetonApi, *, now: datetime.datetime) -> None:
    """Conditional: of concurrent requests in the same minute, one writes."""
    stale = Q(derniere_utilisation__isnull=True) | Q(derniere_utilisation__lte=now - TOUCH_EVERY)
    JetonApi.objects.filter(stale, pk=jeton.pk).update(derniere_utilisation=now)
    jeton.derniere_utilisation = now
