"""``Authorization: Bearer <token>``: a personal token (core.services.api_tokens)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.request import Request

from core.models import JetonApi, User
from core.services import api_tokens

KEYWORD = b"bearer"


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, JetonApi] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != KEYWORD:
            return None  # another scheme, or none: the next authentication
        if len(words) != 2:
            raise exceptions.AuthenticationFailed(
                _("Malformed Authorization header: expected “Bearer <token>”.")
            )
        try:
            secret = words[1].decode("ascii")
        except UnicodeDecodeError:
            secret = ""
        jeton = api_tokens.authenticate(secret) if secret else None
        if jeton is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return jeton.utilisateur, jeton

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class CsrfSessionAuthentication(SessionAuthentication):
    """The signed-in browser: its writes need the CSRF token, refused in French."""

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise exceptions.PermissionDenied(
                _("CSRF check failed: send the X-CSRFToken header of the page.")
            ) from None


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document names the token (drf-spectacular's extension)."""

    target_class = BearerTokenAuthentication
    name = "jeton"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton personnel, créé sur la page Préférences.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = CsrfSessionAuthentication
    name = "session"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
