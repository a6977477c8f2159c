"""Send each chef de projet their daily summary (cron / Task Scheduler / by hand)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _

from core.jobs import runs as jobs
from core.management.commands.check_task_deadlines import iso_date
from core.models import JobRun
from core.services.summary import send_daily_summary


class Command(BaseCommand):
    help = _("Send the daily summary to each project lead (at most once per lead per day).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=str, help=_("Simulate another day (YYYY-MM-DD)."))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Report what would be sent; send nothing.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = iso_date(options["date"]) if options["date"] else None
        try:
            if options["dry_run"]:
                result = send_daily_summary(today=today, dry_run=True)
            else:
                result = jobs.run_recorded(
                    jobs.SEND_DAILY_SUMMARY,
                    lambda: send_daily_summary(today=today),
                    trigger=JobRun.Trigger.COMMAND,
                    business_date=today,
                )
        except DatabaseError as exc:
            raise CommandError(_("Database error: %(error)s") % {"error": exc}) from exc
        heading = _("Daily summary (dry run)") if options["dry_run"] else _("Daily summary")
        self.stdout.write(heading)
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2, default=str))
