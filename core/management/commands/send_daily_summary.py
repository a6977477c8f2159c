"""Send each chef de projet their daily summary (cron / Task Scheduler / by hand)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dates import long_date
from core.jobs import arguments
from core.jobs.registry import SEND_DAILY_SUMMARY
from core.jobs.runs import run_job
from core.management.operator_command import OperatorCommand, argument_type
from core.models import JobRun
from core.services.summary import SummaryResult, send_daily_summary

SKIP_REASONS = {
    "nothing_to_report": gettext_lazy("leads with nothing to report"),
    "no_email": gettext_lazy("leads without an email address"),
    "opted_out": gettext_lazy("leads who turned the summary off"),
}


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
        parser.add_argument(
            "--json", action="store_true", help=_("The report as JSON, for a program.")
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
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._report(result)

    def _report(self, result: SummaryResult) -> None:
        """French sentences for the operator."""
        heading = (
            _("Daily summary of %(date)s (dry run: nothing sent)")
            if result.dry_run
            else _("Daily summary of %(date)s")
        )
        self.stdout.write(heading % {"date": long_date(result.today, with_weekday=True)})
        skipped = result.as_dict()["skipped"]
        lines = [
            (_("project leads"), result.leads),
            (
                _("summaries that would be queued") if result.dry_run else _("summaries queued"),
                result.queued,
            ),
            (_("already sent today"), result.already_queued),
            *((SKIP_REASONS.get(reason, reason), count) for reason, count in skipped.items()),
        ]
        for label, count in lines:
            self.stdout.write(_("  %(label)s: %(count)d") % {"label": label, "count": count})
        duration = formats.number_format(result.duration_s, 2)
        self.stdout.write(_("Done in %(duration)s s.") % {"duration": duration})
