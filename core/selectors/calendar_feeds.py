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

from django.db.models import Q

from core.models import Etape, FluxCalendrier, Projet, Tache, User
from core.selectors.projects import visible_projects

DAYS_BEFORE = 90
DAYS_AFTER = 365
MAX_TASKS = 2000
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
    """Two queries: the tasks, then the phases."""
    first, last = window(today=today)
    taches = (
        Tache.objects.alerting()
        .filter(Q(responsable=user) | Q(projet__chef_de_projet=user))
        .filter(projet__in=visible_projects(user=user, today=today))
        .filter(date_echeance__range=(first, last))
        .select_related("projet", "responsable")
        .order_by("date_echeance", "pk")[:MAX_TASKS]
    )
    etapes = (
        Etape.objects.filter(projet__chef_de_projet=user, projet__statut__in=Projet.ACTIVE_STATUTS)
        .filter(date_fin_prevue__range=(first, last))
        .select_related("projet")
        .order_by("date_fin_prevue", "pk")[:MAX_PHASES]
    )
    return FeedItems(taches=list(taches), etapes=list(etapes))
