"""Personal API tokens: ``Authorization: Bearer <token>`` on /api/v1/."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JetonApi(models.Model):
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
    prefixe = models.CharField(_("prefix"), max_length=12)
    empreinte = models.CharField(_("hash"), max_length=64, unique=True)
    date_creation = models.DateTimeField(_("created"), auto_now_add=True)
    derniere_utilisation = models.DateTimeField(_("last used"), null=True, blank=True)
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
