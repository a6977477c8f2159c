from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Unread-notification badge for the navigation bar (one indexed COUNT)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": user.notifications.filter(lue=False).count(),
        "flower_url": settings.FLOWER_URL,
    }
