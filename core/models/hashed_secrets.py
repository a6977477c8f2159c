"""What every secret a user holds keeps in the database: its hash, never itself."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HashedSecret(models.Model):
    """A secret shown to its owner once and stored as its SHA-256
    (``core.services.secret_tokens``); ``prefixe`` (its first characters) lets its
    owner tell it apart. The personal API tokens and the calendar feeds."""

    prefixe = models.CharField(_("prefix"), max_length=12)
    empreinte = models.CharField(_("hash"), max_length=64, unique=True)
    derniere_utilisation = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        abstract = True
