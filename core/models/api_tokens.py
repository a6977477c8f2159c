"""Personal API tokens: ``Authorization: Bearer <token>`` on /api/v1/."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models.hashed_secrets import HashedSecret


class JetonApi(HashedSecret):
    """A user's personal token, stored hashed (SHA-256 of a 256-bit random secret:
    the secret is shown once, at creation, and never kept). ``prefixe`` (the
    secret's first characters) lets its owner tell their tokens apart."""

    utilisateur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="jetons_api",
        verbose_name=_("user"),
    )
    nom = models.CharField(_("name"), max_length=100)
    date_creation = models.DateTimeField(_("created"), auto_now_add=True)
    date_revocation = models.DateTimeField(_("revoked on"), null=True, blank=True)

    class Meta:
        ordering = ["-date_creation"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.nom} ({self.prefixe}…)"

    @property
    def is_active(self) -> bool:
        return self.date_revocation is None
