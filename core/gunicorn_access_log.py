"""gunicorn's access log without secrets, naming the client as the application
does (the ``logger_class`` of si_gouvernance/gunicorn.conf.py; Linux only).

gunicorn's public extension point: a ``gunicorn.glogging.Logger`` subclass whose
``atoms`` (the values ``access_log_format`` is filled with) are redacted by the
same functions as waitress' log (``core.access_log``), plus ``client_ip``.
"""

from __future__ import annotations

import datetime
from collections.abc import MutableMapping
from typing import Any

from gunicorn.glogging import Logger
from gunicorn.http import Request
from gunicorn.http.wsgi import Response

from core.access_log import redact_query, redact_url
from core.client_ip import client_address

# The atoms that carry a URL or a path, and those that carry a query string.
URL_ATOMS = ("U", "f", "{referer}i", "{raw_uri}e", "{path_info}e", "{http_referer}e")
QUERY_ATOMS = ("q", "{query_string}e")


class RedactingLogger(Logger):
    # The stubs type the atoms as a closed TypedDict; gunicorn's format also reads
    # "{header}i"-style keys, and ours adds "client_ip": a plain dict, as at run time.
    def atoms(  # type: ignore[override]
        self,
        resp: Response,
        req: Request,
        environ: MutableMapping[str, Any],
        request_time: datetime.timedelta,
    ) -> dict[str, Any]:
        atoms: dict[str, Any] = dict(super().atoms(resp, req, environ, request_time))
        for key in URL_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_url(atoms[key])
        for key in QUERY_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_query(atoms[key])
        target = redact_url(environ.get("RAW_URI") or environ.get("PATH_INFO", ""))
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {target} {environ.get('SERVER_PROTOCOL')}"
        atoms["client_ip"] = client_address(environ) or "-"
        return atoms
