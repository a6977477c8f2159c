"""Checks of `manage.py check` (and `check --deploy`) that Django cannot know about."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.utils.translation import gettext as _
from ldap3.core.exceptions import LDAPInvalidDnError

from core.ldap_backend import USER_PLACEHOLDER, normalized_dn
from core.site_url import site_url

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


@register(Tags.security, deploy=True)
def site_url_is_public(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Links in emails must reach the users: not localhost, HTTPS behind HTTPS."""
    address = site_url()
    url = urlsplit(address)
    if url.hostname in LOCAL_HOSTS or url.hostname is None:
        return [
            Warning(
                _("SITE_URL (%(url)s) is a local address: links in emails will not work.")
                % {"url": address},
                hint=_(
                    "Set SITE_URL to the site's public address, e.g. https://gouvernance.example.org."
                ),
                id="core.W001",
            )
        ]
    if settings.SECURE and url.scheme != "https":
        return [
            Warning(
                _("SITE_URL (%(url)s) is not HTTPS although DJANGO_SECURE is on.")
                % {"url": address},
                id="core.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def health_is_guarded(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """In production, /health/ (database, broker, outbox counts) wants a token."""
    if settings.SECURE and not settings.HEALTH_TOKEN:
        return [
            Warning(
                _("HEALTH_TOKEN is empty: /health/ answers anyone, although DJANGO_SECURE is on."),
                hint=_(
                    "Set HEALTH_TOKEN and have the supervision tool send "
                    '"Authorization: Bearer <token>".'
                ),
                id="core.W003",
            )
        ]
    return []


# --- Directory sign-in (core.ldap_backend) ---------------------------------------
LDAP_DN_SETTINGS = (
    "LDAP_BIND_DN",
    "LDAP_USER_SEARCH_BASE",
    "LDAP_GROUP_SEARCH_BASE",
    "LDAP_STAFF_GROUP_DN",
    "LDAP_LEAD_GROUP_DN",
)


@register(Tags.security)
def directory_settings_work(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A directory configuration that cannot work, one line per fault (nothing
    while LDAP_SERVER_URI is empty: directory sign-in is off)."""
    if not settings.LDAP_SERVER_URI:
        return []
    return [
        *_ldap_required_settings(),
        *(_ldap_unparsable_dn(name) for name in LDAP_DN_SETTINGS if _ldap_unparsable(name)),
        *_ldap_filter(),
        *_ldap_tls(),
    ]


def _ldap_unparsable(name: str) -> bool:
    value = getattr(settings, name)
    if not value:
        return False
    if name == "LDAP_BIND_DN" and "=" not in value and ("@" in value or "\\" in value):
        return False  # Active Directory also binds as svc@example.org or EXAMPLE\svc
    try:
        normalized_dn(value)
    except LDAPInvalidDnError:
        return True
    return False


def _ldap_unparsable_dn(name: str) -> CheckMessage:
    return Error(
        _("%(name)s (%(value)s) is not a valid DN.")
        % {"name": name, "value": getattr(settings, name)},
        hint=_("A DN reads like cn=Chefs de projet,ou=Groupes,dc=example,dc=org."),
        id="core.E103",
    )


def _ldap_required_settings() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    uri = urlsplit(settings.LDAP_SERVER_URI)
    if uri.scheme.lower() not in ("ldap", "ldaps") or not uri.hostname:
        errors.append(
            Error(
                _("LDAP_SERVER_URI (%(uri)s) is not an ldap://host or ldaps://host address.")
                % {"uri": settings.LDAP_SERVER_URI},
                id="core.E108",
            )
        )
    if not settings.LDAP_USER_SEARCH_BASE:
        errors.append(
            Error(
                _("LDAP_SERVER_URI is set without LDAP_USER_SEARCH_BASE: nobody can be found."),
                hint=_("Set LDAP_USER_SEARCH_BASE, e.g. ou=Utilisateurs,dc=example,dc=org."),
                id="core.E101",
            )
        )
    if settings.LDAP_BIND_DN and not settings.LDAP_BIND_PASSWORD:
        errors.append(Error(_("LDAP_BIND_DN is set without LDAP_BIND_PASSWORD."), id="core.E102"))
    return errors


def _ldap_filter() -> list[CheckMessage]:
    if USER_PLACEHOLDER in settings.LDAP_USER_FILTER:
        return []
    return [
        Error(
            _("LDAP_USER_FILTER (%(filter)s) lacks %(placeholder)s, the typed user name.")
            % {"filter": settings.LDAP_USER_FILTER, "placeholder": USER_PLACEHOLDER},
            hint=_("Active Directory: (sAMAccountName=%(user)s); OpenLDAP: (uid=%(user)s)."),
            id="core.E104",
        )
    ]


def _ldap_tls() -> list[CheckMessage]:
    ca_file, start_tls = settings.LDAP_CA_FILE, settings.LDAP_START_TLS
    ldaps = settings.LDAP_SERVER_URI.lower().startswith("ldaps://")
    errors: list[CheckMessage] = []
    if ca_file and not Path(ca_file).is_file():
        errors.append(
            Error(_("LDAP_CA_FILE (%(path)s) does not exist.") % {"path": ca_file}, id="core.E105")
        )
    if start_tls and ldaps:
        errors.append(
            Error(
                _("LDAP_START_TLS is on with an ldaps:// address: choose one of the two."),
                id="core.E106",
            )
        )
    if settings.SECURE and (start_tls or ldaps) and not ca_file:
        errors.append(
            Error(
                _("TLS to the directory without LDAP_CA_FILE, although DJANGO_SECURE is on."),
                hint=_(
                    "Set LDAP_CA_FILE to the certificate of the CA that signed the directory's."
                ),
                id="core.E107",
            )
        )
    if settings.SECURE and not (start_tls or ldaps):
        errors.append(
            Warning(
                _("Passwords go to the directory in clear text (ldap:// without LDAP_START_TLS)."),
                hint=_("Set LDAP_START_TLS=true, or use an ldaps:// address, with LDAP_CA_FILE."),
                id="core.W101",
            )
        )
    return errors


# --- Sign-in with an identity provider (core.oidc) -------------------------------
OIDC_ENDPOINT_SETTINGS = {
    # The README's names, each with the Django setting holding it.
    "OIDC_ISSUER": "OIDC_ISSUER",
    "OIDC_AUTHORIZATION_ENDPOINT": "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_TOKEN_ENDPOINT": "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_USERINFO_ENDPOINT": "OIDC_OP_USER_ENDPOINT",
    "OIDC_JWKS_URI": "OIDC_OP_JWKS_ENDPOINT",
}


@register(Tags.security)
def identity_provider_settings_work(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """An OpenID Connect configuration that cannot work, one line per fault."""
    addresses = {name: getattr(settings, key) for name, key in OIDC_ENDPOINT_SETTINGS.items()}
    if not settings.OIDC_RP_CLIENT_ID:
        if any(addresses.values()) or settings.OIDC_RP_CLIENT_SECRET:
            return [
                Warning(
                    _(
                        "OpenID Connect settings are set without OIDC_CLIENT_ID: the sign-in "
                        "with the identity provider is off."
                    ),
                    id="core.W111",
                )
            ]
        return []
    errors: list[CheckMessage] = []
    if not settings.OIDC_RP_CLIENT_SECRET:
        errors.append(Error(_("OIDC_CLIENT_ID is set without OIDC_CLIENT_SECRET."), id="core.E111"))
    endpoints = [name for name in addresses if name != "OIDC_ISSUER"]
    if not settings.OIDC_ISSUER and not all(addresses[name] for name in endpoints):
        errors.append(
            Error(
                _("OIDC_CLIENT_ID is set without OIDC_ISSUER nor every endpoint (%(names)s).")
                % {"names": ", ".join(endpoints)},
                hint=_(
                    "Set OIDC_ISSUER, e.g. https://sso.example.org/realms/dsi: the "
                    "endpoints are read from its discovery document."
                ),
                id="core.E112",
            )
        )
    if settings.SECURE:
        errors.extend(
            Error(
                _("%(name)s (%(url)s) is not HTTPS although DJANGO_SECURE is on.")
                % {"name": name, "url": url},
                id="core.E113",
            )
            for name, url in addresses.items()
            if url and urlsplit(url).scheme != "https"
        )
    if "openid" not in settings.OIDC_RP_SCOPES.split():
        errors.append(
            Error(
                _("OIDC_SCOPES (%(scopes)s) lacks openid: the provider would send no ID token.")
                % {"scopes": settings.OIDC_RP_SCOPES},
                id="core.E114",
            )
        )
    if (settings.OIDC_STAFF_GROUP or settings.OIDC_LEAD_GROUP) and not settings.OIDC_GROUPS_CLAIM:
        errors.append(
            Error(
                _(
                    "OIDC_STAFF_GROUP or OIDC_LEAD_GROUP is set with an empty OIDC_GROUPS_CLAIM: "
                    "nobody would be in either."
                ),
                id="core.E115",
            )
        )
    if not settings.OIDC_USERNAME_CLAIM:
        errors.append(
            Error(_("OIDC_USERNAME_CLAIM is empty: no account can be named."), id="core.E116")
        )
    return errors
