"""The base of the commands operators and schedulers run (cron, Task Scheduler).

Whatever goes wrong, a bad argument or the database down, the operator reads one
French line on stderr and the scheduler sees a non-zero exit: never a traceback
(``--traceback`` still shows one, for a developer).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    handle_default_options,
)
from django.db import DatabaseError, connections
from django.utils.translation import gettext as _

from core.jobs.arguments import InvalidArgument
from core.jobs.errors import first_line


class OperatorCommand(BaseCommand):
    # Exit codes: a bad argument, the database unreachable (check_health follows
    # the Nagios convention: 3 UNKNOWN, 2 CRITICAL).
    usage_error_exit = 1
    database_error_exit = 1

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # A parse error raises CommandError (one line) instead of printing usage.
        parser.called_from_command_line = False
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        """Django's, with every error as one line (no "CommandError:" prefix)."""
        try:
            options = self._parse(argv)
            handle_default_options(options)
            cmd_options = vars(options)
            self.execute(*cmd_options.pop("args", ()), **cmd_options)
        except CommandError as exc:
            if "--traceback" in argv:
                raise
            self.stderr.write(str(exc).removeprefix("Error: "))
            sys.exit(exc.returncode or 1)
        finally:
            with contextlib.suppress(ImproperlyConfigured):  # settings never loaded
                connections.close_all()

    def _parse(self, argv: list[str]) -> argparse.Namespace:
        try:
            return self.create_parser(argv[0], argv[1]).parse_args(argv[2:])
        except CommandError as exc:
            raise CommandError(str(exc), returncode=self.usage_error_exit) from None

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except DatabaseError as exc:
            message = _("Database unavailable: %(error)s") % {"error": first_line(exc)}
            raise CommandError(message, returncode=self.database_error_exit) from exc
        except InvalidArgument as exc:
            raise CommandError(str(exc), returncode=self.usage_error_exit) from exc


def argument_type(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type`` that shows ``convert``'s ValueError message as is."""

    def parse(value: str) -> Any:
        try:
            return convert(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse
