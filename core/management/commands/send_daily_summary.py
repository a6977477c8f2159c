"""Send each chef de projet their daily summary (cron / Task Scheduler / by hand)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from core.jobs import arguments
from core.jobs.registry import SEND_DAILY_SUMMARY
from core.jobs.runs import run_job
from core.management.operator_command import OperatorCommand, argument_type
from core.models import JobRun
from core.services.summary import send_daily_summary


class Command(OperatorCommand):
    help = _(
        "Send today's summary to each project lead (at most once per lead per day); "
        "--dry-run previews it, for another --date too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            type=argument_type(arguments.iso_day),
            help=_("Preview another day (YYYY-MM-DD), with --dry-run only."),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Report what would be sent; send nothing.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        day = arguments.run_day(options["date"], job=SEND_DAILY_SUMMARY, dry_run=dry_run)
        if dry_run:
            result = send_daily_summary(today=day, dry_run=True)
        else:
            outcome = run_job(
                SEND_DAILY_SUMMARY,
                lambda: send_daily_summary(today=day),
                trigger=JobRun.Trigger.COMMAND,
                business_date=day,
            )
            assert outcome.result is not None  # an explicit run is never skipped
            result = outcome.result
        heading = _("Daily summary (dry run)") if dry_run else _("Daily summary")
        self.stdout.write(heading)
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2, default=str))
