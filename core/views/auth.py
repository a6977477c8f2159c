"""Sign-out: a POST (with its CSRF token), then the sign-in page says it worked."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


class SignOutView(LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # After the session is flushed: the message travels in the messages cookie.
        messages.success(request, _("You are signed out."))
        return response
