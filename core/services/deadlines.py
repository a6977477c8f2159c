"""The deadline engine: which alerts are due today, created once and only once.

``create_deadline_alerts(today=...)`` is the one place the rules live; the
``check_task_deadlines`` command and Celery task only call it. It runs a fixed
number of queries whatever the number of tasks (one read of the candidate tasks,
one read of today's existing alerts, one insert per alert type) and relies on the
unique key
``notification_alerte_unique_par_jour`` with insert-or-ignore, so reruns,
concurrent runs and redelivered tasks never duplicate an alert.
"""

from __future__ import annotations

import datetime
import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef
from django.utils import formats, timezone
from django.utils.translation import get_language, ngettext, override
from django.utils.translation import gettext as _

from core.models import NotificationTache, Projet, Tache
from core.services.access import member_exists

Type = NotificationTache.Type
AlertKey = tuple[int, int, str]  # (tache_id, destinataire_id, type_notification)


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
    created: dict[str, int] = field(default_factory=lambda: {t.value: 0 for t in Type})
    skipped: list[SkippedRecipient] = field(default_factory=list)
    tasks_scanned: int = 0
    duration_s: float = 0.0
    emails_queued: int = 0

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what the Celery task returns and JobRun stores)."""
        return {
            "date": self.today.isoformat(),
            "dry_run": self.dry_run,
            "created": dict(self.created),
            "total_created": self.total_created,
            "tasks_scanned": self.tasks_scanned,
            "skipped": [
                {"tache_id": s.tache_id, "user_id": s.user_id, "reason": s.reason}
                for s in self.skipped
            ],
            "duration_s": round(self.duration_s, 3),
            "emails_queued": self.emails_queued,
        }


@dataclass(frozen=True)
class _Candidate:
    """One open task near or past its due date, as read by the single scan query."""

    id: int
    nom: str
    project_name: str
    date_echeance: datetime.date
    responsable_id: int | None
    chef_id: int
    responsable_has_access: bool

    def days_left(self, today: datetime.date) -> int:
        return (self.date_echeance - today).days


def create_deadline_alerts(
    *, today: datetime.date | None = None, dry_run: bool = False
) -> DeadlineRunResult:
    """Create every alert due on ``today`` (Europe/Paris by default); return counts."""
    started = time.monotonic()
    today = today or timezone.localdate()
    result = DeadlineRunResult(today=today, dry_run=dry_run)
    candidates = _scan(today=today)
    result.tasks_scanned = len(candidates)
    wanted: dict[AlertKey, _Candidate] = {}
    for candidate in candidates:
        for key in _alerts_for(candidate, today=today, skipped=result.skipped):
            wanted.setdefault(key, candidate)
    existing = _existing_keys(today=today)
    new_keys = [key for key in wanted if key not in existing]
    if dry_run:
        for _tache_id, _user_id, type_notification in new_keys:
            result.created[type_notification] += 1
    else:
        # What this run really inserted: a concurrent run may have won some rows.
        result.created.update(_insert(new_keys, wanted=wanted, today=today))
    result.duration_s = time.monotonic() - started
    return result


def _scan(*, today: datetime.date) -> list[_Candidate]:
    """Open tasks of active projects due within the alert horizon (one query)."""
    horizon = today + datetime.timedelta(days=max(settings.DEADLINE_ALERT_DAYS))
    rows = (
        Tache.objects.filter(
            statut__in=Tache.OPEN_STATUTS,
            projet__statut__in=Projet.ACTIVE_STATUTS,
            date_echeance__isnull=False,
            date_echeance__lte=horizon,
        )
        .annotate(
            owner_is_member=member_exists(
                user_ref=OuterRef("responsable_id"), project_ref=OuterRef("projet_id"), today=today
            )
        )
        .values_list(
            "id",
            "nom",
            "projet__nom",
            "date_echeance",
            "responsable_id",
            "projet__chef_de_projet_id",
            "owner_is_member",
        )
        .order_by("id")
    )
    return [
        _Candidate(
            id=id_,
            nom=nom,
            project_name=project_name,
            date_echeance=due,  # type: ignore[arg-type]  # filtered: never NULL
            responsable_id=owner,
            chef_id=chef,
            responsable_has_access=bool(is_member) or owner == chef,
        )
        for id_, nom, project_name, due, owner, chef, is_member in rows
    ]


def _alerts_for(
    candidate: _Candidate, *, today: datetime.date, skipped: list[SkippedRecipient]
) -> Iterator[AlertKey]:
    """The (task, recipient, type) keys the rules call for on ``today``."""
    days_left = candidate.days_left(today)
    if days_left > 0:
        if days_left not in settings.DEADLINE_ALERT_DAYS:
            return
        alert_type, recipients = Type.ALERTE_ECHEANCE, [candidate.responsable_id]
    elif days_left == 0:
        alert_type = Type.ALERTE_CRITIQUE
        recipients = [candidate.responsable_id, candidate.chef_id]
    else:
        if -days_left % settings.DEADLINE_LATE_REPEAT_DAYS:
            return
        alert_type = Type.ALERTE_RETARD
        recipients = [candidate.responsable_id, candidate.chef_id]
    for user_id in dict.fromkeys(recipients):
        if _can_receive(candidate, user_id=user_id, skipped=skipped):
            assert user_id is not None
            yield (candidate.id, user_id, alert_type.value)


def _can_receive(
    candidate: _Candidate, *, user_id: int | None, skipped: list[SkippedRecipient]
) -> bool:
    if user_id == candidate.chef_id:
        return True
    if user_id is None:
        skipped.append(SkippedRecipient(candidate.id, candidate.nom, None, "no_owner"))
        return False
    if not candidate.responsable_has_access:
        skipped.append(
            SkippedRecipient(candidate.id, candidate.nom, user_id, "owner_without_access")
        )
        return False
    return True


def _existing_keys(*, today: datetime.date) -> set[AlertKey]:
    """Today's alerts already in the database (for reporting, not for dedup)."""
    return set(
        NotificationTache.objects.filter(date_alerte=today).values_list(
            "tache_id", "destinataire_id", "type_notification"
        )
    )


def _insert(
    keys: list[AlertKey], *, wanted: dict[AlertKey, _Candidate], today: datetime.date
) -> dict[str, int]:
    """Insert-or-ignore against the unique key; return the rows really added, per type.

    One ``INSERT ... ON CONFLICT DO NOTHING`` per alert type for all its rows: no
    per-row model instance, and the driver's ``rowcount`` counts only the rows this
    run added, even when another run inserts the same alerts at the same moment
    (the loser waits on the unique index, then skips).
    """
    with override(settings.LANGUAGE_CODE):
        rows_by_type = _rows_by_type(keys, wanted=wanted, today=today)
    inserted: dict[str, int] = {}
    if not rows_by_type:
        return inserted
    with transaction.atomic(), connection.cursor() as cursor:
        for alert_type, rows in rows_by_type.items():
            _execute_insert(cursor, rows)
            inserted[alert_type] = cursor.rowcount
    return inserted


def _execute_insert(cursor: Any, rows: list[tuple[Any, ...]]) -> None:
    """One statement for all rows of a type; the driver's rowcount is what it added.

    PostgreSQL gets one ``INSERT ... SELECT FROM json_to_recordset(%s)``: one round
    trip and one JSON parameter whatever the number of rows (serialised in C, where
    per-column arrays cost more in the driver than the insert itself). SQLite,
    in-process, runs one prepared statement per row with ``executemany``, which has
    no 999-parameter limit to batch around.
    """
    if connection.vendor == "postgresql":
        _tache, _user, _kind, _titre, _message, lue, created, day, _due = rows[0]
        varying = [
            {"t": r[0], "u": r[1], "k": r[2], "ti": r[3], "m": r[4], "d": str(r[8])} for r in rows
        ]
        cursor.execute(_insert_sql(_RECORDSET), [lue, created, day, json.dumps(varying)])
    else:
        row_placeholder = "VALUES (" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
        cursor.executemany(_insert_sql(row_placeholder), rows)


# The varying columns as one JSON array of records, constants once.
_RECORDSET = (
    "SELECT r.t, r.u, r.k, r.ti, r.m, %s, %s, %s, r.d FROM json_to_recordset(%s::json) "
    "AS r (t bigint, u bigint, k varchar, ti varchar, m text, d date)"
)
_INSERT_FIELDS = (
    "tache",
    "destinataire",
    "type_notification",
    "titre",
    "message",
    "lue",
    "date_creation",
    "date_alerte",
    "date_echeance",
)


def _insert_sql(values: str) -> str:
    quote = connection.ops.quote_name
    meta = NotificationTache._meta
    column_of = {f.name: str(f.column) for f in meta.concrete_fields}
    columns = ", ".join(quote(column_of[name]) for name in _INSERT_FIELDS)
    # No conflict target: the unique key notification_alerte_unique_par_jour
    # is the only one these rows can hit (PostgreSQL and SQLite >= 3.24).
    return (
        # Identifiers come from the model, values are bound parameters.
        f"INSERT INTO {quote(meta.db_table)} ({columns}) {values} "  # noqa: S608
        "ON CONFLICT DO NOTHING"
    )


def _rows_by_type(
    keys: list[AlertKey], *, wanted: dict[AlertKey, _Candidate], today: datetime.date
) -> dict[str, list[tuple[Any, ...]]]:
    """Column values in ``_INSERT_FIELDS`` order, adapted for the database, per type."""
    adapt_date = connection.ops.adapt_datefield_value
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    day = adapt_date(today)
    # The owner and the lead of a task get the same text: render it once.
    texts: dict[tuple[int, str], tuple[str, str]] = {}
    rows_by_type: dict[str, list[tuple[Any, ...]]] = {}
    for key in keys:
        tache_id, user_id, alert_type = key
        candidate = wanted[key]
        text = texts.get((tache_id, alert_type))
        if text is None:
            text = texts[(tache_id, alert_type)] = _text(candidate, alert_type, today=today)
        titre, message = text
        due = adapt_date(candidate.date_echeance)
        row = (tache_id, user_id, alert_type, titre, message, False, now, day, due)
        rows_by_type.setdefault(alert_type, []).append(row)
    return rows_by_type


def _text(candidate: _Candidate, alert_type: str, *, today: datetime.date) -> tuple[str, str]:
    titre, message = render_alert_text(
        alert_type,
        task_name=candidate.nom,
        project_name=candidate.project_name,
        date_echeance=candidate.date_echeance,
        days_left=candidate.days_left(today),
    )
    return titre[:255], message


def render_alert_text(
    alert_type: str,
    *,
    task_name: str,
    project_name: str,
    date_echeance: datetime.date,
    days_left: int,
) -> tuple[str, str]:
    """Title and sentence of an alert, in the active language."""
    language = get_language() or settings.LANGUAGE_CODE
    titre, message = _templates(alert_type, abs(days_left), language)
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
    return formats.date_format(date, "DATE_FORMAT")


@functools.lru_cache(maxsize=256)
def _templates(alert_type: str, days: int, language: str) -> tuple[str, str]:
    if alert_type == Type.ALERTE_ECHEANCE:
        titre = ngettext("Due in %(days)d day: %(tache)s", "Due in %(days)d days: %(tache)s", days)
        message = ngettext(
            'The task "%(tache)s" of project "%(projet)s" is due in %(days)d day, on %(date)s.',
            'The task "%(tache)s" of project "%(projet)s" is due in %(days)d days, on %(date)s.',
            days,
        )
    elif alert_type == Type.ALERTE_CRITIQUE:
        titre = _("Due today: %(tache)s")
        message = _('The task "%(tache)s" of project "%(projet)s" is due today, %(date)s.')
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
