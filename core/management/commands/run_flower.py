"""Start Flower (Celery's monitoring UI) behind HTTP basic auth, in one command.

Flower runs as a child process (``core.flower_process``: every page, ``/metrics``
and ``/healthcheck`` included, behind the same password). Stopping this command
stops Flower: SIGTERM, SIGINT (Ctrl+C) and, on Windows, CTRL_BREAK are passed on
to the child, which gets STOP_TIMEOUT_S to exit before it is killed; its port is
free when the command returns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

STOP_TIMEOUT_S = 10
# Windows has no SIGTERM to send; a console's Ctrl+Break arrives as SIGBREAK.
STOP_SIGNALS = [signal.SIGTERM, signal.SIGINT]
if sys.platform == "win32":
    STOP_SIGNALS.append(signal.SIGBREAK)


class StopRequested(Exception):
    """This command was asked to stop (a signal): stop Flower, then return."""


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
        command = [sys.executable, "-m", "core.flower_process", "-A", "si_gouvernance", "flower"]
        if options["port"]:
            command.append(f"--port={options['port']}")
        if options["address"]:
            command.append(f"--address={options['address']}")
        code = run_until_stopped(command, env=env)
        if code:
            raise SystemExit(code)


def run_until_stopped(command: list[str], *, env: dict[str, str]) -> int:
    """Run ``command`` until it exits, or until this process is asked to stop:
    then stop it too and wait for it. Its exit code, 0 after a requested stop."""
    # On Windows CTRL_BREAK_EVENT only reaches a child started in its own group.
    flags = 0
    if sys.platform == "win32":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP
    child = subprocess.Popen(command, env=env, creationflags=flags)  # noqa: S603 (fixed argv)
    previous = {signum: signal.signal(signum, _raise_stop) for signum in STOP_SIGNALS}
    try:
        return child.wait()
    except (StopRequested, KeyboardInterrupt):
        stop(child)
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if child.poll() is None:  # only if this very function failed
            child.kill()
            child.wait()


def stop(child: subprocess.Popen[bytes]) -> None:
    """Ask ``child`` to exit, kill it after STOP_TIMEOUT_S, and reap it."""
    if child.poll() is None and sys.platform == "win32":
        child.send_signal(signal.CTRL_BREAK_EVENT)
    elif child.poll() is None:
        child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise StopRequested(signal.Signals(signum).name)
