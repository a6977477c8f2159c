"""A project's history, one page at a time, its stored values put in words.

The rows keep values as stored (a status code, an ISO date, a user's id,
``core.services.projects``); this module says them in the reader's language: a
status's label, a date in the local format, a user's full name. A page costs the
same whatever its length: the rows with their author and member, then the users
named by id on that page, in one query.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.utils import formats
from django.utils.translation import gettext as _

from core.models import Etape, HistoriqueProjet, MembreProjet, Projet, User

PROJECT_HISTORY_PAGE_SIZE = 50
Sujet = HistoriqueProjet.Sujet
_MODELS: dict[str, type[models.Model]] = {
    Sujet.PROJET: Projet,
    Sujet.ETAPE: Etape,
    Sujet.MEMBRE: MembreProjet,
}
_DATE_FIELDS = frozenset({"date_debut", "date_fin_prevue", "date_debut_prevue", "date_fin"})
_USER_FIELDS = frozenset({"chef_de_projet"})
# Labels read when the page is drawn (lazy: in the reader's language).
_CHOICES: dict[str, type[models.TextChoices]] = {
    "statut": Projet.Statut,
    "role": MembreProjet.Role,
}


def project_history(*, projet: Projet) -> QuerySet[HistoriqueProjet]:
    """Every recorded change of ``projet``, newest first (lazy: page it); served
    by the index historique_projet_date_idx."""
    return (
        HistoriqueProjet.objects.filter(projet=projet)
        .select_related("auteur", "membre")
        .order_by("-date", "-id")
    )


@dataclass(frozen=True)
class HistoryLine:
    """One history row as the page says it."""

    entry: HistoriqueProjet
    subject: str  # the phase's or the member's name; empty for the project
    field: str
    old: str
    new: str

    @property
    def is_creation(self) -> bool:
        return self.entry.action == HistoriqueProjet.Action.CREATION


def history_lines(entries: list[HistoriqueProjet]) -> list[HistoryLine]:
    """``entries`` in words; the users they name by id are read in one query."""
    ids = {
        int(value)
        for entry in entries
        if entry.champ in _USER_FIELDS
        for value in (entry.ancienne_valeur, entry.nouvelle_valeur)
        if value.isdigit()
    }
    users = {user.pk: str(user) for user in User.objects.filter(pk__in=ids)} if ids else {}
    return [
        HistoryLine(
            entry=entry,
            subject=_subject(entry),
            field=_field_label(entry),
            old=_value(entry.champ, entry.ancienne_valeur, users),
            new=_value(entry.champ, entry.nouvelle_valeur, users),
        )
        for entry in entries
    ]


def _subject(entry: HistoriqueProjet) -> str:
    if entry.sujet == Sujet.ETAPE:
        return entry.etape_nom
    if entry.sujet == Sujet.MEMBRE:
        return str(entry.membre) if entry.membre else _("deleted account")
    return ""


def _field_label(entry: HistoriqueProjet) -> str:
    if not entry.champ:
        return ""
    model = _MODELS.get(entry.sujet, Projet)
    try:
        field = model._meta.get_field(entry.champ)
    except FieldDoesNotExist:
        return entry.champ
    return str(getattr(field, "verbose_name", entry.champ))


def _value(champ: str, value: str, users: dict[int, str]) -> str:
    if not value:
        return ""
    if champ in _DATE_FIELDS:
        try:
            return formats.date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    if champ in _USER_FIELDS:
        return users.get(int(value), _("deleted account")) if value.isdigit() else value
    choices = _CHOICES.get(champ)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return value
