"""The deadline engine: which alerts are due today, created once and only once.

``create_deadline_alerts(today=...)`` is the one place the rules live; the
``check_task_deadlines`` command and Celery task only call it. The rules depend on
the number of days left only, so they are applied in Python to the handful of due
dates in the horizon (``_rule``), and the database applies them to every task in one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: a fixed number of queries whatever
the number of tasks, no task or alert row travelling to Python and back (the counts
per type are computed by the database). The unique key
``notification_alerte_unique_par_jour`` makes reruns, concurrent runs and
redelivered tasks harmless, one index probe per row.
"""

from __future__ import annotations

import datetime
import functools
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import get_language, ngettext, override
from django.utils.translation import gettext as _

from core.dates import long_date
from core.models import (
    Absence,
    MembreProjet,
    NotificationDefaults,
    NotificationTache,
    Projet,
    Tache,
    User,
)
from core.models.fields import MAX_ADVANCE_DAYS
from core.models.notifications import ALERT_TYPES
from core.services.alert_lock import alert_writes
from core.services.alert_rules import (
    POLICY_FIELDS,
    PROJECT,
    TASK,
    AlertPolicy,
    Days,
    PolicyKey,
    advance_horizon,
    alert_policy,
    joined,
    literals,
    piece_columns,
    pieces,
    rule_today,
    rules_cte,
    same_policy,
)
from core.services.escalation import create_escalations
from core.services.milestone_alerts import create_milestone_alerts
from core.working_days import working_calendar

Type = NotificationTache.Type
# What a run creates, counted per type.
RUN_TYPES = (*map(str, ALERT_TYPES), Type.ESCALADE.value)


@dataclass(frozen=True)
class SkippedRecipient:
    tache_id: int
    task_name: str
    user_id: int | None
    reason: str  # "no_owner" | "owner_without_access"


@dataclass
class DeadlineRunResult:
    today: datetime.date
    dry_run: bool = False
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RUN_TYPES, 0))
    # The first SKIPPED_LISTED skipped recipients, and how many there are in all.
    skipped: list[SkippedRecipient] = field(default_factory=list)
    skipped_count: int = 0
    tasks_scanned: int = 0
    duration_s: float = 0.0
    emails_queued: int = 0
    channel_messages_queued: int = 0
    working_day: bool = True  # False: a non-working day, when no alert is due
    # False: told to stop (the soft time limit) before every email was queued; the
    # day is left undone and the catch-up queues the rest (core.jobs.runs).
    complete: bool = True

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what the Celery task returns and JobRun stores)."""
        return {
            "date": self.today.isoformat(),
            "dry_run": self.dry_run,
            "working_day": self.working_day,
            "created": dict(self.created),
            "total_created": self.total_created,
            "tasks_scanned": self.tasks_scanned,
            "skipped": [
                {"tache_id": s.tache_id, "user_id": s.user_id, "reason": s.reason}
                for s in self.skipped
            ],
            "skipped_count": self.skipped_count,
            "duration_s": round(self.duration_s, 3),
            "emails_queued": self.emails_queued,
            "complete": self.complete,
            "channel_messages_queued": self.channel_messages_queued,
        }


def project_policy(projet: Projet) -> AlertPolicy:
    """The policy ``projet`` follows (its page shows it)."""
    key = tuple(getattr(projet, name) for name in POLICY_FIELDS)
    return alert_policy(key, NotificationDefaults.current())


@dataclass(frozen=True)
class _DayRule:
    """What the tasks due on ``due`` under the policy ``key`` raise today, with
    their texts as templates."""

    due: datetime.date
    key: str  # Projet.alerte_cle: the policy's columns as the database joins them
    alert_type: str
    to_lead: bool
    titre: tuple[str, ...]  # pieces (see alert_rules.pieces): the database fills in the names
    message: tuple[str, ...]


# A run lists this many skipped recipients (the log and the run's record stay
# readable) and counts the rest.
SKIPPED_LISTED = 100
# Rules per statement: each takes 14 parameters (PostgreSQL takes 65,535), and a
# year of daily late alerts under several policies is thousands of rules.
RULES_PER_STATEMENT = 1000

# Where the absent owner's name goes in the delegation sentence (_delegation_pieces):
# a marker like core.services.alert_rules', never met by a name.
OWNER = "\x05"


def create_deadline_alerts(
    *, today: datetime.date | None = None, dry_run: bool = False
) -> DeadlineRunResult:
    """Create every alert due on ``today`` (Europe/Paris by default); return counts.
    On a non-working day nothing is due: what falls on one comes the working day
    before (advance and due-day alerts) or after (late alerts)."""
    started = time.monotonic()
    today = today or timezone.localdate()
    result = DeadlineRunResult(today=today, dry_run=dry_run)
    defaults = NotificationDefaults.current()
    calendar = working_calendar(today, today + datetime.timedelta(days=MAX_ADVANCE_DAYS))
    result.working_day = calendar.is_working(today)
    if not result.working_day:
        result.duration_s = time.monotonic() - started
        return result
    horizon = advance_horizon(today, calendar)
    groups = _due_dates(until=horizon)
    if defaults.retard_en_jours_ouvres and groups and min(groups)[0] < calendar.start:
        calendar = working_calendar(min(groups)[0], horizon)
    days = Days(today, calendar, late_in_working_days=defaults.retard_en_jours_ouvres)
    rules = []
    for (due, key, columns), count in sorted(groups.items(), key=lambda group: group[0][:2]):
        if rule := _day_rule(due, key, alert_policy(columns, defaults), days):
            rules.append(rule)
            result.tasks_scanned += count
    for start in range(0, len(rules), RULES_PER_STATEMENT):
        sql = _AlertSql(rules[start : start + RULES_PER_STATEMENT], today=today)
        for kind, count in (sql.count_new() if dry_run else sql.insert()).items():
            result.created[kind] += count
        listed, count = sql.skipped()
        result.skipped = sorted([*result.skipped, *listed], key=lambda s: s.tache_id)
        result.skipped = result.skipped[:SKIPPED_LISTED]
        result.skipped_count += count
    result.created.update(
        create_milestone_alerts(today=today, calendar=calendar, defaults=defaults, dry_run=dry_run)
    )
    result.created[Type.ESCALADE] = create_escalations(
        today=today, calendar=calendar, defaults=defaults, dry_run=dry_run
    )
    result.duration_s = time.monotonic() - started
    return result


def _due_dates(*, until: datetime.date) -> dict[tuple[datetime.date, str, PolicyKey], int]:
    """Open tasks of active projects due by ``until``, counted by due date and
    project policy (its key and its columns; a handful of policies: the rows stay
    few)."""
    rows = (
        Tache.objects.alerting()
        .filter(date_echeance__isnull=False, date_echeance__lte=until)
        .values_list(
            "date_echeance", "projet__alerte_cle", *(f"projet__{name}" for name in POLICY_FIELDS)
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(due, key, tuple(columns)): n for due, key, *columns, n in rows if due is not None}


def _day_rule(due: datetime.date, key: str, policy: AlertPolicy, days: Days) -> _DayRule | None:
    rule = rule_today(due, policy, days)
    if rule is None:
        return None
    alert_type, to_lead, shown = rule
    with override(settings.LANGUAGE_CODE):
        titre, message = render_alert_text(
            alert_type,
            task_name=TASK,
            project_name=PROJECT,
            date_echeance=due,
            days_left=shown if due >= days.today else -shown,
            working_days=days.late_in_working_days,
        )
    return _DayRule(
        due, key, alert_type, to_lead, pieces(titre, slots=_SLOTS), pieces(message, slots=_SLOTS)
    )


def _rules_cte(rules: list[_DayRule]) -> tuple[str, list[Any]]:
    """``WITH rules (...) AS (VALUES ...)``: the day's rules as a table."""
    return rules_cte(
        _COLUMNS, [(r.due, r.key, r.alert_type, r.to_lead, *r.titre, *r.message) for r in rules]
    )


# The task's name and the project's, once each in a sentence.
_SLOTS = 2
_COLUMNS = [
    "kind",
    "to_lead",
    *piece_columns("ti", slots=_SLOTS),
    *piece_columns("me", slots=_SLOTS),
]


def _joined(column: str) -> str:
    return joined(column, slots=_SLOTS, names={"t": "t.nom", "p": "p.nom"})


class _AlertSql:
    """The alerts of the day as one SELECT, inserted, counted or explained.

    Recipients: the task's owner when they have access (current member, or the
    chef de projet), and the chef de projet for the rules that say so. An owner
    away today (an ``Absence`` covering it) has their alert go to the chef de
    projet instead, said in its message and in ``delegue_pour``: one row for the
    lead even when the rule sends them the alert anyway. An owner who leads the
    project keeps their alerts, away or not: there is nobody to hand them to.
    The owner's snooze (``Tache.report_alertes_jusqu_au``) silences their advance
    alerts only, delegated or not; due-today and late alerts, and the lead's,
    still come. Identifiers come from the models; every value is a bound parameter.
    """

    def __init__(self, rules: list[_DayRule], *, today: datetime.date) -> None:
        # Raw SQL: adapt dates as the ORM would (ISO text on SQLite).
        self.today = connection.ops.adapt_datefield_value(today)
        q = connection.ops.quote_name
        self.t, self.p = q(Tache._meta.db_table), q(Projet._meta.db_table)
        self.m, self.n = q(MembreProjet._meta.db_table), q(NotificationTache._meta.db_table)
        self.a, self.u = q(Absence._meta.db_table), q(User._meta.db_table)
        self.rules = rules
        self.rules_cte, self.rules_params = _rules_cte(rules)

    def _from(self) -> tuple[str, list[Any]]:
        # Tache.objects.alerting() in SQL (pinned by tests/services/
        # test_open_rule_agrees.py). The statuses are written as literals (code
        # constants, never input), so the planner can use the partial index
        # tache_open_due_idx, whose condition names them.
        sql = (
            f"FROM {self.t} t JOIN {self.p} p ON p.id = t.projet_id "
            f"JOIN rules r ON r.due = t.date_echeance AND {same_policy()} "
            f"WHERE t.statut IN {literals(Tache.OPEN_STATUTS)} "
            "AND t.date_echeance IS NOT NULL "
            f"AND p.statut IN {literals(Projet.ACTIVE_STATUTS)}"
        )
        return sql, []

    def _owner_has_access(self) -> tuple[str, list[Any]]:
        sql = (
            "(t.responsable_id = p.chef_de_projet_id OR EXISTS (SELECT 1 "
            f"FROM {self.m} m WHERE m.projet_id = t.projet_id "
            "AND m.utilisateur_id = t.responsable_id AND m.date_debut <= %s "
            "AND (m.date_fin IS NULL OR m.date_fin >= %s)))"
        )
        return sql, [self.today, self.today]

    def _owner_gets_it(self) -> tuple[str, list[Any]]:
        """The owner would get the rule's alert: they have access, and it is not
        an advance alert they snoozed until today or later."""
        access, access_params = self._owner_has_access()
        sql = (
            f"(t.responsable_id IS NOT NULL AND {access} AND NOT (r.kind = %s "
            "AND t.report_alertes_jusqu_au IS NOT NULL AND t.report_alertes_jusqu_au >= %s))"
        )
        return sql, [*access_params, Type.ALERTE_ECHEANCE.value, self.today]

    def _owner_away(self) -> tuple[str, list[Any]]:
        """The owner, who is not the chef de projet, is away today (served by
        absence_utilisateur_fin_idx)."""
        sql = (
            "(t.responsable_id <> p.chef_de_projet_id AND EXISTS (SELECT 1 "
            f"FROM {self.a} a WHERE a.utilisateur_id = t.responsable_id "
            "AND a.fin >= %s AND a.debut <= %s))"
        )
        return sql, [self.today, self.today]

    def _alerts(self) -> tuple[str, list[Any]]:
        """SELECT tache, recipient, type, titre, message, due, delegue_pour of
        every alert due."""
        base, base_params = self._from()
        gets, gets_params = self._owner_gets_it()
        away, away_params = self._owner_away()
        delegated = f"({gets} AND {away})"
        delegated_params = [*gets_params, *away_params]
        before, after = _delegation_pieces()
        columns = (
            "SELECT t.id AS tache_id, {user} AS user_id, r.kind AS kind, "
            f"substr({_joined('ti')}, 1, 255) AS titre, {_joined('me')}{{note}} AS message, "
            "t.date_echeance AS due, {on_behalf} AS delegue_pour_id "
        )
        owners = (
            columns.format(user="t.responsable_id", note="", on_behalf="NULL")
            + base
            + f" AND {gets} AND NOT {away}"
        )
        # The owner's name joined by the database, as get_full_name() or the username.
        full_name = "TRIM(o.first_name || ' ' || o.last_name)"
        owner_name = (
            f"(SELECT CASE WHEN {full_name} = '' THEN o.username ELSE {full_name} END "
            f"FROM {self.u} o WHERE o.id = t.responsable_id)"
        )
        note = f" || CASE WHEN {delegated} THEN %s || {owner_name} || %s ELSE '' END"
        leads = (
            columns.format(
                user="p.chef_de_projet_id",
                note=note,
                on_behalf=f"CASE WHEN {delegated} THEN t.responsable_id END",
            )
            + base
            + " AND (t.responsable_id IS NULL OR t.responsable_id <> p.chef_de_projet_id)"
            + f" AND (r.to_lead OR {delegated})"
        )
        sql = f"{owners} UNION ALL {leads}"
        params = [
            *base_params,
            *gets_params,
            *away_params,
            # the lead's: the note's condition and texts, then delegue_pour's condition
            *delegated_params,
            before,
            after,
            *delegated_params,
            *base_params,
            *delegated_params,
        ]
        return sql, params

    def _insert_sql(self, alerts: str, *, rules_cte: str = "") -> str:
        # The unique key arbitrates each row by one probe of its index, whatever
        # the planner believes of the table: a rerun stays linear (no anti-join,
        # which stale statistics could turn into a scan of the day per row).
        return (
            f"INSERT INTO {self.n} (tache_id, destinataire_id, type_notification, titre, "
            f"message, lue, date_creation, date_alerte, date_echeance, delegue_pour_id) "
            f"{rules_cte} SELECT a.tache_id, a.user_id, a.kind, a.titre, a.message, "
            "%s, %s, %s, a.due, a.delegue_pour_id "
            # "WHERE true": SQLite would read ON CONFLICT as a join's ON.
            f"FROM ({alerts}) a WHERE true ON CONFLICT DO NOTHING"
        )

    def insert(self) -> dict[str, int]:
        """Insert-or-ignore; per type, the rows this run really added (a concurrent
        run that inserted the same alert first wins it: it is not counted twice).
        The counts are computed by the database: no row travels back."""
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        values: list[Any] = [False, now, self.today]
        with transaction.atomic(), alert_writes(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                return self._insert_counting_in_sql(cursor, values)
            return self._insert_per_type(cursor, values)

    def _insert_counting_in_sql(self, cursor: Any, values: list[Any]) -> dict[str, int]:
        alerts, params = self._alerts()
        sql = (
            f"{self.rules_cte}, inserted AS ({self._insert_sql(alerts)} "
            "RETURNING type_notification) "
            "SELECT type_notification, COUNT(*) FROM inserted GROUP BY type_notification"
        )
        cursor.execute(sql, [*self.rules_params, *values, *params])
        return {kind: count for kind, count in cursor.fetchall()}

    def _insert_per_type(self, cursor: Any, values: list[Any]) -> dict[str, int]:
        """SQLite has no INSERT inside WITH: one insert per alert type (the rules
        of a type are due dates of their own), each counted by the driver (the
        statement starts with INSERT, the rules' WITH inside it)."""
        alerts, params = self._alerts()
        counts = {}
        for kind in dict.fromkeys(rule.alert_type for rule in self.rules):
            cte, cte_params = _rules_cte([r for r in self.rules if r.alert_type == kind])
            sql = self._insert_sql(alerts, rules_cte=cte)
            cursor.execute(sql, [*cte_params, *values, *params])
            counts[kind] = cursor.rowcount
        return counts

    def count_new(self) -> dict[str, int]:
        """Per type, the alerts an insert would add now (dry run)."""
        alerts, params = self._alerts()
        sql = (
            f"{self.rules_cte} SELECT a.kind, COUNT(*) FROM ({alerts}) a "
            f"WHERE NOT EXISTS (SELECT 1 FROM {self.n} n WHERE n.date_alerte = %s "
            "AND n.destinataire_id = a.user_id AND n.tache_id = a.tache_id "
            "AND n.type_notification = a.kind) GROUP BY a.kind"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.rules_params, *params, self.today])
            return {kind: count for kind, count in cursor.fetchall()}

    def skipped(self) -> tuple[list[SkippedRecipient], int]:
        """Tasks alerting today whose owner gets nothing (none, or no access): the
        first ``SKIPPED_LISTED`` by id, and how many there are in all."""
        base, base_params = self._from()
        access, access_params = self._owner_has_access()
        sql = (
            f"{self.rules_cte} SELECT t.id, t.nom, t.responsable_id, COUNT(*) OVER () "
            f"{base} AND (t.responsable_id IS NULL OR NOT {access}) ORDER BY t.id LIMIT %s"
        )
        params = [*self.rules_params, *base_params, *access_params, SKIPPED_LISTED]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        listed = [
            SkippedRecipient(
                tache_id=tache_id,
                task_name=nom,
                user_id=owner,
                reason="no_owner" if owner is None else "owner_without_access",
            )
            for tache_id, nom, owner, _total in rows
        ]
        return listed, rows[0][3] if rows else 0


@functools.lru_cache(maxsize=16)
def _delegation_pieces_in(language: str) -> tuple[str, str]:
    with override(language):
        sentence = _("You receive it in the absence of %(owner)s, the task's owner.")
    before, after = (" " + sentence % {"owner": OWNER}).split(OWNER)
    return before, after


def _delegation_pieces() -> tuple[str, str]:
    """The sentence a delegated alert adds to its message, cut around the owner's
    name (which the database puts in: it replaces nothing)."""
    return _delegation_pieces_in(settings.LANGUAGE_CODE)


def render_alert_text(
    alert_type: str,
    *,
    task_name: str,
    project_name: str,
    date_echeance: datetime.date,
    days_left: int,
    working_days: bool = False,
) -> tuple[str, str]:
    """Title and sentence of an alert, in the active language (``days_left``
    counted in working days when late and ``working_days``)."""
    language = get_language() or settings.LANGUAGE_CODE
    ahead = alert_type == Type.ALERTE_CRITIQUE and days_left > 0
    titre, message = _templates(alert_type, abs(days_left), language, ahead, working_days)
    context = {
        "tache": task_name,
        "projet": project_name,
        "date": _date_label(date_echeance, language),
        "days": abs(days_left),
    }
    return titre % context, message % context


# A run renders thousands of alerts from a handful of (type, days) and dates:
# translating and formatting each once per language keeps the run set-priced.
@functools.lru_cache(maxsize=256)
def _date_label(date: datetime.date, language: str) -> str:
    return long_date(date)


@functools.lru_cache(maxsize=256)
def _templates(
    alert_type: str, days: int, language: str, ahead: bool, working_days: bool
) -> tuple[str, str]:
    if alert_type == Type.ALERTE_ECHEANCE:
        titre = ngettext("Due in %(days)d day: %(tache)s", "Due in %(days)d days: %(tache)s", days)
        message = ngettext(
            'The task "%(tache)s" of project "%(projet)s" is due in %(days)d day, on %(date)s.',
            'The task "%(tache)s" of project "%(projet)s" is due in %(days)d days, on %(date)s.',
            days,
        )
    elif alert_type == Type.ALERTE_CRITIQUE and ahead:  # due on a non-working day
        titre = _("Due on %(date)s, a non-working day: %(tache)s")
        message = _(
            'The task "%(tache)s" of project "%(projet)s" is due on %(date)s, a non-working '
            "day: today is the last working day before it."
        )
    elif alert_type == Type.ALERTE_CRITIQUE:
        titre = _("Due today: %(tache)s")
        message = _('The task "%(tache)s" of project "%(projet)s" is due today, %(date)s.')
    elif working_days:
        titre = ngettext(
            "Late by %(days)d working day: %(tache)s",
            "Late by %(days)d working days: %(tache)s",
            days,
        )
        message = ngettext(
            'The task "%(tache)s" of project "%(projet)s" was due on %(date)s: '
            "it is %(days)d working day late.",
            'The task "%(tache)s" of project "%(projet)s" was due on %(date)s: '
            "it is %(days)d working days late.",
            days,
        )
    else:
        titre = ngettext(
            "Late by %(days)d day: %(tache)s", "Late by %(days)d days: %(tache)s", days
        )
        message = ngettext(
            'The task "%(tache)s" of project "%(projet)s" was due on %(date)s: '
            "it is %(days)d day late.",
            'The task "%(tache)s" of project "%(projet)s" was due on %(date)s: '
            "it is %(days)d days late.",
            days,
        )
    return titre, message
