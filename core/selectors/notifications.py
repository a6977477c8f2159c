"""A user's notifications: the notification centre and the unread badge."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from core.models import NotificationTache, User

PAGE_SIZE = 25
UNREAD = "unread"
ALL = "all"


def notifications_for(
    *, user: User, status: str = ALL, type_notification: str = ""
) -> QuerySet[NotificationTache]:
    """The user's own notifications, newest first (index notif_destinataire_idx)."""
    notifications = NotificationTache.objects.filter(destinataire=user)
    if status == UNREAD:
        notifications = notifications.filter(lue=False)
    if type_notification:
        notifications = notifications.filter(type_notification=type_notification)
    return notifications.select_related("tache__projet").order_by("-date_creation", "-id")


def notification_page(
    *, user: User, status: str = ALL, type_notification: str = "", page: int | str = 1
) -> Page:
    """One page of the centre: a COUNT and a LIMIT/OFFSET read, whatever the total."""
    notifications = notifications_for(user=user, status=status, type_notification=type_notification)
    return Paginator(notifications, PAGE_SIZE).get_page(page)


def unread_count(*, user: User) -> int:
    """The badge: one COUNT on the partial index notif_non_lue_idx."""
    return NotificationTache.objects.filter(destinataire=user, lue=False).count()
