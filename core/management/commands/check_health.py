"""Exit non-zero when the daily deadline check has not succeeded recently (monitoring)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from core.selectors.health import daily_check_health

# Nagios/Icinga convention, understood by most supervision tools.
EXIT_CRITICAL = 2


class Command(BaseCommand):
    help = _(
        "Check that the daily deadline check succeeded within HEALTH_MAX_AGE_HOURS "
        "(exit code 0) or not (exit code 2)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-age-hours",
            type=int,
            help=_("Override HEALTH_MAX_AGE_HOURS for this check."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = daily_check_health(max_age_hours=options["max_age_hours"])
        if report.ok:
            self.stdout.write(self.style.SUCCESS(report.message))
            return
        self.stderr.write(self.style.ERROR(report.message))
        raise SystemExit(EXIT_CRITICAL)
