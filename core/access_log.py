"""An access log for waitress, which has none, in gunicorn's format and file.

One line per request on the ``web.access`` logger (``logs/access.log``):
peer address, X-Real-IP, user, time, request line, status, size, referer,
user agent, duration in milliseconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

logger = logging.getLogger("web.access")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
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


def _line(environ: Environ, response: dict[str, str], seconds: float) -> str:
    path = environ.get("PATH_INFO", "") + (
        f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""
    )
    request = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
    stamp = timezone.localtime().strftime("[%d/%b/%Y:%H:%M:%S %z]")
    return (
        f"{environ.get('REMOTE_ADDR', '-')} {environ.get('HTTP_X_REAL_IP', '-')} - {stamp} "
        f'"{request}" {response["status"]} {response["size"]} '
        f'"{environ.get("HTTP_REFERER", "-")}" "{environ.get("HTTP_USER_AGENT", "-")}" '
        f"{int(seconds * 1000)}ms"
    )
