"""Find the tasks due soon or late and create their alerts (cron / Task Scheduler)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.jobs import runs as jobs
from core.models import JobRun
from core.services.daily_check import run_deadline_check
from core.services.deadlines import DeadlineRunResult


def iso_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("Invalid date %(value)r: expected YYYY-MM-DD.") % {"value": value}
        ) from None


TYPE_LABELS = {
    "ALERTE_ECHEANCE": _lazy("due soon"),
    "ALERTE_CRITIQUE": _lazy("due today"),
    "ALERTE_RETARD": _lazy("late"),
}
SKIP_REASONS = {
    "no_owner": _lazy("task without owner"),
    "owner_without_access": _lazy("owner no longer has access to the project"),
}


class Command(BaseCommand):
    help = _lazy("Create the deadline alerts due today (or on --date).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=str, help=_("Simulate another day (YYYY-MM-DD)."))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Report what would be created; write nothing.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = iso_date(options["date"]) if options["date"] else None
        dry_run: bool = options["dry_run"]
        try:
            if dry_run:
                result = run_deadline_check(today=today, dry_run=True)
            else:
                result = jobs.run_recorded(
                    jobs.CHECK_TASK_DEADLINES,
                    lambda: run_deadline_check(today=today),
                    trigger=JobRun.Trigger.COMMAND,
                    business_date=today,
                )
        except DatabaseError as exc:
            raise CommandError(_("Database error: %(error)s") % {"error": exc}) from exc
        self._report(result)

    def _report(self, result: DeadlineRunResult) -> None:
        heading = _("Dry run for %(date)s") if result.dry_run else _("Deadline check for %(date)s")
        self.stdout.write(heading % {"date": result.today.isoformat()})
        for alert_type, count in result.created.items():
            self.stdout.write(f"  {TYPE_LABELS[alert_type]}: {count}")
        summary = (
            _("%(total)d alert(s) would be created, %(tasks)d task(s) scanned in %(duration).2f s.")
            if result.dry_run
            else _("%(total)d alert(s) created, %(tasks)d task(s) scanned in %(duration).2f s.")
        )
        self.stdout.write(
            summary
            % {
                "total": result.total_created,
                "tasks": result.tasks_scanned,
                "duration": result.duration_s,
            }
        )
        if not result.dry_run:
            self.stdout.write(
                _("%(emails)d alert email(s) queued.") % {"emails": result.emails_queued}
            )
        self._report_skipped(result)

    def _report_skipped(self, result: DeadlineRunResult) -> None:
        if not result.skipped:
            return
        self.stdout.write(
            self.style.WARNING(
                _("%(count)d recipient(s) skipped:") % {"count": len(result.skipped)}
            )
        )
        for skipped in result.skipped:
            self.stdout.write(
                self.style.WARNING(
                    _("  %(task)s (#%(id)d): %(reason)s")
                    % {
                        "task": skipped.task_name,
                        "id": skipped.tache_id,
                        "reason": SKIP_REASONS[skipped.reason],
                    }
                )
            )
