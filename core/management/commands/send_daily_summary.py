"""Send each chef de projet their daily summary (cron / Task Scheduler / by hand)."""

from __future__ import annotations

import inspect
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _

from core.management.commands.check_task_deadlines import iso_date
from core.models import JobRun
from core.services import jobs


class Command(BaseCommand):
    help = _("Send the daily summary to each project lead (at most once per lead per day).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=str, help=_("Simulate another day (YYYY-MM-DD)."))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Report what would be sent; send nothing.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here: the summary service is its own module (the email issue).
        from core.services.summary import send_daily_summary

        today = iso_date(options["date"]) if options["date"] else None
        kwargs: dict[str, Any] = {"today": today}
        if options["dry_run"]:
            if "dry_run" not in inspect.signature(send_daily_summary).parameters:
                raise CommandError(_("--dry-run is not supported by the summary service."))
            kwargs["dry_run"] = True
        try:
            if options["dry_run"]:
                result = send_daily_summary(**kwargs)
            else:
                result = jobs.run_recorded(
                    jobs.SEND_DAILY_SUMMARY,
                    lambda: send_daily_summary(**kwargs),
                    trigger=JobRun.Trigger.COMMAND,
                    business_date=today,
                )
        except DatabaseError as exc:
            raise CommandError(_("Database error: %(error)s") % {"error": exc}) from exc
        heading = _("Daily summary (dry run)") if options["dry_run"] else _("Daily summary")
        self.stdout.write(heading)
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2, default=str))
