from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core.selectors.notifications import unread_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Unread-notification badge for the navigation bar (one indexed COUNT)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": unread_count(user=user),
        "flower_url": settings.FLOWER_URL,
    }
