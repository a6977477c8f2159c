"""``GET /health/``: the application's health as JSON, for the supervision tool.

200 when every component is healthy, 503 otherwise; no session needed (nothing
here reads the user), optionally guarded by ``HEALTH_TOKEN``.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.jobs import registry
from core.selectors.health import system_health


def token_accepted(request: HttpRequest) -> bool:
    """The ``Authorization: Bearer`` header; ``?token=`` too, but only without
    DJANGO_SECURE: a query string is written by proxies and access logs."""
    expected = settings.HEALTH_TOKEN
    if not expected:
        return True
    header = request.headers.get("Authorization", "")
    if header:
        given = header.removeprefix("Bearer ").strip()
    else:
        given = "" if settings.SECURE else request.GET.get("token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    if not token_accepted(request):
        return JsonResponse({"status": "forbidden"}, status=403)
    report = system_health(daily_check=registry.CHECK_TASK_DEADLINES)
    return JsonResponse(
        report.as_dict(),
        status=200 if report.ok else 503,
        json_dumps_params={"ensure_ascii": False, "indent": 2},  # read by people too
    )
