"""Alert emails: one email per user listing their new alerts of the day.

Called by ``core.services.daily_check`` once the alerts are committed. The work
goes by chunks of recipients, one transaction each, so memory and transaction
length do not grow with the number of alerts. Per chunk:

1. the next ``chunk_size`` users (by id) whose time has come, each with their
   watermark: an email covers its recipient's alerts of the day with an id in
   ``(alerts_after, alerts_through]`` (``OutboundEmail``), so "not yet emailed" is
   "above the recipient's last email of the day";
2. one read of what each email lists: the ``ALERTS_LISTED`` most urgent alerts of
   each of them above their watermark, their total and the highest id, computed by
   the database (users with none get no email); the rest are one click away in
   the notification centre;
3. one insert of the rendered emails, each with its range.

The alerts themselves are never rewritten: at a million tasks, marking each alert
with its email cost as much as creating the alerts. Each chunk holds a lock that
the alerts' inserts share (``core.services.alert_lock``): a concurrent run waits
for the chunk, then finds the new watermark; an alert still being inserted when
the chunk starts is committed before it reads, so no id below a watermark can
appear later. The unique range start (``outbox_alert_range_once``) makes "never
twice" a database rule besides. The number of queries depends on the number of
chunks, not of alerts or users in a chunk.

Events (``core.services.task_events``: what others changed on one's tasks) are
made at any time by the pages: they are claimed row by row (``outbound_email``),
by ``queue_event_emails``, every few minutes: one email per user per run listing
their un-emailed events, never one per change.

Only alerts of ``today`` are emailed: an older alert is no longer news (the
next day brings its own, more accurate alert for a task still late or due).
Alerts of users who opted out or have no address are left out of any email: no
email was written, and the admin's outbox must not pretend one was. If such a
user opts in later the same day, the next run emails them.
"""

from __future__ import annotations

import datetime
import functools
import logging
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import Window
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
from django.utils import timezone

from core.bulk_copy import insert_rows
from core.models import NotificationTache, OutboundEmail, User
from core.models.notifications import EVENT_TYPES, urgency_of
from core.paths import path_to
from core.selectors.delivery import due_now
from core.selectors.urgency import alert_urgency_keys, task_priority_rank
from core.services import outbox
from core.services.alert_lock import lock_for_alert_emails
from core.services.email_rendering import (
    RenderedEmail,
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


def _never() -> bool:
    return False


@dataclass(frozen=True)
class _Batch:
    """What one kind of notification email renders."""

    kind: str  # OutboundEmail.Kind
    template: str  # core/templates/emails/<template>{_subject.txt,.txt,.html}
    today: datetime.date


# --- The day's alerts ------------------------------------------------------------


def queue_alert_emails(
    *,
    today: datetime.date | None = None,
    chunk_size: int | None = None,
    should_stop: Callable[[], bool] = _never,
    now: datetime.datetime | None = None,
    digests_only: bool = False,
) -> int:
    """Queue one outbox email per user with alerts of ``today`` no email covers
    yet and whose time has come at ``now`` (``core.selectors.delivery``; with
    ``digests_only``, only those who chose an hour), ``chunk_size``
    (``CHUNK_SIZE``) users per transaction. ``should_stop`` is asked before each
    chunk (the soft time limit): what is left is queued by the next run, none twice."""
    today = today or timezone.localdate()
    chunk_size = chunk_size or CHUNK_SIZE
    due = due_now(today=today, now=now, digests_only=digests_only)
    batch = _Batch(OutboundEmail.Kind.ALERTS, "alerts", today)
    queued, after, more = 0, 0, True
    while more and not should_stop():
        with transaction.atomic():
            lock_for_alert_emails()
            users = _alert_recipients(today, due, after=after, limit=chunk_size)
            if users:
                after = users[-1].id
                queued += _queue_alerts_chunk(users, batch)
        more = len(users) == chunk_size
    if queued:
        # One dispatch for the whole run, not one sender task per user.
        outbox.dispatch_sender(expected=queued)
    return queued


def emailed_through(today: datetime.date, user: Any = None) -> Coalesce:
    """The recipient's watermark: the highest alert id of ``today`` their emails
    cover (0 for none). ``user``: the user's id, or an ``OuterRef`` to it."""
    last = (
        OutboundEmail.objects.filter(recipient=user, alert_day=today)
        .order_by("-alerts_through")
        .values("alerts_through")[:1]
    )
    return Coalesce(Subquery(last), 0)


def covering_email() -> QuerySet[OutboundEmail]:
    """The alert email that covers the outer notification (an ``OuterRef``
    sub-query: ``Exists(covering_email())``, or its id)."""
    return OutboundEmail.objects.filter(
        recipient=OuterRef("destinataire_id"),
        alert_day=OuterRef("date_alerte"),
        alerts_after__lt=OuterRef("id"),
        alerts_through__gte=OuterRef("id"),
    )


def unemailed_alerts(today: datetime.date) -> Q:
    """The alerts of ``today`` no email covers (the last filter takes the alerts
    marked one by one before the emails had ranges)."""
    return Q(
        date_alerte=today,
        id__gt=emailed_through(today, OuterRef("destinataire_id")),
        outbound_email__isnull=True,
    )


def _alert_recipients(today: datetime.date, due: Q, *, after: int, limit: int) -> list[User]:
    """The next users by id whose time has come, with their watermark (a probe of
    the outbox's range index per user). Whether they have alerts above it is the
    listing's business: a filter on it here was planned as a scan of the whole
    day's alerts per chunk, the statistics of a table just filled being old."""
    users = (
        User.objects.filter(due, id__gt=after)
        .annotate(watermark=emailed_through(today, OuterRef("pk")))
        .only(*USER_FIELDS)
        .order_by("id")
    )
    return list(users[:limit])


def _queue_alerts_chunk(users: list[Any], batch: _Batch) -> int:
    if not users:
        return 0
    fresh = [user.id for user in users if not user.watermark]
    pending = functools.reduce(
        operator.or_,
        [Q(destinataire_id=user.id, id__gt=user.watermark) for user in users if user.watermark],
        Q(destinataire_id__in=fresh),
    )
    listed = _listed(
        Q(pending, date_alerte=batch.today, outbound_email__isnull=True),
        per="destinataire_id",
        order=alert_urgency_keys(priority=task_priority_rank()),
    )
    rows, site = [], site_url()
    for user in users:
        if (alerts := listed.get(user.id)) is None or not _can_email(user):
            continue
        email = _render(user, alerts.rows, alerts.total, batch=batch, site=site)
        row = outbox.new_row(email, recipient=user, kind=batch.kind)
        row.alert_day, row.alerts_after, row.alerts_through = (
            batch.today,
            user.watermark,
            alerts.through,
        )
        rows.append(row)
    insert_rows(rows)  # by COPY: the bodies are most of the bytes
    return len(rows)


# --- Events ------------------------------------------------------------------------


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
    batch = _Batch(OutboundEmail.Kind.EVENTS, "events", timezone.localdate(now))
    queued, after, more = 0, 0, True
    while more:
        with transaction.atomic():
            users = _event_recipients(pending, after=after, limit=chunk_size)
            if users:
                after = users[-1].id
                queued += _queue_events_chunk([u for u in users if _can_email(u)], pending, batch)
            more = len(users) == chunk_size
    if queued:
        outbox.dispatch_sender(expected=queued)
    return {"queued": queued}


def _oldest_first() -> list[Any]:
    return [F("date_creation").asc(), F("id").asc()]


def _event_recipients(pending: Q, *, after: int, limit: int) -> list[User]:
    """The next users by id with events to email, along the partial index of
    un-emailed events."""
    recipients = (
        NotificationTache.objects.filter(pending, destinataire_id__gt=after)
        .order_by("destinataire_id")
        .values("destinataire_id")
        .distinct()[:limit]
    )
    users = User.objects.filter(id__in=recipients).only(*USER_FIELDS)
    return list(users.order_by("id"))


def _queue_events_chunk(users: list[User], pending: Q, batch: _Batch) -> int:
    """Empty rows first, then each event claimed by its user's row (locked in id
    order), then listed from what each row claimed and rendered."""
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
    _claim(email_of={row.recipient_id: row.id for row in rows}, pending=pending)
    listed = _listed(
        Q(outbound_email_id__in=[row.id for row in rows]),
        per="outbound_email_id",
        order=_oldest_first(),
    )
    site = site_url()
    filled = [
        (row.id, _render(row.recipient, events.rows, events.total, batch=batch, site=site))
        for row in rows
        if (events := listed.get(row.id)) is not None and row.recipient is not None
    ]
    _fill(filled)
    if len(filled) < len(rows):  # a concurrent run emailed these users' events first
        OutboundEmail.objects.filter(id__in=[r.id for r in rows if r.id not in listed]).delete()
    return len(filled)


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


def _values(rows: list[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    """``(VALUES (...), ...) AS m``: columns ``m.column1``, ``m.column2``... on both
    PostgreSQL and SQLite."""
    row = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    return "(VALUES " + ", ".join([row] * len(rows)) + ") AS m", [v for r in rows for v in r]


def _claim(*, email_of: dict[int | None, int], pending: Q) -> None:
    """One UPDATE: each un-emailed event of these users gets its user's email (a
    join on the chunk's (user, email) pairs, not a sub-query per event)."""
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


# --- Listing and rendering ---------------------------------------------------------


@dataclass
class _Listed:
    rows: list[dict[str, Any]]
    total: int
    through: int  # the highest id among all of them, listed or not


def _listed(pending: Q, *, per: str, order: list[Any]) -> dict[int, _Listed]:
    """Per value of ``per`` (a recipient, an email), the most urgent of its
    ``pending`` notifications (at most ``ALERTS_LISTED``), their total and highest
    id: ranked on narrow rows first, then the listed ones read whole by id."""
    partition = [F(per)]
    ranked = (
        NotificationTache.objects.filter(pending)
        .annotate(
            rank=Window(RowNumber(), partition_by=partition, order_by=order),
            total=Window(Count("id"), partition_by=partition),
            through=Window(Max("id"), partition_by=partition),
        )
        .filter(rank__lte=ALERTS_LISTED)
        .order_by(per, "rank")
        .values_list("id", per, "total", "through")
    )
    listed: dict[int, _Listed] = {}
    order_of: dict[int, tuple[int, int]] = {}
    for position, (pk, key, total, through) in enumerate(ranked):
        listed.setdefault(key, _Listed([], total, through))
        order_of[pk] = (key, position)
    rows = NotificationTache.objects.filter(id__in=list(order_of)).values(
        "id",
        "type_notification",
        "titre",
        "message",
        "tache_id",
        "date_echeance",
        "date_alerte",
        task=F("tache__nom"),
        # A phase's or a project's alert has no task: its project all the same.
        project=Coalesce("tache__projet__nom", "etape__projet__nom", "projet__nom"),
        project_id=Coalesce("tache__projet_id", "etape__projet_id", "projet_id"),
    )
    for row in sorted(rows, key=lambda row: order_of[row["id"]][1]):
        listed[order_of[row["id"]][0]].rows.append(dict(row))
    return listed


def _render(
    user: User, alerts: list[dict[str, Any]], total: int, *, batch: _Batch, site: str
) -> RenderedEmail:
    """``site``: the site's address, read once per chunk, not once per link."""

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
        "notifications_url": f"{site}{reverse('core:notification_list')}?statut=unread",
        "project_names": short_list(line["projet"] for line in lines),
    }
    return render_email(batch.template, context, site=site)


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
