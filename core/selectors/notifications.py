"""A user's notifications: the notification centre and the unread badge.

Newest first and, among the alerts of one run (they share their creation time),
most urgent first (``core.selectors.urgency``): the morning's late alerts, the
latest first, then those due today, then those due soon.

The centre pages by key, not by offset: a page is the ``PAGE_SIZE`` notifications
just before (or after) a cursor, the ``(date_creation, id)`` of a row: the rows
created before it (the index ``notif_destinataire_idx``, or for the unread ones
``notif_non_lue_idx``, serves them directly), and those of its own run that come
after it in urgency (its keys read by id). A deep page costs what the first
costs. Counts are capped: the page says "more than 1,000", the badge "99+".
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import DateTimeField, Func, IntegerField, Q, QuerySet, Subquery, Value
from django.db.models.lookups import GreaterThan, LessThan

from core.models import NotificationTache, User
from core.models.notifications import SUBJECT_RELATED
from core.selectors.urgency import alert_urgency_keys

PAGE_SIZE = 25
COUNT_CAP = 1000
BADGE_CAP = 99
UNREAD = "unread"
ALL = "all"
MAX_ID = 2**63 - 1  # the largest bigint


@dataclass(frozen=True)
class Cursor:
    """A place in the list: the notification at the edge of a page."""

    date_creation: datetime.datetime
    id: int

    @classmethod
    def of(cls, notification: NotificationTache) -> Cursor:
        return cls(notification.date_creation, notification.pk)

    @property
    def token(self) -> str:
        """Microseconds since the epoch and the id: ``1764057600123456-4242``."""
        moment = self.date_creation - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
        return f"{moment // datetime.timedelta(microseconds=1)}-{self.id}"

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        """The cursor of a link, or ``None`` for a missing or mangled one (an id
        no database column can hold included: SQLite would raise on it)."""
        try:
            micros, pk = (int(part) for part in (token or "").split("-"))
            epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
            moment = epoch + datetime.timedelta(microseconds=micros)
        except (ValueError, OverflowError):
            return None
        return cls(moment, pk) if 0 < pk <= MAX_ID else None


@dataclass
class NotificationPage:
    object_list: list[NotificationTache]
    newer: Cursor | None  # the previous page (more recent), if any
    older: Cursor | None  # the next page (older), if any
    total: int  # at most COUNT_CAP + 1
    is_first: bool

    @property
    def count_cap(self) -> int:
        return COUNT_CAP

    @property
    def total_is_capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def has_other_pages(self) -> bool:
        return self.newer is not None or self.older is not None


class _Row(Func):
    """``(a, b)``: compared as a whole, the way a composite index orders rows."""

    template = "(%(expressions)s)"
    output_field = IntegerField()  # only read to type the comparison


def notifications_for(
    *, user: User, status: str = ALL, type_notification: str = ""
) -> QuerySet[NotificationTache]:
    """The user's own notifications, newest first, most urgent first in a run."""
    notifications = NotificationTache.objects.filter(destinataire=user)
    if status == UNREAD:
        notifications = notifications.filter(lue=False)
    if type_notification:
        notifications = notifications.filter(type_notification=type_notification)
    return notifications.select_related(*SUBJECT_RELATED).order_by(
        "-date_creation", *alert_urgency_keys()
    )


def notification_page(
    *,
    user: User,
    status: str = ALL,
    type_notification: str = "",
    older: str | None = None,
    newer: str | None = None,
) -> NotificationPage:
    """One page of the centre: the first, the one older than ``older`` or the one
    newer than ``newer`` (cursor tokens from the page's links); two reads."""
    notifications = notifications_for(user=user, status=status, type_notification=type_notification)
    total = notifications.order_by()[: COUNT_CAP + 1].count()
    if (after := Cursor.parse(newer)) is not None:
        rows = list(_beyond(notifications, after, newer=True)[: PAGE_SIZE + 1])[::-1]
        if len(rows) > PAGE_SIZE:
            return _page(rows[1:], total=total, has_newer=True, has_older=True)
        # Back at the top: the first page, full.
    elif (before := Cursor.parse(older)) is not None:
        rows = list(_beyond(notifications, before, newer=False)[: PAGE_SIZE + 1])
        return _page(rows[:PAGE_SIZE], total=total, has_newer=True, has_older=len(rows) > PAGE_SIZE)
    rows = list(notifications[: PAGE_SIZE + 1])
    return _page(rows[:PAGE_SIZE], total=total, has_newer=False, has_older=len(rows) > PAGE_SIZE)


def _beyond(
    notifications: QuerySet[NotificationTache], cursor: Cursor, *, newer: bool
) -> QuerySet[NotificationTache]:
    keys = alert_urgency_keys()
    at_cursor = NotificationTache.objects.filter(pk=cursor.id)
    edge = _Row(*(Subquery(at_cursor.annotate(k=key).values("k")[:1]) for key in keys))
    row = _Row(*keys)
    when = Value(cursor.date_creation, DateTimeField())
    # The plain bound (<= or >=) is what the index range starts from; the OR then
    # keeps the rest of the cursor's own run, past the cursor in urgency.
    if newer:
        nearer = Q(date_creation__gt=when) | Q(LessThan(row, edge), date_creation=when)
        return notifications.filter(nearer, date_creation__gte=when).order_by(
            "date_creation", *(key.desc() for key in alert_urgency_keys())
        )
    farther = Q(date_creation__lt=when) | Q(GreaterThan(row, edge), date_creation=when)
    return notifications.filter(farther, date_creation__lte=when)


def _page(
    rows: list[NotificationTache], *, total: int, has_newer: bool, has_older: bool
) -> NotificationPage:
    return NotificationPage(
        object_list=rows,
        newer=Cursor.of(rows[0]) if rows and has_newer else None,
        older=Cursor.of(rows[-1]) if rows and has_older else None,
        total=total,
        is_first=not has_newer,
    )


def unread_count(*, user: User) -> int:
    """The badge: unread notifications, counted up to ``BADGE_CAP + 1`` ("99+")
    on the partial index notif_non_lue_idx."""
    unread = NotificationTache.objects.filter(destinataire=user, lue=False).order_by()
    return unread[: BADGE_CAP + 1].count()
