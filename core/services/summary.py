"""The daily summary: one email per chef de projet about their active projects.

The leads go by chunks of ``CHUNK_SIZE`` (by id): per chunk a fixed number of
queries (the leads, their projects, the tasks worth mentioning, one aggregate for
the health figures, the already-queued keys) then the chunk's emails rendered and
inserted at once, so memory does not grow with the number of leads. "At most once
per lead per day" is the unique ``dedup_key`` ``summary:<id>:<date>``: a second
run, a retry or a concurrent worker inserts nothing.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import NotificationDefaults, OutboundEmail, Projet, User
from core.selectors.delivery import due_now
from core.services import outbox
from core.services.email_rendering import render_email, short_list
from core.services.summary_content import (
    SECTIONS,
    Escalations,
    ProjectSummary,
    escalations_for,
    project_summaries,
)
from core.working_days import is_working_day

logger = logging.getLogger(__name__)

# Leads per chunk.
CHUNK_SIZE = 200
LEAD_FIELDS = ("id", "username", "first_name", "last_name", "email", "email_summary")


@dataclass
class SummaryResult:
    today: datetime.date
    dry_run: bool = False
    leads: int = 0
    queued: int = 0
    already_queued: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (user id, reason)
    duration_s: float = 0.0
    working_day: bool = True  # False: a non-working day, when no summary is sent

    def as_dict(self) -> dict[str, Any]:
        reasons: dict[str, int] = defaultdict(int)
        for _user_id, reason in self.skipped:
            reasons[reason] += 1
        return {
            "date": self.today.isoformat(),
            "dry_run": self.dry_run,
            "working_day": self.working_day,
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
    chunk_size: int = CHUNK_SIZE,
    now: datetime.datetime | None = None,
    digests_only: bool = False,
) -> SummaryResult:
    """Queue today's summary for every lead whose time has come at ``now``
    (``core.selectors.delivery``; with ``digests_only``, only those who chose an
    hour), or for ``lead_ids``, one chunk of a run split across workers; return
    what was queued and who was skipped why. Nothing on a non-working day:
    Monday's summary says what the weekend left."""
    started = time.monotonic()
    today = today or timezone.localdate()
    result = SummaryResult(today=today, dry_run=dry_run, working_day=is_working_day(today))
    if not result.working_day:
        return result
    only = None if lead_ids is None else list(lead_ids)
    due = due_now(today=today, now=now, digests_only=digests_only, working_day=True)
    after, more = 0, True
    while more:
        leads = _next_leads(due, after=after, limit=chunk_size, only=only)
        if leads:
            after = leads[-1].id
            _summarise_chunk(leads, today=today, result=result)
        more = len(leads) == chunk_size
    result.duration_s = time.monotonic() - started
    return result


def summary_key(lead_id: int, today: datetime.date) -> str:
    return f"summary:{lead_id}:{today.isoformat()}"


def _next_leads(due: Q, *, after: int, limit: int, only: list[int] | None) -> list[User]:
    """The next active users by id who lead an active project, or who get the
    escalations (the group NotificationDefaults names)."""
    leading = Projet.objects.active().filter(chef_de_projet=OuterRef("pk"))
    recipients = Q(Exists(leading))
    if group_id := NotificationDefaults.current().escalade_groupe_id:
        members = User.groups.through.objects.filter(user_id=OuterRef("pk"), group_id=group_id)
        recipients |= Q(Exists(members))
    leads = User.objects.filter(recipients, due, is_active=True, id__gt=after)
    if only is not None:
        leads = leads.filter(id__in=only)
    return list(leads.only(*LEAD_FIELDS).order_by("id")[:limit])


def _summarise_chunk(leads: list[User], *, today: datetime.date, result: SummaryResult) -> None:
    result.leads += len(leads)
    eligible = {lead.id: lead for lead in leads if _may_email(lead, result)}
    projects = project_summaries(lead_ids=list(eligible), today=today)
    escalated = escalations_for(user_ids=eligible, today=today)
    keys = {lead_id: summary_key(lead_id, today) for lead_id in eligible}
    already = set(
        OutboundEmail.objects.filter(dedup_key__in=keys.values()).values_list(
            "dedup_key", flat=True
        )
    )  # only to skip rendering and to report; the unique key is the guarantee
    rows: list[OutboundEmail] = []
    for lead_id, lead in eligible.items():
        lead_projects = sorted(projects.get(lead_id, []), key=ProjectSummary.urgency)
        escalations = escalated.get(lead_id, Escalations())
        if not (escalations.total or any(p.has_news for p in lead_projects)):
            _skip(result, lead, "nothing_to_report")
        elif keys[lead_id] in already:
            result.already_queued += 1
        else:
            row = _summary_row(lead, lead_projects, escalations, today=today, key=keys[lead_id])
            rows.append(row)
    result.queued += len(rows)
    if rows and not result.dry_run:
        with transaction.atomic():
            outbox.enqueue_many(rows)


def _may_email(lead: User, result: SummaryResult) -> bool:
    if not lead.email:
        _skip(result, lead, "no_email")
    elif not lead.wants_summary_emails:
        _skip(result, lead, "opted_out")
    else:
        return True
    return False


def _skip(result: SummaryResult, lead: User, reason: str) -> None:
    result.skipped.append((lead.id, reason))
    logger.info("Daily summary for %s (id %s) not sent: %s", lead.username, lead.id, reason)


def _summary_row(
    lead: User,
    projects: list[ProjectSummary],
    escalations: Escalations,
    *,
    today: datetime.date,
    key: str,
) -> OutboundEmail:
    with_news = [p for p in projects if p.has_news]
    context = {
        "lead": lead,
        "today": today,
        "escalations": escalations,
        "projects": with_news,
        "quiet_projects": [p for p in projects if not p.has_news],
        "project_names": short_list(p.nom for p in with_news) or _("escalations"),
        "lookahead_days": settings.SUMMARY_LOOKAHEAD_DAYS,
        "totals": {s: sum(p.totals[s] for p in with_news) for s in SECTIONS},
    }
    email = render_email("summary", context)
    return outbox.new_row(email, recipient=lead, kind=OutboundEmail.Kind.SUMMARY, dedup_key=key)
