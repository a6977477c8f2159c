"""The catch-up digest: back from an absence, one email of what happened meanwhile.

On a user's first working day after an absence ends (``core.working_days``), the
daily check queues one email listing the alerts delegated for them during the
absence (``NotificationTache.delegue_pour``, dated within it) and their tasks
still open and late. The absences go by chunks of ``CHUNK_SIZE`` (by id), a
fixed number of queries each, so memory does not grow with the organisation.
"Once per absence" is the unique ``dedup_key`` ``absence-digest:<absence id>``: a
rerun, a retry or a concurrent worker inserts nothing. A user with nothing to
catch up on, or away again today, gets no email.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from core.models import Absence, NotificationTache, OutboundEmail, Tache
from core.services import outbox
from core.services.email_rendering import absolute_url, object_url, render_email
from core.working_days import DAY, working_calendar

CHUNK_SIZE = 200
# Lines of each list in one email; the email gives the totals.
LISTED = 20


def digest_key(absence_id: int) -> str:
    return f"absence-digest:{absence_id}"


def queue_absence_digests(
    *, today: datetime.date | None = None, chunk_size: int = CHUNK_SIZE
) -> int:
    """Queue the digest of every absence whose first working day after is
    ``today``; return how many were queued (none on a non-working day)."""
    today = today or timezone.localdate()
    calendar = working_calendar(today, today)
    if not calendar.is_working(today):
        return 0
    # Ended on the last working day or on the non-working days since.
    ended = (calendar.previous_working(today - DAY), today - DAY)
    queued, after, more = 0, 0, True
    while more:
        absences = list(_ending(ended, today=today).filter(id__gt=after)[:chunk_size])
        if absences:
            after = absences[-1].id
            queued += _queue_chunk(absences, today=today)
        more = len(absences) == chunk_size
    return queued


def _ending(ended: tuple[datetime.date, datetime.date], *, today: datetime.date) -> Any:
    """The absences that ended in ``ended``, of active users with an address
    who are back today, by id."""
    away_today = Absence.objects.filter(
        utilisateur=OuterRef("utilisateur"), debut__lte=today, fin__gte=today
    )
    return (
        Absence.objects.filter(
            fin__range=ended, utilisateur__is_active=True, utilisateur__email__gt=""
        )
        .exclude(Exists(away_today))
        .select_related("utilisateur")
        .order_by("id")
    )


def _queue_chunk(absences: list[Absence], *, today: datetime.date) -> int:
    wanted = [a for a in absences if a.utilisateur.wants_alert_emails]
    if not wanted:
        return 0
    keys = {a.id: digest_key(a.id) for a in wanted}
    already = set(
        OutboundEmail.objects.filter(dedup_key__in=keys.values()).values_list(
            "dedup_key", flat=True
        )
    )  # only to skip rendering; the unique key is the guarantee
    wanted = [a for a in wanted if keys[a.id] not in already]
    delegated, delegated_totals = _delegated_alerts([a.id for a in wanted])
    late, late_totals = _late_tasks([a.utilisateur_id for a in wanted], today=today)
    rows = [
        _digest_row(
            absence,
            today=today,
            alerts=delegated[absence.id],
            alerts_total=delegated_totals.get(absence.id, 0),
            tasks=late[absence.utilisateur_id],
            tasks_total=late_totals.get(absence.utilisateur_id, 0),
        )
        for absence in wanted
        if delegated_totals.get(absence.id) or late_totals.get(absence.utilisateur_id)
    ]
    if rows:
        with transaction.atomic():
            outbox.enqueue_many(rows)
    return len(rows)


def _ranked(queryset: QuerySet[Any], *, partition: str, order: list[Any]) -> QuerySet[Any]:
    """The first ``LISTED`` rows of each ``partition`` and the partition's total,
    computed by the database."""
    per = [F(partition)]
    return (
        queryset.annotate(
            rank=Window(RowNumber(), partition_by=per, order_by=order),
            total=Window(Count("id"), partition_by=per),
        )
        .filter(rank__lte=LISTED)
        .order_by(partition, "rank")
    )


def _delegated_alerts(
    absence_ids: list[int],
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, int]]:
    """Per absence, the alerts the leads got in the user's stead during it."""
    alerts = NotificationTache.objects.filter(
        delegue_pour__absences__id__in=absence_ids,
        date_alerte__gte=F("delegue_pour__absences__debut"),
        date_alerte__lte=F("delegue_pour__absences__fin"),
    ).annotate(absence_id=F("delegue_pour__absences__id"))
    rows = _ranked(
        alerts, partition="absence_id", order=[F("date_alerte").asc(), F("id").asc()]
    ).values(
        "absence_id",
        "total",
        "titre",
        "date_alerte",
        "tache_id",
        "type_notification",
        lead=F("destinataire__username"),
        lead_first=F("destinataire__first_name"),
        lead_last=F("destinataire__last_name"),
    )
    return _grouped(rows, "absence_id")


def _late_tasks(
    user_ids: list[int], *, today: datetime.date
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, int]]:
    """Per user, their open tasks of active projects past their due date."""
    tasks = Tache.objects.alerting().filter(responsable_id__in=user_ids, date_echeance__lt=today)
    rows = _ranked(
        tasks, partition="responsable_id", order=[F("date_echeance").asc(), F("id").asc()]
    ).values("responsable_id", "total", "id", "nom", "date_echeance", projet_nom=F("projet__nom"))
    return _grouped(rows, "responsable_id")


def _grouped(rows: Any, key: str) -> tuple[dict[int, list[dict[str, Any]]], dict[int, int]]:
    listed: dict[int, list[dict[str, Any]]] = defaultdict(list)
    totals: dict[int, int] = {}
    for row in rows:
        listed[row[key]].append(dict(row))
        totals[row[key]] = row["total"]
    return listed, totals


def _digest_row(
    absence: Absence,
    *,
    today: datetime.date,
    alerts: list[dict[str, Any]],
    alerts_total: int,
    tasks: list[dict[str, Any]],
    tasks_total: int,
) -> OutboundEmail:
    for alert in alerts:
        alert["type_label"] = NotificationTache.Type(alert["type_notification"]).label
        alert["lead_name"] = f"{alert['lead_first']} {alert['lead_last']}".strip() or alert["lead"]
        alert["url"] = object_url("core:task_detail", alert["tache_id"])
    for task in tasks:
        task["url"] = object_url("core:task_detail", task["id"])
    context = {
        "user": absence.utilisateur,
        "today": today,
        "absence": absence,
        "alerts": alerts,
        "alerts_total": alerts_total,
        "alerts_more": alerts_total - len(alerts),
        "tasks": tasks,
        "tasks_total": tasks_total,
        "tasks_more": tasks_total - len(tasks),
        "notifications_url": absolute_url(reverse("core:notification_list")),
    }
    email = render_email("absence_digest", context)
    return outbox.new_row(
        email,
        recipient=absence.utilisateur,
        kind=OutboundEmail.Kind.ALERTS,
        dedup_key=digest_key(absence.id),
    )
