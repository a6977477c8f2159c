"""The notification centre of a user with as many notifications as the size's
tasks (30 % unread), through the real views with Django's test client."""

from __future__ import annotations

import statistics
import time
from typing import Any

REPEAT = 7


def _median(work: Any) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _get(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.status_code


def _deep_cursor(reader: int, *, unread: bool) -> str:
    """The cursor 90 % down the user's list (the token the page's links carry)."""
    from core.models import NotificationTache
    from core.selectors.notifications import Cursor

    rows = NotificationTache.objects.filter(destinataire_id=reader)
    if unread:
        rows = rows.filter(lue=False)
    depth = rows.count() * 9 // 10
    edge = rows.order_by("-date_creation", "-id")[depth]
    return Cursor.of(edge).token


def measure_centre(options: dict[str, Any]) -> dict[str, Any]:
    from django.test.utils import override_settings

    # The pages link static files by their plain names (no collectstatic here).
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        return _measure(options)


def _measure(options: dict[str, Any]) -> dict[str, Any]:
    import scale_world
    from django.test import Client
    from django.urls import reverse

    from core.models import NotificationTache, User
    from core.selectors.notifications import unread_count
    from core.services.notifications import mark_all_read

    count = options["count"]
    reader_id = scale_world.add_reader_notifications(count=count)
    reader = User.objects.get(pk=reader_id)
    client = Client()
    client.force_login(reader)
    page = reverse("core:notification_list")
    deep = f"{page}?older={_deep_cursor(reader_id, unread=False)}"
    unread_deep = f"{page}?statut=unread&older={_deep_cursor(reader_id, unread=True)}"
    figures: dict[str, Any] = {
        "page_1": _median(lambda: _get(client, page)),
        "deep_page": _median(lambda: _get(client, deep)),
        "unread_deep_page": _median(lambda: _get(client, unread_deep)),
        "badge": _median(lambda: unread_count(user=reader)),
    }
    unread = NotificationTache.objects.filter(destinataire=reader, lue=False).count()
    started = time.perf_counter()
    response = client.post(reverse("core:notification_read_all"))
    figures["mark_all_request"] = time.perf_counter() - started
    assert response.status_code == 302
    started = time.perf_counter()
    mark_all_read(user=reader)  # what the background task does with the rest
    figures["mark_all_total"] = figures["mark_all_request"] + time.perf_counter() - started
    left = NotificationTache.objects.filter(destinataire=reader, lue=False).count()
    figures.update(
        page_1_what=f"{count:,} notifications, 25 shown",
        deep_page_what="90 % down the list",
        unread_deep_page_what="90 % down the unread ones",
        badge_what=f"{unread:,} unread, shown as 99+",
        mark_all_request_what="2,000 marked, the rest queued",
        mark_all_total_what=f"{unread:,} marked, {left} left",
    )
    figures["seconds"] = figures["page_1"]
    return figures
