"""The daily summary: one email per chef de projet about their active projects.

A fixed number of queries whatever the number of leads and projects: the leads,
their projects, the tasks worth mentioning, one aggregate for the health figures,
then one insert-or-ignore of the outbox rows; grouping happens in Python. "At
most once per lead per day" is the unique ``dedup_key`` ``summary:<id>:<date>``:
a second run, a retry or a concurrent worker inserts nothing.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.models import OutboundEmail, Projet, Tache, User
from core.selectors.history import slip_count
from core.selectors.projects import done_this_week
from core.services import outbox
from core.services.email_rendering import object_url, recipient_language, render_email

logger = logging.getLogger(__name__)

OPEN = Tache.OPEN_STATUTS
BLOQUEE = Tache.Statut.BLOQUEE


@dataclass(frozen=True)
class TaskLine:
    id: int
    nom: str
    url: str
    date_echeance: datetime.date | None
    days: int  # days late (late), days left (soon), 0 otherwise
    responsable: str
    blocked: bool
    kind: str  # "late" | "due_today" | "soon" | "blocked"
    slips: int = 0  # times the due date was pushed back

    @property
    def slipped(self) -> str:
        return ngettext(
            "due date pushed back %(count)d time",
            "due date pushed back %(count)d times",
            self.slips,
        ) % {"count": self.slips}

    # Properties, not stored text: templates evaluate them inside the recipient's
    # language, and the text and HTML parts share the same sentences.
    @property
    def when(self) -> str:
        date = (
            formats.date_format(self.date_echeance, "SHORT_DATE_FORMAT")
            if self.date_echeance
            else ""
        )
        values = {"days": self.days, "date": date}
        if self.kind == "late":
            text = ngettext(
                "%(days)d day late (due %(date)s)", "%(days)d days late (due %(date)s)", self.days
            )
        elif self.kind == "due_today":
            text = _("due today")
        elif self.kind == "soon":
            text = ngettext(
                "due in %(days)d day (%(date)s)", "due in %(days)d days (%(date)s)", self.days
            )
        else:
            text = _("blocked, due %(date)s") if date else _("blocked, no due date")
        return text % values

    @property
    def who(self) -> str:
        return self.responsable or _("unassigned")


@dataclass
class ProjectSummary:
    id: int
    nom: str
    code: str
    url: str
    late: list[TaskLine] = field(default_factory=list)
    due_today: list[TaskLine] = field(default_factory=list)
    soon: list[TaskLine] = field(default_factory=list)
    blocked: list[TaskLine] = field(default_factory=list)
    open_count: int = 0
    late_count: int = 0
    done_this_week: int = 0

    @property
    def health(self) -> str:
        return _("%(open)d open · %(late)d late · %(done)d done this week") % {
            "open": self.open_count,
            "late": self.late_count,
            "done": self.done_this_week,
        }

    @property
    def has_news(self) -> bool:
        return bool(self.late or self.due_today or self.soon or self.blocked)

    def urgency(self) -> tuple[int, int, int, int, str]:
        return (
            -len(self.late),
            -len(self.due_today),
            -len(self.soon),
            -len(self.blocked),
            self.nom,
        )


@dataclass
class SummaryResult:
    today: datetime.date
    dry_run: bool = False
    leads: int = 0
    queued: int = 0
    already_queued: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (user id, reason)
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        reasons: dict[str, int] = defaultdict(int)
        for _user_id, reason in self.skipped:
            reasons[reason] += 1
        return {
            "date": self.today.isoformat(),
            "dry_run": self.dry_run,
            "leads": self.leads,
            "queued": self.queued,
            "already_queued": self.already_queued,
            "skipped": dict(reasons),
            "duration_s": round(self.duration_s, 3),
        }


def send_daily_summary(
    *,
    today: datetime.date | None = None,
    dry_run: bool = False,
    lead_ids: Iterable[int] | None = None,
) -> SummaryResult:
    """Queue today's summary for every lead (or for ``lead_ids``, one chunk of a
    run split across workers); return what was queued and who was skipped why."""
    started = time.monotonic()
    today = today or timezone.localdate()
    result = SummaryResult(today=today, dry_run=dry_run)
    leads = _eligible_leads(lead_ids=lead_ids, result=result)
    projects = _project_summaries(lead_ids=list(leads), today=today)
    keys = {lead_id: summary_key(lead_id, today) for lead_id in leads}
    already = set(
        OutboundEmail.objects.filter(dedup_key__in=keys.values()).values_list(
            "dedup_key", flat=True
        )
    )  # only to skip rendering and to report; the unique key is the guarantee
    rows: list[OutboundEmail] = []
    for lead_id, lead in leads.items():
        lead_projects = sorted(projects.get(lead_id, []), key=ProjectSummary.urgency)
        if not any(p.has_news for p in lead_projects):
            _skip(result, lead, "nothing_to_report")
        elif keys[lead_id] in already:
            result.already_queued += 1
        else:
            rows.append(_summary_row(lead, lead_projects, today=today, key=keys[lead_id]))
    result.queued = len(rows)
    if rows and not dry_run:
        with transaction.atomic():
            outbox.enqueue_many(rows)
    result.duration_s = time.monotonic() - started
    return result


def summary_key(lead_id: int, today: datetime.date) -> str:
    return f"summary:{lead_id}:{today.isoformat()}"


def _eligible_leads(*, lead_ids: Iterable[int] | None, result: SummaryResult) -> dict[int, User]:
    leads = User.objects.filter(
        is_active=True, projets_diriges__statut__in=Projet.ACTIVE_STATUTS
    ).distinct()
    if lead_ids is not None:
        leads = leads.filter(id__in=list(lead_ids))
    eligible: dict[int, User] = {}
    for lead in leads.order_by("id"):
        result.leads += 1
        if not lead.email:
            _skip(result, lead, "no_email")
        elif not lead.wants_summary_emails:
            _skip(result, lead, "opted_out")
        else:
            eligible[lead.id] = lead
    return eligible


def _skip(result: SummaryResult, lead: User, reason: str) -> None:
    result.skipped.append((lead.id, reason))
    logger.info("Daily summary for %s (id %s) not sent: %s", lead.username, lead.id, reason)


def _project_summaries(
    *, lead_ids: list[int], today: datetime.date
) -> dict[int, list[ProjectSummary]]:
    """Every active project of ``lead_ids`` with its lines and health, by lead id."""
    if not lead_ids:
        return {}
    projects = {
        row["id"]: (
            row["chef_de_projet_id"],
            ProjectSummary(
                id=row["id"],
                nom=row["nom"],
                code=row["code"],
                url=object_url("core:project_detail", row["id"]),
            ),
        )
        for row in Projet.objects.filter(
            chef_de_projet_id__in=lead_ids, statut__in=Projet.ACTIVE_STATUTS
        ).values("id", "nom", "code", "chef_de_projet_id")
    }
    for projet_id, line, bucket in _task_lines(lead_ids=lead_ids, today=today):
        getattr(projects[projet_id][1], bucket).append(line)
    for row in _health(lead_ids=lead_ids, today=today):
        summary = projects[row["projet_id"]][1]
        summary.open_count = row["open_count"]
        summary.late_count = row["late_count"]
        summary.done_this_week = row["done_count"]
    by_lead: dict[int, list[ProjectSummary]] = defaultdict(list)
    for lead_id, summary in projects.values():
        by_lead[lead_id].append(summary)
    return by_lead


def _lead_tasks(lead_ids: list[int]) -> QuerySet[Tache]:
    return Tache.objects.filter(
        projet__chef_de_projet_id__in=lead_ids, projet__statut__in=Projet.ACTIVE_STATUTS
    )


def _task_lines(
    *, lead_ids: list[int], today: datetime.date
) -> Iterable[tuple[int, TaskLine, str]]:
    """(project id, line, bucket) for each open task late, due soon or blocked."""
    horizon = today + datetime.timedelta(days=settings.SUMMARY_LOOKAHEAD_DAYS)
    rows = (
        _lead_tasks(lead_ids)
        .filter(statut__in=OPEN)
        .filter(Q(date_echeance__lte=horizon) | Q(statut=BLOQUEE))
        .annotate(slips=slip_count())
        .order_by("date_echeance", "nom", "id")
        .values(
            "slips",
            "id",
            "nom",
            "projet_id",
            "statut",
            "date_echeance",
            "responsable__username",
            "responsable__first_name",
            "responsable__last_name",
        )
    )
    for row in rows:
        due: datetime.date | None = row["date_echeance"]
        bucket, days = _bucket(due, today=today, horizon=horizon)
        line = TaskLine(
            id=row["id"],
            nom=row["nom"],
            url=object_url("core:task_detail", row["id"]),
            date_echeance=due,
            days=days,
            responsable=_display_name(row),
            blocked=row["statut"] == BLOQUEE,
            kind=bucket,
            slips=row["slips"],
        )
        yield row["projet_id"], line, bucket


def _bucket(
    due: datetime.date | None, *, today: datetime.date, horizon: datetime.date
) -> tuple[str, int]:
    """Where a task goes: a blocked task with a near date is listed by its date."""
    if due is None or due > horizon:
        return "blocked", 0
    if due < today:
        return "late", (today - due).days
    if due == today:
        return "due_today", 0
    return "soon", (due - today).days


def _display_name(row: Mapping[str, Any]) -> str:
    full = f"{row['responsable__first_name'] or ''} {row['responsable__last_name'] or ''}"
    return full.strip() or row["responsable__username"] or ""


def _health(*, lead_ids: list[int], today: datetime.date) -> Iterable[Mapping[str, Any]]:
    """Open / late / done this week (since Monday) per project, in one aggregate."""
    return (
        _lead_tasks(lead_ids)
        .order_by()
        .values("projet_id")
        .annotate(
            open_count=Count("id", filter=Q(statut__in=OPEN)),
            late_count=Count("id", filter=Q(statut__in=OPEN, date_echeance__lt=today)),
            done_count=Count("id", filter=done_this_week(today=today)),
        )
    )


def _summary_row(
    lead: User, projects: list[ProjectSummary], *, today: datetime.date, key: str
) -> OutboundEmail:
    with_news = [p for p in projects if p.has_news]
    context = {
        "lead": lead,
        "today": today,
        "projects": with_news,
        "quiet_projects": [p for p in projects if not p.has_news],
        "project_names": ", ".join(p.nom for p in with_news),
        "lookahead_days": settings.SUMMARY_LOOKAHEAD_DAYS,
        "totals": {
            "late": sum(len(p.late) for p in with_news),
            "due_today": sum(len(p.due_today) for p in with_news),
            "soon": sum(len(p.soon) for p in with_news),
            "blocked": sum(len(p.blocked) for p in with_news),
        },
    }
    email = render_email("summary", context, language=recipient_language(lead))
    return outbox.new_row(email, recipient=lead, kind=OutboundEmail.Kind.SUMMARY, dedup_key=key)
