"""Start the production web server: gunicorn on Linux, waitress on Windows.

One command on both platforms, configured by the same variables (WEB_BIND,
WEB_WORKERS, WEB_THREADS, WEB_TIMEOUT), with the access log in logs/access.log.
gunicorn replaces this process (``exec``), so systemd's signals reach it directly.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

GUNICORN_CONF = Path(settings.BASE_DIR) / "si_gouvernance" / "gunicorn.conf.py"
SERVERS = ("gunicorn", "waitress")


class Command(BaseCommand):
    help = _("Start the production web server (gunicorn on Linux, waitress on Windows).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--server",
            choices=SERVERS,
            default="waitress" if os.name == "nt" else "gunicorn",
            help=_("Web server (default: gunicorn, waitress on Windows)."),
        )
        parser.add_argument("--bind", default=settings.WEB_BIND, help=_("Address:port."))
        parser.add_argument("--workers", type=int, default=settings.WEB_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.WEB_THREADS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["server"] == "gunicorn":
            exec_gunicorn(
                bind=options["bind"], workers=options["workers"], threads=options["threads"]
            )
        serve_waitress(bind=options["bind"], threads=options["threads"])


def exec_gunicorn(*, bind: str, workers: int, threads: int) -> None:
    if os.name == "nt":
        raise CommandError(_("gunicorn does not run on Windows: use --server waitress."))
    command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)]
    command += [f"--bind={bind}", f"--workers={workers}", f"--threads={threads}"]
    sys.stdout.flush()
    os.execv(sys.executable, command)  # noqa: S606 (fixed argv, no shell)


def serve_waitress(*, bind: str, threads: int) -> None:
    from django.core.wsgi import get_wsgi_application
    from waitress import serve

    from core.access_log import access_logged

    # A service manager's stop (SIGTERM; CTRL_BREAK on Windows) ends the loop
    # like Ctrl+C does: waitress closes its sockets and returns.
    for name in ("SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _exit)
    serve(
        access_logged(get_wsgi_application()),
        listen=bind,
        threads=threads,
        channel_timeout=settings.WEB_TIMEOUT,
        ident="SI-Gouvernance",
        # Behind the local reverse proxy: trust its X-Forwarded-Proto (HTTPS), or
        # waitress would drop the header and Django would redirect forever.
        trusted_proxy="127.0.0.1",
        trusted_proxy_headers={"x-forwarded-proto"},
    )


def _exit(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
