"""What a daily summary says about a chunk of leads' projects, read in three queries.

Per project: its tasks worth mentioning by section (late, due today, due soon,
blocked), at most ``LINES_LISTED`` per section with the section's total, all
counted and ranked by the database; and its health figures. The summary email
names the first lines of each section and links to the project for the rest, so
neither the email nor the memory of a run grows with the number of tasks.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.models import HistoriqueTache, NotificationTache, Projet, Tache
from core.selectors.history import BLOCKING, last_entry, slip_count
from core.selectors.projects import done_this_week
from core.selectors.urgency import urgency_keys
from core.services.email_rendering import object_url

OPEN = Tache.open_filter()

BLOQUEE = Tache.Statut.BLOQUEE
SECTIONS = ("late", "due_today", "soon", "blocked")
# Tasks named per section of a project; the email gives the section's total.
LINES_LISTED = 10


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
    slip_reason: str = ""  # why it was last pushed back
    reason: str = ""  # what blocks it (a blocked task)
    blocked_days: int = 0  # for how many days it has been blocked
    overdue: bool = False  # its due date is past

    @property
    def slipped(self) -> str:
        text = ngettext(
            "due date pushed back %(count)d time",
            "due date pushed back %(count)d times",
            self.slips,
        ) % {"count": self.slips}
        if self.slip_reason:
            text += " (%s)" % self.slip_reason  # noqa: UP031
        return text

    @property
    def blocked_for(self) -> str:
        """ "bloquée depuis 3 jours" (or "depuis aujourd'hui")."""
        if not self.blocked_days:
            return _("blocked since today")
        return ngettext(
            "blocked for %(days)d day", "blocked for %(days)d days", self.blocked_days
        ) % {"days": self.blocked_days}

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
        if self.kind == "late" or (self.blocked and self.overdue):
            text = ngettext(
                "%(days)d day late (due %(date)s)", "%(days)d days late (due %(date)s)", self.days
            )
        elif self.kind == "due_today":
            text = _("due today")
        elif self.kind == "soon":
            text = ngettext(
                "due in %(days)d day (%(date)s)", "due in %(days)d days (%(date)s)", self.days
            )
        else:  # blocked: its age and reason are said beside (blocked_for, reason)
            text = _("due %(date)s") if date else _("no due date")
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
    # Per section, how many tasks it holds (the lists name the first ones).
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    open_count: int = 0
    late_count: int = 0
    done_this_week: int = 0

    @property
    def health(self) -> str:
        open_, late, done = self.open_count, self.late_count, self.done_this_week
        return " · ".join(
            (
                ngettext("%(n)d open", "%(n)d open", open_) % {"n": open_},
                ngettext("%(n)d late", "%(n)d late", late) % {"n": late},
                ngettext("%(n)d done this week", "%(n)d done this week", done) % {"n": done},
            )
        )

    @property
    def has_news(self) -> bool:
        return any(self.totals.values())

    @property
    def unlisted(self) -> dict[str, int]:
        """Per section, the tasks the email does not name."""
        return {s: self.totals[s] - len(getattr(self, s)) for s in SECTIONS}

    def urgency(self) -> tuple[int, int, int, int, str]:
        late, due_today, soon, blocked = (self.totals[s] for s in SECTIONS)
        return (-late, -due_today, -soon, -blocked, self.nom)


def project_summaries(
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
        for row in Projet.objects.active()
        .filter(chef_de_projet_id__in=lead_ids)
        .values("id", "nom", "code", "chef_de_projet_id")
    }
    for projet_id, line, total in _task_lines(lead_ids=lead_ids, today=today):
        summary = projects[projet_id][1]
        getattr(summary, line.kind).append(line)
        summary.totals[line.kind] = total
    for row in _health(lead_ids=lead_ids, today=today):
        summary = projects[row["projet_id"]][1]
        summary.open_count = row["open_count"]
        summary.late_count = row["late_count"]
        summary.done_this_week = row["done_count"]
    by_lead: dict[int, list[ProjectSummary]] = defaultdict(list)
    for lead_id, summary in projects.values():
        by_lead[lead_id].append(summary)
    return by_lead


def _lead_tasks(lead_ids: list[int]) -> Any:
    return Tache.objects.in_active_projects().filter(projet__chef_de_projet_id__in=lead_ids)


def _section(*, today: datetime.date, horizon: datetime.date) -> Case:
    """Where a task goes: a blocked task in "blocked" whatever its due date (its
    reason waits for the lead), the others by their due date."""
    return Case(
        When(statut=BLOQUEE, then=Value("blocked")),
        When(date_echeance__lt=today, then=Value("late")),
        When(date_echeance=today, then=Value("due_today")),
        When(date_echeance__lte=horizon, then=Value("soon")),
        default=Value("blocked"),
        output_field=CharField(),
    )


def _task_lines(
    *, lead_ids: list[int], today: datetime.date
) -> Iterable[tuple[int, TaskLine, int]]:
    """(project id, line, its section's total) for the first tasks of each section."""
    horizon = today + datetime.timedelta(days=settings.SUMMARY_LOOKAHEAD_DAYS)
    per_section = [F("projet_id"), F("section")]
    rows = (
        _lead_tasks(lead_ids)
        .open()
        .filter(Q(date_echeance__lte=horizon) | Q(statut=BLOQUEE))
        .annotate(section=_section(today=today, horizon=horizon))
        .annotate(
            rank=Window(RowNumber(), partition_by=per_section, order_by=urgency_keys(today=today)),
            total=Window(Count("id"), partition_by=per_section),
        )
        .filter(rank__lte=LINES_LISTED)
        .annotate(
            slips=slip_count(),
            slip_reason=last_entry("motif", HistoriqueTache.SLIP),
            blocked_reason=last_entry("motif", BLOCKING),
            blocked_at=last_entry("date", BLOCKING),
        )
        .order_by("projet_id", "section", "rank")
        .values(
            "id",
            "nom",
            "projet_id",
            "statut",
            "date_echeance",
            "section",
            "total",
            "slips",
            "slip_reason",
            "blocked_reason",
            "blocked_at",
            "responsable__username",
            "responsable__first_name",
            "responsable__last_name",
        )
    )
    for row in rows:
        due: datetime.date | None = row["date_echeance"]
        line = TaskLine(
            id=row["id"],
            nom=row["nom"],
            url=object_url("core:task_detail", row["id"]),
            date_echeance=due,
            days=abs((due - today).days) if due else 0,
            responsable=_display_name(row),
            blocked=row["statut"] == BLOQUEE,
            kind=row["section"],
            slips=row["slips"],
            slip_reason=row["slip_reason"] or "",
            reason=row["blocked_reason"] or "",
            blocked_days=_days_since(row["blocked_at"], today=today),
            overdue=due is not None and due < today,
        )
        yield row["projet_id"], line, row["total"]


def _days_since(moment: datetime.datetime | None, *, today: datetime.date) -> int:
    return (today - timezone.localdate(moment)).days if moment else 0


def _display_name(row: dict[str, Any]) -> str:
    full = f"{row['responsable__first_name'] or ''} {row['responsable__last_name'] or ''}"
    return full.strip() or row["responsable__username"] or ""


def _health(*, lead_ids: list[int], today: datetime.date) -> Iterable[dict[str, Any]]:
    """Open / late / done this week (since Monday) per project, in one aggregate."""
    return (
        _lead_tasks(lead_ids)
        .order_by()
        .values("projet_id")
        .annotate(
            open_count=Count("id", filter=OPEN),
            late_count=Count("id", filter=OPEN & Q(date_echeance__lt=today)),
            done_count=Count("id", filter=done_this_week(today=today)),
        )
    )


@dataclass(frozen=True)
class EscalationLine:
    titre: str
    projet: str
    url: str


@dataclass
class Escalations:
    """A portfolio manager's escalations of the day (core.services.escalation):
    the first ``LINES_LISTED`` by due date, and how many in all."""

    lines: list[EscalationLine] = field(default_factory=list)
    total: int = 0

    @property
    def unlisted(self) -> int:
        return self.total - len(self.lines)


def escalations_for(*, user_ids: Iterable[int], today: datetime.date) -> dict[int, Escalations]:
    """Each user's escalations of ``today``, ranked and counted by the database
    (one query for the chunk)."""
    rows = (
        NotificationTache.objects.filter(
            type_notification=NotificationTache.Type.ESCALADE,
            date_alerte=today,
            destinataire_id__in=list(user_ids),
        )
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("destinataire_id")],
                order_by=[F("date_echeance").asc(), F("id").asc()],
            ),
            total=Window(Count("id"), partition_by=[F("destinataire_id")]),
        )
        .filter(rank__lte=LINES_LISTED)
        .order_by("destinataire_id", "rank")
        .values("destinataire_id", "titre", "tache_id", "tache__projet__nom", "total")
    )
    found: dict[int, Escalations] = defaultdict(Escalations)
    for row in rows:
        escalations = found[row["destinataire_id"]]
        escalations.total = row["total"]
        escalations.lines.append(
            EscalationLine(
                titre=row["titre"],
                projet=row["tache__projet__nom"],
                url=object_url("core:task_detail", row["tache_id"]),
            )
        )
    return dict(found)
