"""Escalation: a task late beyond its project's limit reaches the portfolio managers.

A task late by more than N working days (``Projet.escalade_jours_ouvres``, else
``NotificationDefaults.escalade_jours_ouvres``) raises an ``ESCALADE`` alert for
every active member of the group the administrators named
(``NotificationDefaults.escalade_groupe``): on the first working day past the
limit, then every five working days (once a week) while it stays open. Called by
the deadline engine in the same run; like it, the rules are computed per due date
and limit in Python and applied by one ``INSERT ... SELECT ... ON CONFLICT DO
NOTHING`` per chunk of rules, whatever the number of tasks or managers.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import ngettext, override

from core.dates import long_date
from core.models import NotificationDefaults, NotificationTache, Projet, Tache, User
from core.services.alert_lock import alert_writes
from core.services.alert_rules import PROJECT, TASK, joined, literals, piece_columns, pieces
from core.working_days import WorkingCalendar, working_calendar

ESCALADE = NotificationTache.Type.ESCALADE.value
# Working days between two escalations of the same task: a week.
EVERY = 5
RULES_PER_STATEMENT = 1000


@dataclass(frozen=True)
class _Rule:
    due: datetime.date
    limit: int | None  # the project's column (None: the default)
    titre: tuple[str, ...]
    message: tuple[str, ...]


def escalation_limit(projet: Projet) -> int | None:
    """The working days late beyond which ``projet``'s tasks are escalated;
    ``None`` when nobody is named to get the escalations."""
    defaults = NotificationDefaults.current()
    if defaults.escalade_groupe_id is None:
        return None
    return _limit(projet.escalade_jours_ouvres, defaults)


def _limit(column: int | None, defaults: NotificationDefaults) -> int:
    return column or defaults.escalade_jours_ouvres


def create_escalations(
    *,
    today: datetime.date,
    calendar: WorkingCalendar,
    defaults: NotificationDefaults,
    dry_run: bool = False,
) -> int:
    """The escalations due today (``today`` a working day); how many were created
    (or, ``dry_run``, would be)."""
    if defaults.escalade_groupe_id is None:
        return 0
    groups = (
        Tache.objects.alerting()
        .filter(date_echeance__lt=today)
        .values_list("date_echeance", "projet__escalade_jours_ouvres")
        .annotate(n=Count("id"))
        .order_by()
    )
    keys = [(due, limit) for due, limit, _n in groups]
    if not keys:
        return 0
    oldest = min(due for due, _limit in keys)
    if oldest < calendar.start:
        calendar = working_calendar(oldest, today)
    rules = []
    for due, limit in sorted(keys, key=lambda key: (key[0], key[1] or 0)):
        late = calendar.working_days_between(due, today)
        threshold = _limit(limit, defaults)
        if late > threshold and (late - threshold - 1) % EVERY == 0:
            rules.append(_rule(due, limit, late=late, threshold=threshold))
    created = 0
    for start in range(0, len(rules), RULES_PER_STATEMENT):
        chunk = rules[start : start + RULES_PER_STATEMENT]
        created += _apply(chunk, today=today, group_id=defaults.escalade_groupe_id, dry_run=dry_run)
    return created


def _rule(due: datetime.date, limit: int | None, *, late: int, threshold: int) -> _Rule:
    with override(settings.LANGUAGE_CODE):
        context = {"tache": TASK, "projet": PROJECT, "days": late, "limit": threshold}
        context["date"] = long_date(due)
        titre = ngettext(
            "Escalated: %(tache)s, %(days)d working day late",
            "Escalated: %(tache)s, %(days)d working days late",
            late,
        )
        message = ngettext(
            'The task "%(tache)s" of project "%(projet)s" was due on %(date)s: it is '
            "%(days)d working day late, beyond the limit of %(limit)d.",
            'The task "%(tache)s" of project "%(projet)s" was due on %(date)s: it is '
            "%(days)d working days late, beyond the limit of %(limit)d.",
            late,
        )
        return _Rule(
            due, limit, pieces(titre % context, slots=2), pieces(message % context, slots=2)
        )


def _joined(column: str) -> str:
    return joined(column, slots=2, names={"t": "t.nom", "p": "p.nom"})


def _apply(rules: list[_Rule], *, today: datetime.date, group_id: int, dry_run: bool) -> int:
    q = connection.ops.quote_name
    pg = connection.vendor == "postgresql"
    same = "IS NOT DISTINCT FROM" if pg else "IS"
    text_columns = [*piece_columns("ti", slots=2), *piece_columns("me", slots=2)]
    row = (
        ("(%s::date, %s::integer, " if pg else "(%s, %s, ")
        + ", ".join(["%s"] * len(text_columns))
        + ")"
    )
    cte = (
        f"WITH rules (due, lim, {', '.join(text_columns)}) AS (VALUES "
        + ", ".join([row] * len(rules))
        + ")"
    )
    adapt = connection.ops.adapt_datefield_value
    params: list[Any] = [
        value for r in rules for value in (adapt(r.due), r.limit, *r.titre, *r.message)
    ]
    members = q(User.groups.through._meta.db_table)
    select = (
        f"SELECT t.id AS tache_id, u.id AS user_id, substr({_joined('ti')}, 1, 255) AS titre, "
        f"{_joined('me')} AS message, t.date_echeance AS due "
        f"FROM {q(Tache._meta.db_table)} t JOIN {q(Projet._meta.db_table)} p ON p.id = t.projet_id "
        f"JOIN rules r ON r.due = t.date_echeance AND r.lim {same} p.escalade_jours_ouvres "
        f"JOIN {members} g ON g.group_id = %s "
        f"JOIN {q(User._meta.db_table)} u ON u.id = g.user_id AND u.is_active "
        f"WHERE t.statut IN {literals(Tache.OPEN_STATUTS)} "
        f"AND p.statut IN {literals(Projet.ACTIVE_STATUTS)}"
    )
    day = adapt(today)
    n = q(NotificationTache._meta.db_table)
    with transaction.atomic(), alert_writes(), connection.cursor() as cursor:
        if dry_run:
            cursor.execute(
                f"{cte} SELECT COUNT(*) FROM ({select}) a WHERE NOT EXISTS (SELECT 1 FROM {n} x "
                "WHERE x.date_alerte = %s AND x.destinataire_id = a.user_id "
                "AND x.tache_id = a.tache_id AND x.type_notification = %s)",
                [*params, group_id, day, ESCALADE],
            )
            return int(cursor.fetchone()[0])
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cursor.execute(
            f"INSERT INTO {n} (tache_id, destinataire_id, type_notification, titre, message, "
            f"lue, date_creation, date_alerte, date_echeance) {cte} "
            "SELECT a.tache_id, a.user_id, %s, a.titre, a.message, %s, %s, %s, a.due "
            f"FROM ({select}) a WHERE true ON CONFLICT DO NOTHING",
            [*params, ESCALADE, False, now, day, group_id],
        )
        return int(cursor.rowcount)
