"""What a locked-out sign-in sees (django-axes calls ``locked_out``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.sign_in_lockout import address_locked_out

# 429 Too Many Requests: what axes answers by default, and what it is.
LOCKED_OUT_STATUS = 429


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The sign-in page's layout with a plain French explanation, never the form:
    while locked out even the right password is refused."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": minutes,
        # Password spraying: every account is refused from this address.
        "whole_address": hasattr(request, "axes_ip_address") and address_locked_out(request),
    }
    return render(request, "registration/locked_out.html", context, status=LOCKED_OUT_STATUS)
