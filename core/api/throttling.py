"""Requests per personal token: API_THROTTLE_RATE, then 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from core.models import JetonApi


class TokenRateThrottle(SimpleRateThrottle):
    """API_THROTTLE_RATE requests per token (per user with a session), read from
    the settings on each request; counted in the default cache."""

    scope = "api"

    def get_rate(self) -> str:
        rate: str = settings.API_THROTTLE_RATE
        return rate

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, JetonApi):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
