"""Channels added and removed by the people who own them: a project's lead (or
who may change the project in the admin) for a project, anyone for themselves.

The URL is checked with Apprise before it is stored (a clear French error for
an unknown or unsupported service), and its masked form stored beside it, for
every page and the admin to show instead.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.models import Canal, Projet, User
from core.services.channel_urls import masked

# Channels one project or one person may have: a few teams' rooms, not a broadcast.
MAX_CHANNELS_PER_OWNER = 10


def add_channel(
    *, author: User, nom: str, url: str, projet: Projet | None = None, personal: bool = False
) -> Canal:
    """A new active channel of ``projet`` or, ``personal``, of ``author``. The
    caller checked that ``author`` manages ``projet``."""
    if (projet is None) == (not personal):
        raise ValueError("A channel belongs to a project or to its author, not both.")
    url = url.strip()
    shown = masked(url)  # raises InvalidChannelUrl (a ValidationError)
    owner = {"projet": projet} if projet is not None else {"utilisateur": author}
    with transaction.atomic():
        # Locks the owner's row: two additions at once cannot pass the limit together.
        if projet is not None:
            Projet.objects.select_for_update().filter(pk=projet.pk).exists()
        else:
            User.objects.select_for_update().filter(pk=author.pk).exists()
        if Canal.objects.filter(**owner).count() >= MAX_CHANNELS_PER_OWNER:
            raise ValidationError(
                _("At most %(max)d channels: remove one before adding another.")
                % {"max": MAX_CHANNELS_PER_OWNER},
                code="too_many",
            )
        return Canal.objects.create(nom=nom, url=url, url_masquee=shown, cree_par=author, **owner)


def remove_channel(*, canal: Canal) -> None:
    """The channel and its messages, posted or waiting (the caller checked the right)."""
    canal.delete()
