"""Exit non-zero when the daily deadline check has not succeeded recently (monitoring)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from core.jobs import registry
from core.management.operator_command import OperatorCommand, argument_type
from core.selectors.health import daily_check_health, system_health

# Nagios/Icinga convention, understood by most supervision tools.
EXIT_CRITICAL = 2
EXIT_UNKNOWN = 3
MAX_AGE_HOURS = 24 * 366


def max_age_hours(value: str) -> int:
    try:
        hours = int(value)
    except ValueError:
        hours = 0
    if not 1 <= hours <= MAX_AGE_HOURS:
        raise ValueError(
            _("Invalid --max-age-hours %(value)r: expected a whole number from 1 to %(max)d.")
            % {"value": value, "max": MAX_AGE_HOURS}
        )
    return hours


class Command(OperatorCommand):
    help = _(
        "Check that the daily deadline check succeeded within HEALTH_MAX_AGE_HOURS "
        "(exit code 0) or not (exit code 2); --full also checks the database, the "
        "broker, the outbox, the workers, beat and the logs, as GET /health/ does."
    )
    # The database down is a critical state for supervision; a bad argument says
    # nothing of the application's state.
    database_error_exit = EXIT_CRITICAL
    usage_error_exit = EXIT_UNKNOWN
    # A probe run every minute: the system checks belong to the deployment, not to it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-age-hours",
            type=argument_type(max_age_hours),
            help=_("Override HEALTH_MAX_AGE_HOURS for this check."),
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help=_(
                "Also check the database, the broker, the outbox, the workers, beat and "
                "the logs (as GET /health/)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["full"]:
            self._full()
            return
        report = daily_check_health(
            job=registry.CHECK_TASK_DEADLINES, max_age_hours=options["max_age_hours"]
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS(report.message))
            return
        self.stderr.write(self.style.ERROR(report.message))
        raise SystemExit(EXIT_CRITICAL)

    def _full(self) -> None:
        """One line per component (database, broker, daily check, outbox, worker,
        beat, logs); exit 2 when any of them fails (a warning, lost logs, does not)."""
        health = system_health(daily_check=registry.CHECK_TASK_DEADLINES)
        for name, component in health.components.items():
            line = f"{name} : {component.message}"
            if not component.ok:
                self.stderr.write(self.style.ERROR(line))
            elif component.warning:
                self.stdout.write(self.style.WARNING(line))
            else:
                self.stdout.write(self.style.SUCCESS(line))
        if not health.ok:
            raise SystemExit(EXIT_CRITICAL)
