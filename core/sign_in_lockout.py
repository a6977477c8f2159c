"""Password spraying costs the attacker: a lockout per address beside django-axes'
per (account, address) one.

axes compares every set of ``AXES_LOCKOUT_PARAMETERS`` to the one
``AXES_FAILURE_LIMIT`` (the highest count wins), and a successful sign-in deletes
the attempts matching every set: with ``"ip_address"`` added as a second set, 5
failures over 5 accounts would lock a whole office behind one address, and the
attacker's own good password would wipe the address's count between two sprays.
So the count per address is read here from axes' own rows, over the cool-off,
against ``AXES_IP_FAILURE_LIMIT``; a success only forgets the failures of the
account that signed in. The class is axes' extension point (``AXES_HANDLER``):
``AxesStandaloneBackend`` asks ``is_locked`` before any password is hashed, and a
refused attempt gets the lockout page (``core.views.sign_in.locked_out``).
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.signals import user_locked_out
from django.conf import settings
from django.http import HttpRequest

from core.selectors.sign_in import address_failures


def address_locked_out(request: HttpRequest) -> bool:
    """Has the request's address failed ``AXES_IP_FAILURE_LIMIT`` sign-ins within
    the cool-off, whatever the accounts? (axes set ``request.axes_*`` first.)"""
    failures = address_failures(
        ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
        since=get_cool_off_threshold(request),
    )
    return failures >= settings.AXES_IP_FAILURE_LIMIT


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> Any:
    """The user name failures are counted against (``AXES_USERNAME_CALLABLE``),
    compared as a directory compares it: without case or surrounding spaces. Active
    Directory and OpenLDAP's ``uid`` ignore both, so "JDupont" and "jdupont " are one
    account for the lockout too, not a fresh count per spelling."""
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    username = (credentials or {}).get(field) if credentials else request.POST.get(field)
    return username.strip().lower() if isinstance(username, str) else username


class AddressLockoutHandler(AxesDatabaseHandler):
    """axes' database handler, plus the lockout per address."""

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        return super().is_locked(request, credentials) or address_locked_out(request)

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        """After axes recorded the failure: the one that reaches the address's limit
        already answers with the lockout page, as axes does for its own limit."""
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.is_whitelisted(request, credentials) or not address_locked_out(request):
            return
        request.axes_locked_out = True  # type: ignore[attr-defined]
        request.axes_credentials = credentials  # type: ignore[attr-defined]
        user_locked_out.send(
            "axes",
            request=request,
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
        )
