"""Middleware of the application."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import get_exception_response
from django.http import HttpRequest, HttpResponse
from django.urls import get_resolver, get_urlconf
from django.utils.log import log_response

from core.client_ip import client_ip

# Control characters would let a crafted path or name forge log lines.
_CONTROL_CHARACTERS = {code: " " for code in (*range(32), 127)}


class ForbiddenLogMiddleware:
    """A refused request (``PermissionDenied``) is one warning line: who (and from
    which address, ``core.client_ip``), what, why.

    Django logs it with the exception's full traceback, as if the code had failed;
    a refusal is the access rules working. The page is Django's own 403 handler
    (``403.html``). Crashes (500) keep their traceback: they are not handled here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, PermissionDenied):
            return None
        response = get_exception_response(request, get_resolver(get_urlconf()), 403, exception)
        # Django's own logging function: it marks the response as logged, so that
        # the handler does not log it once more without the reason. The line is
        # formatted here: log_response would escape the arguments' accents.
        what = f"{client_ip(request) or '-'} {request.method} {_one_line(request.path)}"
        why = _one_line(str(exception) or "permission denied")
        line = f"Forbidden: {_who(request)} from {what} ({why})"
        log_response(line, response=response, request=request, level="warning")
        return response


def _who(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "anonymous"
    return f"user {_one_line(user.get_username())!r} (id {user.pk})"


def _one_line(text: str) -> str:
    return text.translate(_CONTROL_CHARACTERS)
