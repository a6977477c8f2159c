"""The two pages of the sign-in with the identity provider (mozilla-django-oidc's
views, through its ``OIDC_AUTHENTICATE_CLASS`` and ``OIDC_CALLBACK_CLASS``).

Whatever goes wrong (the provider down, a stale or forged ``state``, a token that
does not check out, an account that cannot be used) ends on the sign-in page with
one French message, never an error page. A locked-out address gets the lockout
page instead (axes' middleware replaces the answer).
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import path
from django.utils.translation import gettext as _
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from core.oidc import Failure, ProviderUnavailable, failure_reason, provider_endpoints
from core.views.sign_in import locked_out


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME or _("your organisation's identity provider")


def failure_message(reason: Failure) -> str:
    name = provider_name()
    texts = {
        Failure.UNAVAILABLE: _(
            "%(provider)s does not answer. Try again in a few minutes, or sign in with "
            "your password if you have a local account."
        ),
        Failure.REFUSED: _("%(provider)s did not let you sign in. Please try again."),
        Failure.INVALID: _(
            "The sign-in with %(provider)s could not be verified (expired or altered). "
            "Please try again."
        ),
        Failure.CLAIMS: _(
            "%(provider)s did not say who you are (no user name). Contact an administrator."
        ),
        Failure.CONFLICT: _(
            "Your user name is already held by another account here. Contact an administrator."
        ),
        Failure.INACTIVE: _("Your account is deactivated. Contact an administrator."),
    }
    return texts[reason] % {"provider": name}


def _to_sign_in(request: HttpRequest, reason: Failure) -> HttpResponse:
    if not getattr(request, "axes_locked_out", False):  # else the lockout page says it
        messages.error(request, failure_message(reason))
    return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))


class AuthenticateView(OIDCAuthenticationRequestView):
    """The sign-in button's target: off to the provider, with state, nonce and PKCE."""

    def get(self, request: HttpRequest) -> HttpResponse:
        # A locked-out address is told so here, not after a trip to the provider
        # (the callback refuses it anyway: axes' backend comes first).
        if not AxesProxyHandler.is_allowed(request, {"username": None}):
            return locked_out(request)
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_endpoints().authorization
        except ProviderUnavailable:
            return _to_sign_in(request, Failure.UNAVAILABLE)
        response: HttpResponse = super().get(request)
        return response


class CallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the person back (the redirect URI to register)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            response: HttpResponse = super().get(request)
        except SuspiciousOperation:  # a state this session did not send
            return _to_sign_in(request, Failure.INVALID)
        return response

    def login_failure(self) -> HttpResponse:
        request = self.request
        if request.GET.get("error"):  # the person cancelled, or the provider refused
            return _to_sign_in(request, Failure.REFUSED)
        return _to_sign_in(request, failure_reason(request) or Failure.INVALID)


# Included by si_gouvernance/urls.py only when OIDC_CLIENT_ID is set. The callback's
# name is the library's default OIDC_AUTHENTICATION_CALLBACK_URL.
urlpatterns = [
    path("comptes/oidc/connexion/", AuthenticateView.as_view(), name="oidc_authentication_init"),
    path("comptes/oidc/retour/", CallbackView.as_view(), name="oidc_authentication_callback"),
]
