"""Personal API tokens: created with a secret shown once, stored as its SHA-256
(``core.services.secret_tokens``), revoked by their owner, checked on each API
request.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import JetonApi, User
from core.services.secret_tokens import fingerprint, new_secret, touch_last_used

# Active tokens one person may hold (one per script or tool is a handful).
MAX_ACTIVE_TOKENS = 20


@dataclass(frozen=True)
class NewToken:
    jeton: JetonApi
    secret: str  # shown to its owner once, never stored


def create_token(*, user: User, name: str) -> NewToken:
    """A new token for ``user``; the returned secret is the only copy."""
    active = JetonApi.objects.filter(utilisateur=user, date_revocation__isnull=True)
    if active.count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            _("You already have %(count)d active tokens: revoke one first.")
            % {"count": MAX_ACTIVE_TOKENS},
            code="too_many_tokens",
        )
    secret = new_secret()
    jeton = JetonApi.objects.create(
        utilisateur=user, nom=name, prefixe=secret.prefix, empreinte=secret.fingerprint
    )
    return NewToken(jeton=jeton, secret=secret.value)


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
    touch_last_used(jeton, now=now or timezone.now())
    return jeton
