"""Small helpers shared by the views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.models import User


def current_user(request: HttpRequest) -> User:
    """The signed-in user (every view is behind login_required)."""
    user = request.user
    assert isinstance(user, User)
    return user


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go back after a POST: ``next`` if it stays on this site."""
    target = request.POST.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else default


def filters_query(request: HttpRequest) -> str:
    """The list's query string without its page number: the page links keep the
    filters and the search (``partials/pagination.html``)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


View = Callable[..., HttpResponseBase]


def permission_required(*perms: str) -> Callable[[View], View]:
    """Signed in (else the sign-in page), and holding every one of ``perms`` (else 403).

    Django's ``permission_required(..., raise_exception=True)`` with the 403 saying
    why: its PermissionDenied carries no message, and the 403 log line quotes it.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perms(perms):
                raise PermissionDenied(_("This page is reserved for administrators."))
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator
