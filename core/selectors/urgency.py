"""Most urgent first: the one ordering of tasks and alerts, defined here only.

Late before due today before due later, tasks without a due date last; among the
late ones the latest first (the earliest due date); then the highest priority,
then the nearest due date; the id last, so that every ordering is total (pages
and keysets need it). The notification centre, both dashboards, the daily summary
and the alert emails all order by ``urgency_keys``: a task (``Tache``) against
today, an alert against the day it was raised for, with its task's priority.

Every key is a non-null expression, ascending: a keyset can compare them as a row.
"""

from __future__ import annotations

import datetime

from django.db.models import (
    Case,
    DateField,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from core.models import Tache

# Stands for "no date" in the keys: after every real date.
FAR = datetime.date(9999, 12, 31)
LATE, TODAY, LATER, NO_DUE_DATE = range(4)
_PRIORITY_ORDER = (
    Tache.Priorite.CRITIQUE,
    Tache.Priorite.HAUTE,
    Tache.Priorite.NORMALE,
    Tache.Priorite.BASSE,
)


def priority_rank(field: str = "priorite") -> Case:
    """0 for a critical task, 3 for a low one."""
    return Case(
        *(When(**{field: value}, then=Value(rank)) for rank, value in enumerate(_PRIORITY_ORDER)),
        default=Value(len(_PRIORITY_ORDER)),
        output_field=IntegerField(),
    )


def urgency_keys(
    *,
    today: datetime.date | Expression,
    due: str = "date_echeance",
    priority: str | Expression = "priorite",
    tie: Expression | F | None = None,
) -> list[Expression | F]:
    """The ordering keys, most urgent first: ``order_by(*urgency_keys(today=...))``.

    ``today`` is a date or an expression (an alert's own day); ``due`` and
    ``priority`` name the fields of the due date and the priority (through a
    relation: ``"tache__priorite"``), or ``priority`` is the rank itself (an
    expression: ``task_priority_rank()``); ``tie`` is the last key (the id).
    """
    late = Q(**{f"{due}__lt": today})
    urgency_class = Case(
        When(**{f"{due}__isnull": True}, then=Value(NO_DUE_DATE)),
        When(late, then=Value(LATE)),
        When(**{due: today}, then=Value(TODAY)),
        default=Value(LATER),
        output_field=IntegerField(),
    )
    far = Value(FAR, output_field=DateField())
    lateness = Case(When(late, then=F(due)), default=far, output_field=DateField())
    rank = priority_rank(priority) if isinstance(priority, str) else priority
    keys = [urgency_class, lateness, rank, Coalesce(F(due), far)]
    return [*keys, F("id") if tie is None else tie]


def alert_urgency_keys(*, priority: str | Expression = "tache__priorite") -> list[Expression | F]:
    """The keys for notifications: an alert against the day it was raised for
    (an event, which has none, against the due date itself: "due today"); the
    newest first among equals (the id, negated to keep every key ascending)."""
    day = Coalesce(F("date_alerte"), F("date_echeance"))
    return urgency_keys(today=day, priority=priority, tie=Value(0) - F("id"))


def task_priority_rank() -> Coalesce:
    """A notification's task's priority rank, looked up per notification by its
    primary key: for ordering a few thousand alerts among a million tasks, where
    a join would scan the whole task table. No task (a phase's alert): last."""
    rank = Tache.objects.filter(pk=OuterRef("tache_id")).order_by().values(r=priority_rank())
    return Coalesce(Subquery(rank[:1]), Value(len(_PRIORITY_ORDER)))
