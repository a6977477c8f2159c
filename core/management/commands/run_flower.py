"""Start Flower (Celery's monitoring UI) behind HTTP basic auth, in one command."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _


def valid_basic_auth(value: str) -> bool:
    """``user:password`` pairs, comma-separated, none with an empty part."""
    pairs = [pair for pair in value.split(",") if pair.strip()]
    return bool(pairs) and all(
        all(part.strip() for part in pair.split(":", 1)) and ":" in pair for pair in pairs
    )


class Command(BaseCommand):
    help = _("Start Flower behind basic auth (FLOWER_BASIC_AUTH=user:password).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, help=_("Port (default: FLOWER_PORT or 5555)."))
        # Loopback by default: basic auth over plain HTTP belongs behind an HTTPS proxy.
        parser.add_argument(
            "--address",
            default="127.0.0.1",
            help=_("Listen address (default: 127.0.0.1, behind an HTTPS reverse proxy)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        env = dict(os.environ)
        auth = settings.FLOWER_BASIC_AUTH
        if auth:
            if not valid_basic_auth(auth):
                raise CommandError(
                    _("FLOWER_BASIC_AUTH must look like user:password (several: u1:p1,u2:p2).")
                )
            env["FLOWER_BASIC_AUTH"] = auth  # via the environment: not visible in `ps`
        elif not settings.FLOWER_DEV_MODE:
            raise CommandError(
                _(
                    "Flower refuses to start without a password: set FLOWER_BASIC_AUTH="
                    "user:password, or FLOWER_DEV_MODE=true on a development machine only."
                )
            )
        else:
            env.pop("FLOWER_BASIC_AUTH", None)
            self.stderr.write(
                self.style.WARNING(_("FLOWER_DEV_MODE: Flower runs WITHOUT a password."))
            )
        command = [sys.executable, "-m", "celery", "-A", "si_gouvernance", "flower"]
        if options["port"]:
            command.append(f"--port={options['port']}")
        if options["address"]:
            command.append(f"--address={options['address']}")
        try:
            code = subprocess.call(command, env=env)  # noqa: S603 (fixed argv, no shell)
        except KeyboardInterrupt:
            code = 0
        if code:
            raise SystemExit(code)
