"""Phase and project deadlines: the planned end of a phase (``Etape.date_fin_prevue``)
or of a project (``Projet.date_fin_prevue``) that still has open tasks alerts the
project's lead, before it, on the day and while it is past.

The rules are the tasks' (``core.services.alert_rules``): the project's ladder
before the end, the end day itself, then the late repeat, under the working-day
calendar. Like the task engine, the rules are applied in Python to the handful of
(end date, policy) pairs in play and the database applies them to every phase or
project in one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` per kind of
subject; it also counts each subject's open tasks, which the sentence states. The
partial unique keys ``notification_etape_unique_par_jour`` and
``notification_projet_unique_par_jour`` make reruns and concurrent runs harmless.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Model
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy, override

from core.dates import long_date
from core.models import Etape, NotificationDefaults, NotificationTache, Projet, Tache
from core.services import alert_rules
from core.services.alert_lock import alert_writes
from core.working_days import WorkingCalendar, working_calendar

Type = NotificationTache.Type
# Rules per statement: each takes 26 parameters (SQLite takes 32,766).
RULES_PER_STATEMENT = 1000
# The phase's name, the project's and the number of open tasks, once each.
_SLOTS = 3
_COLUMNS = [
    *alert_rules.piece_columns("ti", slots=_SLOTS),
    *alert_rules.piece_columns("one", slots=_SLOTS),  # the message when one task is open
    *alert_rules.piece_columns("many", slots=_SLOTS),  # when several are
]


@dataclass(frozen=True)
class _Subject:
    """A kind of subject: a phase or a project, as the SQL reaches it."""

    alert_type: str
    model: type[Model]
    column: str  # NotificationTache's column naming the subject
    tables: str  # FROM: the subject "s" and its project "p"
    task_column: str  # Tache's column naming the subject


def _subjects() -> tuple[_Subject, _Subject]:
    q = connection.ops.quote_name
    e, p = q(Etape._meta.db_table), q(Projet._meta.db_table)
    return (
        _Subject(
            Type.ALERTE_ETAPE,
            Etape,
            "etape_id",
            f"{e} s JOIN {p} p ON p.id = s.projet_id",
            "etape_id",
        ),
        _Subject(
            Type.ALERTE_PROJET, Projet, "projet_id", f"{p} s JOIN {p} p ON p.id = s.id", "projet_id"
        ),
    )


def create_milestone_alerts(
    *,
    today: datetime.date,
    calendar: WorkingCalendar,
    defaults: NotificationDefaults,
    dry_run: bool = False,
) -> dict[str, int]:
    """Create the phase and project alerts due on ``today`` (a working day, which
    ``calendar`` covers); the alerts created (or that would be) per type."""
    horizon = alert_rules.advance_horizon(today, calendar)
    created = {}
    for subject in _subjects():
        groups = _end_dates(subject, until=horizon)
        if defaults.retard_en_jours_ouvres and groups and min(groups)[0] < calendar.start:
            calendar = working_calendar(min(groups)[0], horizon, defaults=defaults)
        days = alert_rules.Days(
            today, calendar, late_in_working_days=defaults.retard_en_jours_ouvres
        )
        rules = [
            rule
            for due, key, columns in sorted(groups, key=lambda group: group[:2])
            if (
                rule := _rule_row(
                    subject, due, key, alert_rules.alert_policy(columns, defaults), days
                )
            )
        ]
        created[subject.alert_type] = sum(
            _MilestoneSql(subject, rules[start : start + RULES_PER_STATEMENT], today=today).run(
                dry_run=dry_run
            )
            for start in range(0, len(rules), RULES_PER_STATEMENT)
        )
    return created


def _end_dates(
    subject: _Subject, *, until: datetime.date
) -> set[tuple[datetime.date, str, alert_rules.PolicyKey]]:
    """The (planned end, project policy key and columns) of the subjects with
    open tasks in active projects that end by ``until``: a handful of rows."""
    prefix = "projet__" if subject.model is Etape else ""
    rows = (
        subject.model._default_manager.filter(
            **{
                "date_fin_prevue__lte": until,
                f"{prefix}statut__in": Projet.ACTIVE_STATUTS,
                "taches__statut__in": Tache.OPEN_STATUTS,
            }
        )
        .values_list(
            "date_fin_prevue",
            prefix + "alerte_cle",
            *(prefix + name for name in alert_rules.POLICY_FIELDS),
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(due, key, tuple(columns)) for due, key, *columns, _n in rows if due is not None}


def _rule_row(
    subject: _Subject,
    due: datetime.date,
    key: str,
    policy: alert_rules.AlertPolicy,
    days: alert_rules.Days,
) -> tuple[Any, ...] | None:
    """A row of the rules table: the end date, the policy and the texts' pieces."""
    rule = alert_rules.rule_today(due, policy, days)
    if rule is None:
        return None
    kind, _to_lead, shown = rule
    with override(settings.LANGUAGE_CODE):
        texts = [
            render_milestone_text(
                subject.alert_type,
                kind,
                phase_name=alert_rules.PHASE,
                project_name=alert_rules.PROJECT,
                end=due,
                days=shown,
                working_days=days.late_in_working_days,
                ahead=due > days.today,
                open_tasks=open_tasks,
                count_text=alert_rules.COUNT,
            )
            # One task open, and several: the database picks by the count (one
            # plural form beyond 1, as French and English have).
            for open_tasks in (1, 2)
        ]
    (titre, one), (_titre, many) = texts
    return (
        due,
        key,
        *(p for text in (titre, one, many) for p in alert_rules.pieces(text, slots=_SLOTS)),
    )


class _MilestoneSql:
    """The day's alerts of one kind of subject as one SELECT, inserted or counted.
    Identifiers come from the models; every value is a bound parameter."""

    def __init__(self, subject: _Subject, rules: list[tuple[Any, ...]], *, today: datetime.date):
        self.subject = subject
        self.today = connection.ops.adapt_datefield_value(today)
        self.n = connection.ops.quote_name(NotificationTache._meta.db_table)
        self.cte, self.cte_params = alert_rules.rules_cte(_COLUMNS, rules)

    def _alerts(self) -> str:
        """SELECT subject_id, user_id, titre, message, due of every alert due: the
        open tasks counted per subject that matches a rule (an index probe each)."""
        s = self.subject
        t = connection.ops.quote_name(Tache._meta.db_table)
        open_statuts = alert_rules.literals(Tache.OPEN_STATUTS)
        active_statuts = alert_rules.literals(Projet.ACTIVE_STATUTS)
        matched = (
            "SELECT s.id AS subject_id, s.nom AS subject_name, p.nom AS project_name, "
            f"p.chef_de_projet_id AS user_id, r.*, (SELECT COUNT(*) FROM {t} t "
            f"WHERE t.{s.task_column} = s.id AND t.statut IN {open_statuts}) AS open_tasks "
            f"FROM {s.tables} JOIN rules r ON r.due = s.date_fin_prevue "
            f"AND {alert_rules.same_policy()} WHERE p.statut IN {active_statuts}"
        )
        names = {
            "e": "m.subject_name",
            "p": "m.project_name",
            "n": "CAST(m.open_tasks AS TEXT)",
        }
        titre, one, many = (
            alert_rules.joined(c, slots=_SLOTS, names=names, table="m")
            for c in ("ti", "one", "many")
        )
        return (
            f"SELECT m.subject_id, m.user_id, substr({titre}, 1, 255) AS titre, "
            f"CASE WHEN m.open_tasks = 1 THEN {one} ELSE {many} END AS message, m.due "
            f"FROM ({matched}) m WHERE m.open_tasks > 0"
        )

    def run(self, *, dry_run: bool) -> int:
        """The alerts this run adds (a concurrent run that inserted one first wins
        it: not counted twice), or with ``dry_run`` would add."""
        if dry_run:
            return self._count_new()
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        sql = (
            f"INSERT INTO {self.n} ({self.subject.column}, destinataire_id, type_notification, "
            "titre, message, lue, date_creation, date_alerte, date_echeance) "
            f"{self.cte} SELECT a.subject_id, a.user_id, %s, a.titre, a.message, %s, %s, %s, "
            # "WHERE true": SQLite would read ON CONFLICT as a join's ON.
            f"a.due FROM ({self._alerts()}) a WHERE true ON CONFLICT DO NOTHING"
        )
        params = [*self.cte_params, self.subject.alert_type, False, now, self.today]
        with transaction.atomic(), alert_writes(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def _count_new(self) -> int:
        sql = (
            f"{self.cte} SELECT COUNT(*) FROM ({self._alerts()}) a WHERE NOT EXISTS "
            f"(SELECT 1 FROM {self.n} n WHERE n.date_alerte = %s "
            f"AND n.destinataire_id = a.user_id AND n.{self.subject.column} = a.subject_id "
            "AND n.type_notification = %s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.cte_params, self.today, self.subject.alert_type])
            return int(cursor.fetchone()[0])


# The sentences, by subject and case; the plural follows "days". A late one says
# by how much in a sentence of its own (_LATE_BY).
_TEXTS: dict[tuple[str, str], tuple[Promise, Promise]] = {
    (Type.ALERTE_ETAPE, "soon"): (
        ngettext_lazy(
            "Phase ends in %(days)d day: %(etape)s",
            "Phase ends in %(days)d days: %(etape)s",
            "days",
        ),
        ngettext_lazy(
            'The phase "%(etape)s" of project "%(projet)s" ends in %(days)d day, on %(date)s.',
            'The phase "%(etape)s" of project "%(projet)s" ends in %(days)d days, on %(date)s.',
            "days",
        ),
    ),
    (Type.ALERTE_ETAPE, "ahead"): (
        gettext_lazy("Phase ends on %(date)s, a non-working day: %(etape)s"),
        gettext_lazy(
            'The phase "%(etape)s" of project "%(projet)s" ends on %(date)s, a non-working '
            "day: today is the last working day before it."
        ),
    ),
    (Type.ALERTE_ETAPE, "today"): (
        gettext_lazy("Phase ends today: %(etape)s"),
        gettext_lazy('The phase "%(etape)s" of project "%(projet)s" ends today, %(date)s.'),
    ),
    (Type.ALERTE_ETAPE, "late"): (
        gettext_lazy("Phase overdue: %(etape)s"),
        gettext_lazy('The phase "%(etape)s" of project "%(projet)s" was to end on %(date)s.'),
    ),
    (Type.ALERTE_PROJET, "soon"): (
        ngettext_lazy(
            "Project ends in %(days)d day: %(projet)s",
            "Project ends in %(days)d days: %(projet)s",
            "days",
        ),
        ngettext_lazy(
            'The project "%(projet)s" ends in %(days)d day, on %(date)s.',
            'The project "%(projet)s" ends in %(days)d days, on %(date)s.',
            "days",
        ),
    ),
    (Type.ALERTE_PROJET, "ahead"): (
        gettext_lazy("Project ends on %(date)s, a non-working day: %(projet)s"),
        gettext_lazy(
            'The project "%(projet)s" ends on %(date)s, a non-working day: today is the '
            "last working day before it."
        ),
    ),
    (Type.ALERTE_PROJET, "today"): (
        gettext_lazy("Project ends today: %(projet)s"),
        gettext_lazy('The project "%(projet)s" ends today, %(date)s.'),
    ),
    (Type.ALERTE_PROJET, "late"): (
        gettext_lazy("Project overdue: %(projet)s"),
        gettext_lazy('The project "%(projet)s" was to end on %(date)s.'),
    ),
}
# How late, in calendar or working days.
_LATE_BY = {
    False: ngettext_lazy("It is %(days)d day overdue.", "It is %(days)d days overdue.", "days"),
    True: ngettext_lazy(
        "It is %(days)d working day overdue.", "It is %(days)d working days overdue.", "days"
    ),
}
_CASE_OF: dict[str, str] = {
    Type.ALERTE_ECHEANCE: "soon",
    Type.ALERTE_CRITIQUE: "today",
    Type.ALERTE_RETARD: "late",
}


def render_milestone_text(
    alert_type: str,
    kind: str,
    *,
    phase_name: str,
    project_name: str,
    end: datetime.date,
    days: int,
    working_days: bool,
    ahead: bool,
    open_tasks: int,
    count_text: str | None = None,
) -> tuple[str, str]:
    """Title and sentence of a phase's or project's alert (``alert_type``) that
    the tasks' rules call ``kind`` (due soon, today, late), in the active
    language; ``days`` left or late, ``ahead``: the end is a non-working day
    after today. The sentence ends with how many tasks are open: ``open_tasks``,
    shown as ``count_text`` if given (the engine's marker, the database writing
    the number)."""
    case = _CASE_OF[kind]
    if case == "today" and ahead:
        case = "ahead"
    titre, message = _TEXTS[alert_type, case]
    context = {"etape": phase_name, "projet": project_name, "date": long_date(end), "days": days}
    sentences = [str(message % context)]
    if case == "late":
        sentences.append(str(_LATE_BY[working_days] % context))
    still_open = ngettext(
        "%(count)s task is still open.", "%(count)s tasks are still open.", open_tasks
    )
    sentences.append(still_open % {"count": str(open_tasks) if count_text is None else count_text})
    return str(titre % context), " ".join(sentences)
