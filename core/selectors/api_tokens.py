"""A user's personal API tokens, for the preferences page."""

from __future__ import annotations

from django.db.models import F, QuerySet

from core.models import JetonApi, User

# The page lists the newest: the active ones are capped (api_tokens.MAX_ACTIVE_TOKENS).
LISTED = 50


def tokens_of(*, user: User) -> QuerySet[JetonApi]:
    """The user's tokens, active first, newest first."""
    return JetonApi.objects.filter(utilisateur=user).order_by(
        F("date_revocation").desc(nulls_first=True), "-date_creation", "-pk"
    )[:LISTED]
