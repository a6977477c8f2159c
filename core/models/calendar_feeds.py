"""A user's private calendar subscription (ICS): the due dates they follow."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models.hashed_secrets import HashedSecret


class FluxCalendrier(HashedSecret):
    """A user's calendar feed, one at most. Its address holds a secret stored
    hashed: shown once, when it is generated. Regenerating replaces the secret
    (the old address answers 404); revoking deletes the row."""

    utilisateur = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="flux_calendrier",
        verbose_name=_("user"),
    )
    date_creation = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.utilisateur} ({self.prefixe}…)"
