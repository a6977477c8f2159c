"""Channel URLs: which ones are accepted, how they are shown, and keeping their
secrets out of the logs.

A channel URL is an Apprise URL (``slack://T…/B…/token``, ``mmost://host/token``,
``workflows://host/workflow/signature``, ``matrix://user:password@host/#room``,
``json://host/path``) or the service's own webhook address, which Apprise
recognises. Its secret is the token, the password or the path: the URL is
shown masked (``masked``) and never logged. Apprise logs through the
``apprise`` logger (the URL it posts to at DEBUG) and requests through
``urllib3``: while a channel is validated or posted to (``secrets_hidden``), a
filter on those loggers replaces every part of its URL but the host by
``****``, at every level, whatever the logging configuration.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import logging
import re
import socket
from collections.abc import Iterator
from urllib.parse import quote, unquote, urlsplit

import apprise
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The canonical scheme Apprise gives each supported service (``plugin.url()``):
# Teams (Workflows, and the older connectors), Slack, Mattermost, Matrix and a
# generic JSON webhook. Anything else (email, SMS, a desktop notification, a
# file on the server) is refused: a channel is a team's chat.
ALLOWED_SCHEMES = frozenset(
    {
        "workflow",
        "workflows",
        "msteams",
        "slack",
        "mmost",
        "mmosts",
        "matrix",
        "matrixs",
        "json",
        "jsons",
    }
)
# The services whose host the user chooses (their own server, a webhook's): the
# others post to the service's public address (Slack, Teams connectors).
HOST_SCHEMES = frozenset(
    {"workflow", "workflows", "mmost", "mmosts", "matrix", "matrixs", "json", "jsons"}
)
MAX_URL_LENGTH = 2000
MASK = "****"
# Loggers that may carry a channel URL while it is used.
LOGGERS = ("apprise", "urllib3.connectionpool")
# Parts of a URL shorter than this are words of the service's API ("hooks"), not secrets.
MIN_SECRET_LENGTH = 4

_secrets: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "channel_url_secrets", default=()
)


class InvalidChannelUrl(ValidationError):
    pass


def plugin_for(url: str) -> apprise.plugins.NotifyBase:
    """The Apprise service ``url`` designates; ``InvalidChannelUrl`` (in French)
    when Apprise does not know it or it is not a chat service."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        raise InvalidChannelUrl(_("Enter a channel URL without spaces."), code="invalid")
    with secrets_hidden(url):
        plugin = apprise.Apprise.instantiate(url)
    if not plugin:
        raise InvalidChannelUrl(
            _(
                "This channel URL is not recognised. Use the webhook address given by "
                "Teams or Slack, or an address such as mmosts://…, slack://…, "
                "matrix://… or jsons://…."
            ),
            code="unknown",
        )
    scheme = _scheme(plugin)
    if scheme not in ALLOWED_SCHEMES:
        raise InvalidChannelUrl(
            _(
                "This service is not a team channel: use Teams, Slack, Mattermost, "
                "Matrix or a JSON webhook."
            ),
            code="unsupported",
        )
    if scheme in HOST_SCHEMES and not settings.CHANNEL_ALLOW_PRIVATE_ADDRESSES:
        _refuse_private_host(urlsplit(_privacy_url(plugin)).hostname or "")
    return plugin


def _refuse_private_host(host: str) -> None:
    """At each validation and before each post (a name may point elsewhere
    since): no channel posts to the server itself or to the internal network."""
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        raise InvalidChannelUrl(
            _("The channel's server %(host)s cannot be found.") % {"host": host},
            code="unknown_host",
        ) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise InvalidChannelUrl(
                _(
                    "The channel's server %(host)s is on a private or local network: "
                    "an administrator may allow it (CHANNEL_ALLOW_PRIVATE_ADDRESSES)."
                )
                % {"host": host},
                code="private_host",
            )


def _privacy_url(plugin: apprise.plugins.NotifyBase) -> str:
    """Apprise's own masked form of the plugin's URL."""
    notifier = apprise.Apprise()
    notifier.add(plugin)
    return notifier.urls(privacy=True)[0]


def _scheme(plugin: apprise.plugins.NotifyBase) -> str:
    return urlsplit(_privacy_url(plugin)).scheme.lower()


def masked(url: str) -> str:
    """What pages and the admin show of ``url``: Apprise's privacy form (tokens
    cut to their first and last characters, passwords hidden), without its
    options, and every path part it left whole (a webhook's path is its secret)
    masked too: ``slack://T...2/B...D/T...Q/``, ``json://host:8080/h…/****``."""
    plugin = plugin_for(url)
    parts = urlsplit(_privacy_url(plugin))
    path = "/".join(_mask_part(part) for part in parts.path.split("/"))
    return f"{parts.scheme}://{parts.netloc}{path}"[:300]


def _mask_part(part: str) -> str:
    if "..." in part or len(part) < MIN_SECRET_LENGTH or part.startswith("%23"):
        return part  # already masked by Apprise, a word of the API, or a #channel
    return f"{part[0]}…{MASK}"


def secrets_of(url: str) -> tuple[str, ...]:
    """Every part of ``url`` that may be a secret, in the forms a log may quote:
    the whole URL, the user and password, each path part and query value (as
    written and decoded). Not the scheme, the host or the port."""
    url = url.strip()
    parts = urlsplit(url)
    pieces = [url, parts.path, parts.query, parts.fragment]
    pieces += [parts.username or "", parts.password or ""]
    pieces += parts.path.split("/")
    pieces += [value for pair in parts.query.split("&") for value in pair.split("=")]
    found = {p for piece in pieces for p in (piece, unquote(piece), quote(unquote(piece), safe=""))}
    return tuple(sorted((p for p in found if len(p) >= MIN_SECRET_LENGTH), key=len, reverse=True))


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


@contextlib.contextmanager
def secrets_hidden(url: str) -> Iterator[None]:
    """While in the block, nothing the loggers of ``LOGGERS`` write shows ``url``'s secrets."""
    token = _secrets.set(_secrets.get() + secrets_of(url))
    try:
        yield
    finally:
        _secrets.reset(token)


class _HideSecrets(logging.Filter):
    """Rewrites each record logged while a URL's secrets are to be hidden."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _secrets.get()
        if secrets:
            record.msg = redact(record.getMessage(), secrets)
            record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                # The traceback's text would quote the URL again: its type only.
                record.msg += f" ({type(record.exc_info[1]).__name__})"
                record.exc_info, record.exc_text = None, None
        return True


def install_log_filter() -> None:
    """Once per process (``core.apps``): filters of a logger apply to the records
    logged on it, which is where Apprise and urllib3 log."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _HideSecrets) for f in logger.filters):
            logger.addFilter(_HideSecrets())


_SPACES = re.compile(r"\s+")


def error_text(text: str, url: str) -> str:
    """``text`` (an Apprise log, an exception) as it may be stored and shown."""
    return _SPACES.sub(" ", redact(text, secrets_of(url))).strip()[:2000]


install_log_filter()
