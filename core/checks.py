"""Checks of `manage.py check --deploy` that Django cannot know about."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.utils.translation import gettext as _

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
