"""The deadline engine: which alerts are due today, created once and only once.

``create_deadline_alerts(today=...)`` is the one place the rules live; the
``check_task_deadlines`` command and Celery task only call it. It runs a fixed
number of queries whatever the number of tasks (one read of the candidate tasks,
one read of today's existing alerts, one insert) and relies on the unique key
``notification_alerte_unique_par_jour`` with insert-or-ignore, so reruns,
concurrent runs and redelivered tasks never duplicate an alert.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from core.models import NotificationTache, Projet, Tache
from core.services.access import member_exists

Type = NotificationTache.Type
AlertKey = tuple[int, int, str]  # (tache_id, destinataire_id, type_notification)


@dataclass(frozen=True)
class SkippedRecipient:
    tache_id: int
    tache_nom: str
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
    projet_nom: str
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
    if not dry_run:
        _insert(new_keys, wanted=wanted, today=today)
    for _tache_id, _user_id, type_notification in new_keys:
        result.created[type_notification] += 1
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
            responsable_is_member=member_exists(
                user_ref=OuterRef("responsable_id"), projet_ref=OuterRef("projet_id"), today=today
            )
        )
        .values_list(
            "id",
            "nom",
            "projet__nom",
            "date_echeance",
            "responsable_id",
            "projet__chef_de_projet_id",
            "responsable_is_member",
        )
        .order_by("id")
    )
    return [
        _Candidate(
            id=id_,
            nom=nom,
            projet_nom=projet_nom,
            date_echeance=due,  # type: ignore[arg-type]  # filtered: never NULL
            responsable_id=owner,
            chef_id=chef,
            responsable_has_access=bool(is_member) or owner == chef,
        )
        for id_, nom, projet_nom, due, owner, chef, is_member in rows
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
) -> None:
    """Insert-or-ignore against the unique key: safe against any concurrent run."""
    with override(settings.LANGUAGE_CODE):
        rows = [_notification(key, wanted[key], today=today) for key in keys]
    with transaction.atomic():
        NotificationTache.objects.bulk_create(rows, ignore_conflicts=True)


def _notification(
    key: AlertKey, candidate: _Candidate, *, today: datetime.date
) -> NotificationTache:
    tache_id, user_id, alert_type = key
    titre, message = render_alert_text(
        alert_type,
        tache_nom=candidate.nom,
        projet_nom=candidate.projet_nom,
        date_echeance=candidate.date_echeance,
        days_left=candidate.days_left(today),
    )
    return NotificationTache(
        tache_id=tache_id,
        destinataire_id=user_id,
        type_notification=alert_type,
        titre=titre[:255],
        message=message,
        date_alerte=today,
        date_echeance=candidate.date_echeance,
    )


def render_alert_text(
    alert_type: str,
    *,
    tache_nom: str,
    projet_nom: str,
    date_echeance: datetime.date,
    days_left: int,
) -> tuple[str, str]:
    """Title and sentence of an alert, in the active language."""
    context = {
        "tache": tache_nom,
        "projet": projet_nom,
        "date": formats.date_format(date_echeance, "DATE_FORMAT"),
        "days": abs(days_left),
    }
    if alert_type == Type.ALERTE_ECHEANCE:
        titre = ngettext(
            "Due in %(days)d day: %(tache)s", "Due in %(days)d days: %(tache)s", abs(days_left)
        )
        message = ngettext(
            'The task "%(tache)s" of project "%(projet)s" is due in %(days)d day, on %(date)s.',
            'The task "%(tache)s" of project "%(projet)s" is due in %(days)d days, on %(date)s.',
            abs(days_left),
        )
    elif alert_type == Type.ALERTE_CRITIQUE:
        titre = _("Due today: %(tache)s")
        message = _('The task "%(tache)s" of project "%(projet)s" is due today, %(date)s.')
    else:
        titre = ngettext(
            "Late by %(days)d day: %(tache)s", "Late by %(days)d days: %(tache)s", abs(days_left)
        )
        message = ngettext(
            'The task "%(tache)s" of project "%(projet)s" was due on %(date)s: '
            "it is %(days)d day late.",
            'The task "%(tache)s" of project "%(projet)s" was due on %(date)s: '
            "it is %(days)d days late.",
            abs(days_left),
        )
    return titre % context, message % context
