"""What the deadline engines share: a project's alert policy, the rules table (which
alert a due date raises today, under the working-day calendar) and the pieces of
their SQL (the day's rules as a VALUES table, sentences joined with names).

The task engine (``core.services.deadlines``) and the phase and project engine
(``core.services.milestone_alerts``) apply the same ladder, the same due-day and
late rules and the same calendar: defined here once.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from core.models import NotificationDefaults, NotificationTache
from core.models.fields import MAX_ADVANCE_DAYS, ladder_days
from core.working_days import DAY, WorkingCalendar

Type = NotificationTache.Type


@dataclass(frozen=True)
class AlertPolicy:
    """A project's alert policy, its empty fields filled from NotificationDefaults."""

    days: tuple[int, ...]  # before the due date, most distant first
    lead_today: bool
    lead_late: bool
    repeat: int  # late alerts every N days


# Projet's policy columns, as the rules are keyed by them (None: the default).
POLICY_FIELDS = (
    "alerte_jours",
    "alerte_chef_aujourdhui",
    "alerte_chef_retard",
    "retard_repetition_jours",
)
PolicyKey = tuple[str | None, bool | None, bool | None, int | None]


def alert_policy(key: PolicyKey, defaults: NotificationDefaults) -> AlertPolicy:
    """The policy of a project whose columns are ``key``."""
    ladder, lead_today, lead_late, repeat = key
    return AlertPolicy(
        days=ladder_days(defaults.alerte_jours if ladder is None else ladder),
        lead_today=defaults.alerte_chef_aujourdhui if lead_today is None else lead_today,
        lead_late=defaults.alerte_chef_retard if lead_late is None else lead_late,
        repeat=repeat or defaults.retard_repetition_jours,
    )


def advance_horizon(today: datetime.date, calendar: WorkingCalendar) -> datetime.date:
    """The furthest due date an advance alert can reach today: the days up to the
    next working day are non-working, their alerts come today."""
    return calendar.next_working(today + DAY) - DAY + datetime.timedelta(days=MAX_ADVANCE_DAYS)


@dataclass(frozen=True)
class Days:
    """Today and its calendar, as the rules ask them."""

    today: datetime.date
    calendar: WorkingCalendar
    late_in_working_days: bool

    @functools.cached_property
    def last_worked(self) -> datetime.date:
        """The working day before today: late alerts due since then come today."""
        return self.calendar.previous_working(self.today - DAY)

    def comes_today(self, natural: datetime.date) -> bool:
        """Whether an alert due on ``natural`` (today or later) comes today: on
        that day, or the last working day before it."""
        return self.calendar.previous_working(natural) == self.today

    def late_by(self, due: datetime.date) -> int:
        if self.late_in_working_days:
            return self.calendar.working_days_between(due, self.today)
        return (self.today - due).days


def rule_today(due: datetime.date, policy: AlertPolicy, days: Days) -> tuple[str, bool, int] | None:
    """The rules table: the alert a deadline on ``due`` raises today under
    ``policy`` (type, whether the chef de projet gets a task's alert too, the days
    shown: left, or late), the most urgent when two come the same day."""
    today = days.today
    if due < today:
        late = days.late_by(due)
        if days.late_in_working_days:
            repeats = late >= 1 and late % policy.repeat == 0
        else:  # the repeat days since the last working day, today included
            first = max(days.last_worked, due) + DAY
            repeats = any(
                (day - due).days % policy.repeat == 0
                for day in (first + DAY * i for i in range((today - first).days + 1))
            )
        return (Type.ALERTE_RETARD.value, policy.lead_late, late) if repeats else None
    left = (due - today).days
    if days.comes_today(due):
        return Type.ALERTE_CRITIQUE.value, policy.lead_today, left
    if any(days.comes_today(due - DAY * before) for before in policy.days if before <= left):
        return Type.ALERTE_ECHEANCE.value, False, left
    return None


# Where the names (and numbers) go in a rendered template. They mark our own
# translated sentence before it is cut into pieces (``pieces``), and never meet a
# name: the database joins the pieces and the names, it replaces nothing, so no
# name can contain a marker that the query would expand.
TASK, PROJECT, PHASE, COUNT = "\x01", "\x02", "\x03", "\x04"
_SLOT_OF = {TASK: "t", PROJECT: "p", PHASE: "e", COUNT: "n"}
_MARKERS = re.compile(f"([{''.join(_SLOT_OF)}])")


def pieces(rendered: str, *, slots: int) -> tuple[str, ...]:
    """``rendered`` as text, slot, text, slot... (``2 * slots + 1`` pieces): a slot
    is "t" (the task's name), "p" (the project's), "e" (the phase's), "n" (a
    count) or "" (nothing), whatever the language's order."""
    parts = _MARKERS.split(rendered)
    texts, found = parts[0::2], [_SLOT_OF[marker] for marker in parts[1::2]]
    assert len(found) <= slots, rendered
    texts += [""] * (slots + 1 - len(texts))
    found += [""] * (slots - len(found))
    return (texts[0], *(piece for pair in zip(found, texts[1:], strict=True) for piece in pair))


def piece_columns(column: str, *, slots: int) -> list[str]:
    """The rule columns holding the pieces of ``column``: ti0, ti1...."""
    return [f"{column}{i}" for i in range(2 * slots + 1)]


def joined(column: str, *, slots: int, names: Mapping[str, str], table: str = "r") -> str:
    """SQL joining the pieces of ``column`` (``<table>.<column>0``...) and the
    names: ``names`` maps a slot ("t", "p"...) to its SQL expression."""
    sql = [f"{table}.{column}0"]
    cases = " ".join(f"WHEN '{slot}' THEN {expression}" for slot, expression in names.items())
    for i in range(1, 2 * slots, 2):
        sql.append(f"CASE {table}.{column}{i} {cases} ELSE '' END")
        sql.append(f"{table}.{column}{i + 1}")
    return "(" + " || ".join(sql) + ")"


def same_policy() -> str:
    """The rule's policy is the project's: one equality on ``Projet.alerte_cle``,
    which the planner estimates from its few distinct values (four nullable
    comparisons read to it as matching nothing, and it chose nested loops)."""
    return "r.policy = p.alerte_cle"


def literals(values: tuple[str, ...]) -> str:
    """An SQL list of code constants such as ``('A_FAIRE', 'EN_COURS')``."""
    assert all(value.isidentifier() for value in values)  # [A-Za-z_]: nothing to escape
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def rules_cte(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """``WITH rules (due, policy, <columns>) AS (VALUES ...)``: each row a due date
    (a date), a policy key (``Projet.alerte_cle``) and its values."""
    adapt_date = connection.ops.adapt_datefield_value
    keyed = "%s::date, %s" if connection.vendor == "postgresql" else "%s, %s"
    row = f"({keyed}" + ", %s" * len(columns) + ")"
    names = ", ".join(["due", "policy", *columns])
    sql = f"WITH rules ({names}) AS (VALUES " + ", ".join([row] * len(rows)) + ")"
    params = [adapt_date(r[0]) if i == 0 else r[i] for r in rows for i in range(len(r))]
    return sql, params
