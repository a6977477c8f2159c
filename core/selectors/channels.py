"""Channels as their owners see them: never the URL, only its masked form."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.http import Http404

from core.models import Canal, Projet, User
from core.selectors.access import can_manage_project
from core.selectors.projects import can_read_project

SHOWN_FIELDS = ("id", "nom", "url_masquee", "actif", "date_creation", "projet_id", "utilisateur_id")


def channels_of_project(*, projet: Projet) -> QuerySet[Canal]:
    return Canal.objects.filter(projet=projet).only(*SHOWN_FIELDS).order_by("nom", "id")


def channels_of_user(*, user: User) -> QuerySet[Canal]:
    return Canal.objects.filter(utilisateur=user).only(*SHOWN_FIELDS).order_by("nom", "id")


class NotTheirs(Exception):
    """The channel's project is one the user reads but does not manage (a 403)."""


def get_channel_for(*, user: User, pk: int, today: datetime.date) -> Canal:
    """A channel ``user`` may remove: their own, or one of a project they manage.
    404 for someone else's personal channel or a project they cannot read;
    ``NotTheirs`` for a project they read but do not manage."""
    canal = Canal.objects.select_related("projet").filter(pk=pk).first()
    if canal is None:
        raise Http404
    if canal.utilisateur_id is not None:
        if canal.utilisateur_id != user.pk:
            raise Http404
        return canal
    assert canal.projet is not None
    if not can_read_project(user=user, projet_id=canal.projet.pk, today=today):
        raise Http404
    if not can_manage_project(user=user, projet=canal.projet):
        raise NotTheirs
    return canal
