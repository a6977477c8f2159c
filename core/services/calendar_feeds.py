"""A user's calendar feed: generated with a secret shown once, stored as its
SHA-256 (``core.services.secret_tokens``), regenerated (the old address stops
answering) or revoked by its owner, and found again from the address's secret."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import FluxCalendrier, User
from core.services.secret_tokens import Secret, fingerprint, new_secret, touch_last_used


def regenerate_feed(*, user: User, now: datetime.datetime | None = None) -> Secret:
    """A new secret for ``user``'s feed, replacing the one they had: the returned
    secret is the only copy. One row per user (its unique key), written by a
    conditional update or an insert, never a look-up first."""
    secret = new_secret()
    values = {
        "prefixe": secret.prefix,
        "empreinte": secret.fingerprint,
        "date_creation": now or timezone.now(),
        "derniere_utilisation": None,
    }
    feeds = FluxCalendrier.objects.filter(utilisateur=user)
    if feeds.update(**values):
        return secret
    try:
        with transaction.atomic():
            FluxCalendrier.objects.create(utilisateur=user, **values)
    except IntegrityError:  # a concurrent regeneration created it: this one wins
        feeds.update(**values)
    return secret


def revoke_feed(*, user: User) -> bool:
    """Delete ``user``'s feed; False if they had none."""
    deleted, _by_model = FluxCalendrier.objects.filter(utilisateur=user).delete()
    return deleted > 0


def feed_owner(secret: str, *, now: datetime.datetime | None = None) -> User | None:
    """The active user whose feed this secret opens, else None (unknown, replaced
    or revoked secret; deactivated account); the feed's last-used date brought up
    to date (one write a minute at most)."""
    feed = (
        FluxCalendrier.objects.select_related("utilisateur")
        .filter(empreinte=fingerprint(secret))
        .first()
    )
    if feed is None or not feed.utilisateur.is_active:
        return None
    touch_last_used(feed, now=now or timezone.now())
    return feed.utilisateur
