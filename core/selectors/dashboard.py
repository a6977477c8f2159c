"""A user's own open tasks, grouped by urgency for the dashboard."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from core.models import Tache, User
from core.selectors.projects import visible_projects, week_start
from core.selectors.urgency import urgency_keys

LATE = "late"
TODAY = "today"
THIS_WEEK = "this_week"
LATER = "later"
NO_DUE_DATE = "no_due_date"
GROUP_ORDER = (LATE, TODAY, THIS_WEEK, LATER, NO_DUE_DATE)


@dataclass
class TaskGroups:
    groups: dict[str, list[Tache]] = field(default_factory=lambda: {g: [] for g in GROUP_ORDER})

    @property
    def total(self) -> int:
        return sum(len(tasks) for tasks in self.groups.values())

    def counts(self) -> dict[str, int]:
        """How many tasks per urgency, in GROUP_ORDER."""
        return {group: len(self.groups[group]) for group in GROUP_ORDER}


def urgency(due: datetime.date | None, *, today: datetime.date) -> str:
    if due is None:
        return NO_DUE_DATE
    if due < today:
        return LATE
    if due == today:
        return TODAY
    if due <= week_start(today) + datetime.timedelta(days=6):
        return THIS_WEEK
    return LATER


def my_tasks_by_urgency(*, user: User, today: datetime.date) -> TaskGroups:
    """One query: the user's open tasks in projects they still have access to, on
    hold included (with their status: still theirs), most urgent first."""
    taches = (
        Tache.objects.filter(statut__in=(*Tache.OPEN_STATUTS, Tache.Statut.EN_PAUSE))
        .filter(responsable=user, projet__in=visible_projects(user=user, today=today))
        .select_related("projet")
        .order_by(*urgency_keys(today=today))
    )
    result = TaskGroups()
    for tache in taches:
        result.groups[urgency(tache.date_echeance, today=today)].append(tache)
    return result
