"""A user's own open tasks, grouped by urgency for the dashboard."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, Value, When
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber

from core.models import Tache, User
from core.selectors.projects import visible_projects, week_start
from core.selectors.urgency import urgency_keys

LATE = "late"
TODAY = "today"
THIS_WEEK = "this_week"
LATER = "later"
NO_DUE_DATE = "no_due_date"
GROUP_ORDER = (LATE, TODAY, THIS_WEEK, LATER, NO_DUE_DATE)


# Tasks shown per group: the most urgent; the group says how many it holds.
GROUP_LIMIT = 20


@dataclass
class TaskGroups:
    groups: dict[str, list[Tache]] = field(default_factory=lambda: {g: [] for g in GROUP_ORDER})
    sizes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUP_ORDER, 0))

    @property
    def total(self) -> int:
        return sum(self.sizes.values())

    def counts(self) -> dict[str, int]:
        """How many tasks per urgency, in GROUP_ORDER (shown or not)."""
        return {group: self.sizes[group] for group in GROUP_ORDER}

    def more(self, group: str) -> int:
        """How many of the group's tasks are not shown."""
        return self.sizes[group] - len(self.groups[group])


def urgency_group(*, today: datetime.date) -> Case:
    """The group of a task by its due date: late, due today, this week (to Sunday),
    later, no due date."""
    week_end = week_start(today) + datetime.timedelta(days=6)
    return Case(
        When(date_echeance__isnull=True, then=Value(NO_DUE_DATE)),
        When(date_echeance__lt=today, then=Value(LATE)),
        When(date_echeance=today, then=Value(TODAY)),
        When(date_echeance__lte=week_end, then=Value(THIS_WEEK)),
        default=Value(LATER),
        output_field=CharField(),
    )


def my_tasks_by_urgency(
    *, user: User, today: datetime.date, limit: int = GROUP_LIMIT
) -> TaskGroups:
    """Two queries however many tasks: the user's open tasks in projects they still
    have access to, on hold included (with their status: still theirs), counted per
    group, and the ``limit`` most urgent of each group."""
    mine = Tache.objects.filter(statut__in=(*Tache.OPEN_STATUTS, Tache.Statut.EN_PAUSE)).filter(
        responsable=user, projet__in=visible_projects(user=user, today=today)
    )
    group = urgency_group(today=today)
    result = TaskGroups()
    sizes = mine.annotate(group=group).order_by().values("group").annotate(n=Count("id"))
    result.sizes.update({row["group"]: row["n"] for row in sizes})
    shown = (
        mine.annotate(
            group=group,
            rank=Window(RowNumber(), partition_by=[group], order_by=urgency_keys(today=today)),
        )
        .filter(rank__lte=limit)
        .select_related("projet")
        .order_by(*urgency_keys(today=today))
    )
    for tache in shown:
        result.groups[tache.group].append(tache)  # type: ignore[attr-defined]
    return result
