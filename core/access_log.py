"""An access log for waitress, which has none, in gunicorn's format and file, and
the redaction both servers apply (``core.gunicorn_access_log`` for gunicorn).

One line per request on the ``web.access`` logger (``logs/access.log``): peer
address, client address (``core.client_ip``), user, time, request line, status,
size, referer, user agent, duration in milliseconds. Secrets never reach the
file: ``token``/``key`` query parameters (``/health/?token=``) and the token of a
password-reset link (``/reset/<uidb64>/<token>/``) and of a calendar feed
(``/calendrier/<secret>.ics``) are written as ``[redacted]``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

from core.client_ip import client_address

logger = logging.getLogger("web.access")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

REDACTED = "[redacted]"
# A query parameter holding a secret: its name, case-insensitive.
_SECRET_PARAMETER = re.compile(r"(^|[&;])((?:token|key)=)[^&;#]*", re.IGNORECASE)
# Django's password-reset link: /reset/<uidb64>/<token>/ (then /set-password/).
_RESET_TOKEN = re.compile(r"(/reset/[^/?#]+/)(?!set-password/)[^/?#]+")
# A calendar feed's address: /calendrier/<secret>.ics.
_FEED_SECRET = re.compile(r"(/calendrier/)[^/?#]+")
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def access_logged(app: WSGIApp) -> WSGIApp:
    def logged(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        response: dict[str, str] = {"status": "-", "size": "-"}

        def recording(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            response["status"] = status.split(" ", 1)[0]
            response["size"] = dict((k.lower(), v) for k, v in headers).get("content-length", "-")
            return start_response(status, headers, *args)

        try:
            return app(environ, recording)
        finally:
            logger.info(_line(environ, response, time.monotonic() - started))

    return logged


def redact_query(query: str) -> str:
    """A query string with the value of its ``token``/``key`` parameters hidden."""
    return _SECRET_PARAMETER.sub(rf"\1\2{REDACTED}", query)


def redact_url(url: str) -> str:
    """A path, request target or full URL (a referer) without its secrets."""
    path, question, query = url.partition("?")
    path = _RESET_TOKEN.sub(rf"\1{REDACTED}", path)
    path = _FEED_SECRET.sub(rf"\1{REDACTED}", path)
    return path + question + redact_query(query)


def _line(environ: Environ, response: dict[str, str], seconds: float) -> str:
    path = environ.get("PATH_INFO", "") + (
        f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""
    )
    request = f"{environ.get('REQUEST_METHOD')} {redact_url(path)} {environ.get('SERVER_PROTOCOL')}"
    stamp = timezone.localtime().strftime("[%d/%b/%Y:%H:%M:%S %z]")
    referer = redact_url(environ.get("HTTP_REFERER", "-"))
    return (
        f"{environ.get('REMOTE_ADDR', '-')} {client_address(environ) or '-'} - {stamp} "
        f'"{request}" {response["status"]} {response["size"]} '
        f'"{referer}" "{environ.get("HTTP_USER_AGENT", "-")}" '
        f"{int(seconds * 1000)}ms"
    )
