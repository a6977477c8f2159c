"""What a user's calendar feed lists: the due dates they follow, in a bounded
window, in a fixed number of queries however many tasks there are.

- the open tasks (``Tache.alerting``: to do, in progress, blocked, in an active
  project) they own, in the projects they still have access to;
- for a project lead, the open tasks of the active projects they lead, whoever
  owns them, and the planned ends of those projects' phases.

Only the dates from ``DAYS_BEFORE`` days ago to ``DAYS_AFTER`` days ahead, and at
most ``MAX_TASKS`` tasks and ``MAX_PHASES`` phases (the earliest first): a calendar
shows what is coming and what is late, not the whole history.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet

from core.models import Etape, FluxCalendrier, Projet, Tache, User
from core.selectors.projects import visible_projects

DAYS_BEFORE = 90
DAYS_AFTER = 365
# About 500 kB of iCalendar and half a second to write: far more than a calendar shows.
MAX_TASKS = 1000
MAX_PHASES = 500


@dataclass(frozen=True)
class FeedItems:
    taches: list[Tache]
    etapes: list[Etape]


def feed_of(*, user: User) -> FluxCalendrier | None:
    """The user's feed, for the preferences page (its secret is not stored)."""
    return FluxCalendrier.objects.filter(utilisateur=user).first()


def window(*, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return (
        today - datetime.timedelta(days=DAYS_BEFORE),
        today + datetime.timedelta(days=DAYS_AFTER),
    )


def feed_items(*, user: User, today: datetime.date) -> FeedItems:
    """Three queries: the tasks they own, the tasks of the projects they lead,
    the phases. Two queries rather than one with an OR: each reads its own index
    (``tache_responsable_statut_idx``, ``tache_projet_statut_idx`` from the led
    projects), where the OR had the database scan every task of the window."""
    first, last = window(today=today)
    open_dated = Tache.objects.alerting().filter(date_echeance__range=(first, last))
    owned = open_dated.filter(responsable=user, projet__in=visible_projects(user=user, today=today))
    led = open_dated.filter(projet__chef_de_projet=user)
    taches = {tache.pk: tache for tache in [*_earliest(owned), *_earliest(led)]}
    etapes = (
        Etape.objects.filter(projet__chef_de_projet=user, projet__statut__in=Projet.ACTIVE_STATUTS)
        .filter(date_fin_prevue__range=(first, last))
        .select_related("projet")
        .order_by("date_fin_prevue", "pk")[:MAX_PHASES]
    )
    return FeedItems(
        taches=sorted(taches.values(), key=_due_order)[:MAX_TASKS], etapes=list(etapes)
    )


def _earliest(taches: QuerySet[Tache]) -> list[Tache]:
    return list(
        taches.select_related("projet", "responsable").order_by("date_echeance", "pk")[:MAX_TASKS]
    )


def _due_order(tache: Tache) -> tuple[datetime.date, int]:
    assert tache.date_echeance is not None
    return tache.date_echeance, tache.pk
