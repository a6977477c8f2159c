"""Alert emails: one email per user listing their new alerts of the day.

Called by ``core.services.daily_check`` once the alerts are committed. The work
goes by chunks of recipients, one transaction each, so memory and transaction
length do not grow with the number of alerts:

1. the next ``chunk_size`` users (by id) with un-emailed alerts of ``today``;
2. one outbox row per user who may be emailed, inserted empty;
3. one UPDATE gives each of their un-emailed alerts its email (the claim: rows
   locked in id order on PostgreSQL, so a concurrent run waits, then finds them
   taken; SQLite serialises write transactions);
4. one read of what each email lists: its ``ALERTS_LISTED`` most urgent alerts and
   its total, computed by the database; the rest are one click away in the
   notification centre;
5. the rows are rendered and updated; an email that got no alert (a concurrent
   run took them) is deleted.

An email therefore says exactly what was marked as emailed by it, and the number
of queries depends on the number of chunks, not of alerts or users in a chunk.

Events (``core.services.task_events``: what others changed on one's tasks) go
the same way, by ``queue_event_emails``, every few minutes: one email per user
per run listing their un-emailed events, never one per change.

Only alerts of ``today`` are emailed: an older alert is no longer news (the
next day brings its own, more accurate alert for a task still late or due).
Alerts of users who opted out or have no address are left untouched, not
marked: no email was written, and the admin's outbox must not pretend one was.
If such a user opts in later the same day, the next run emails them.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.models import NotificationTache, OutboundEmail, User
from core.models.notifications import EVENT_TYPES, urgency_of
from core.paths import path_to
from core.selectors.alert_lines import ranked_lines
from core.selectors.urgency import alert_urgency_keys
from core.services import outbox
from core.services.email_rendering import (
    RenderedEmail,
    absolute_url,
    render_email,
    short_list,
    standard_headers,
)
from core.site_url import site_url

logger = logging.getLogger(__name__)

Type = NotificationTache.Type
# Recipients per transaction.
CHUNK_SIZE = 200
# Alerts listed in one email; the email gives the total and links to the rest.
ALERTS_LISTED = 20
# Events older than this when the batch runs are not emailed (see queue_event_emails).
EVENT_EMAIL_MAX_AGE = datetime.timedelta(hours=24)
USER_FIELDS = ("id", "username", "first_name", "last_name", "email", "is_active", "email_alerts")


@dataclass(frozen=True)
class _Batch:
    """What one kind of notification email takes, lists and renders."""

    kind: str  # OutboundEmail.Kind
    template: str  # core/templates/emails/<template>{_subject.txt,.txt,.html}
    pending: Q  # the notifications still to email
    order: Callable[[], list[Any]]  # how an email lists them
    today: datetime.date


def queue_alert_emails(*, today: datetime.date | None = None, chunk_size: int = CHUNK_SIZE) -> int:
    """Queue one outbox email per user with un-emailed alerts of ``today``."""
    today = today or timezone.localdate()
    pending = Q(date_alerte=today, outbound_email__isnull=True)
    return _queue(
        _Batch(OutboundEmail.Kind.ALERTS, "alerts", pending, alert_urgency_keys, today), chunk_size
    )


def queue_event_emails(
    *, now: datetime.datetime | None = None, chunk_size: int = CHUNK_SIZE
) -> dict[str, int]:
    """Queue one outbox email per user with un-emailed events (what others changed
    on their tasks) of the last ``EVENT_EMAIL_MAX_AGE``: the periodic job
    "send-event-emails" runs it every few minutes, so a user gets at most one
    such email per run however many changes were made meanwhile. An older event
    is no longer news: it stays in the notification centre only."""
    now = now or timezone.now()
    pending = Q(
        date_alerte__isnull=True,
        outbound_email__isnull=True,
        type_notification__in=sorted(EVENT_TYPES),
        date_creation__gte=now - EVENT_EMAIL_MAX_AGE,
    )
    batch = _Batch(
        OutboundEmail.Kind.EVENTS, "events", pending, _oldest_first, timezone.localdate(now)
    )
    return {"queued": _queue(batch, chunk_size)}


def _oldest_first() -> list[Any]:
    return [F("date_creation").asc(), F("id").asc()]


def _queue(batch: _Batch, chunk_size: int) -> int:
    queued, after, more = 0, 0, True
    while more:
        with transaction.atomic():
            users = _next_recipients(batch, after=after, limit=chunk_size)
            if users:
                after = users[-1].id
                queued += _queue_chunk([user for user in users if _can_email(user)], batch)
            more = len(users) == chunk_size
    if queued:
        # One dispatch for the whole run, not one sender task per user.
        outbox.dispatch_sender(expected=queued)
    return queued


def _next_recipients(batch: _Batch, *, after: int, limit: int) -> list[User]:
    """The next users by id with notifications to email: for the alerts, a walk
    along the unique key, which starts with the day and the recipient (never
    along a user's whole history, whatever the planner's statistics); for the
    events, along the partial index of un-emailed events."""
    recipients = (
        NotificationTache.objects.filter(batch.pending, destinataire_id__gt=after)
        .order_by("destinataire_id")
        .values("destinataire_id")
        .distinct()[:limit]
    )
    users = User.objects.filter(id__in=recipients).only(*USER_FIELDS)
    return list(users.order_by("id"))


def _can_email(user: User) -> bool:
    if not user.is_active:
        reason = "inactive"
    elif not user.email:
        reason = "no_email"
    elif not user.wants_alert_emails:
        reason = "opted_out"
    else:
        return True
    logger.info("Alert email for %s (id %s) not queued: %s", user.username, user.id, reason)
    return False


def _queue_chunk(users: list[User], batch: _Batch) -> int:
    if not users:
        return 0
    rows = OutboundEmail.objects.bulk_create(
        OutboundEmail(
            kind=batch.kind,
            recipient=user,
            to_address=user.email,
            subject="",
            headers=standard_headers(),  # what render_email gives every email
        )
        for user in users
    )
    _claim_alerts(email_of={row.recipient_id: row.id for row in rows}, pending=batch.pending)
    listed, totals = _listed_alerts(email_ids=[row.id for row in rows], order=batch.order())
    filled = [
        (row.id, _render(row.recipient, listed[row.id], totals[row.id], batch=batch))
        for row in rows
        if totals.get(row.id) and row.recipient is not None
    ]
    _fill(filled)
    if len(filled) < len(rows):  # a concurrent run emailed these users' alerts first
        OutboundEmail.objects.filter(id__in=[r.id for r in rows if not totals.get(r.id)]).delete()
    return len(filled)


def _values(rows: list[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    """``(VALUES (...), ...) AS m``: columns ``m.column1``, ``m.column2``... on both
    PostgreSQL and SQLite."""
    row = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    return "(VALUES " + ", ".join([row] * len(rows)) + ") AS m", [v for r in rows for v in r]


def _claim_alerts(*, email_of: dict[int | None, int], pending: Q) -> None:
    """One UPDATE: each un-emailed alert of these users gets its user's email (a
    join on the chunk's (user, email) pairs, not a sub-query per alert)."""
    claimed = NotificationTache.objects.filter(pending, destinataire_id__in=list(email_of))
    if connection.vendor == "postgresql":
        # Locked in id order: two runs wait for each other instead of deadlocking.
        claimed = claimed.order_by("id").select_for_update()
    claimed_sql, claimed_params = claimed.values("id").query.sql_with_params()
    pairs, pairs_params = _values(list(email_of.items()))
    n = connection.ops.quote_name(NotificationTache._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # Identifiers from the models, every value a bound parameter.
            f"UPDATE {n} SET outbound_email_id = m.column2 FROM {pairs} "  # noqa: S608
            f"WHERE {n}.destinataire_id = m.column1 AND {n}.id IN ({claimed_sql})",
            [*pairs_params, *claimed_params],
        )


def _listed_alerts(
    *, email_ids: list[int], order: list[Any]
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, int]]:
    """Per email, its most urgent alerts (at most ``ALERTS_LISTED``) and its total."""
    return ranked_lines(
        NotificationTache.objects.filter(outbound_email_id__in=email_ids),
        partition="outbound_email_id",
        order=order,
        limit=ALERTS_LISTED,
    )


def _render(
    user: User, alerts: list[dict[str, Any]], total: int, *, batch: _Batch
) -> RenderedEmail:
    site = site_url()  # read once per email, not once per link

    def link(url_name: str, pk: int) -> str:
        return f"{site}{path_to(url_name, pk)}"

    lines = [
        {
            "type": alert["type_notification"],
            "urgency": urgency_of(
                alert["type_notification"], alert["date_alerte"], alert["date_echeance"]
            ),
            # Lazy: rendered in the recipient's language.
            "type_label": Type(alert["type_notification"]).label,
            "titre": alert["titre"],
            "message": alert["message"],
            "tache": alert["task"],
            "projet": alert["project"],
            "date_echeance": alert["date_echeance"],
            # The links, made here: a template tag per link costs more than the rest
            # of the email.
            **(
                {
                    "url": link("core:task_detail", alert["tache_id"]),
                    "finish_url": link("core:task_finish", alert["tache_id"]),
                    "block_url": link("core:task_block", alert["tache_id"]),
                    "unblock_url": link("core:task_unblock", alert["tache_id"]),
                }
                if alert["tache_id"] is not None
                else {"url": link("core:project_detail", alert["project_id"])}
            ),
            "tache_id": alert["tache_id"],  # the action links (templates), if a task
        }
        for alert in alerts
    ]
    context = {
        "user": user,
        "today": batch.today,
        "alerts": lines,
        "count": total,
        "more": total - len(lines),
        "notifications_url": absolute_url(reverse("core:notification_list")) + "?statut=unread",
        "project_names": short_list(line["projet"] for line in lines),
    }
    return render_email(batch.template, context)


def _fill(emails: list[tuple[int, RenderedEmail]]) -> None:
    """The rendered texts into their rows, in one UPDATE."""
    if not emails:
        return
    contents, params = _values(
        [(pk, email.subject, email.body_text, email.body_html) for pk, email in emails]
    )
    o = connection.ops.quote_name(OutboundEmail._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # Identifiers from the model, every value a bound parameter.
            f"UPDATE {o} SET subject = m.column2, body_text = m.column3, "  # noqa: S608
            "body_html = m.column4 "
            f"FROM {contents} WHERE {o}.id = m.column1",
            params,
        )
