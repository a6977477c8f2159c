"""Find the tasks due soon or late and create their alerts (cron / Task Scheduler)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.jobs import arguments
from core.jobs.registry import CHECK_TASK_DEADLINES
from core.jobs.runs import run_job
from core.management.operator_command import OperatorCommand, argument_type
from core.models import JobRun
from core.services.daily_check import run_deadline_check
from core.services.deadlines import DeadlineRunResult

TYPE_LABELS = {
    "ALERTE_ECHEANCE": _lazy("due soon"),
    "ALERTE_CRITIQUE": _lazy("due today"),
    "ALERTE_RETARD": _lazy("late"),
}
SKIP_REASONS = {
    "no_owner": _lazy("task without owner"),
    "owner_without_access": _lazy("owner no longer has access to the project"),
}


class Command(OperatorCommand):
    help = _(
        "Create the deadline alerts due today. --date YYYY-MM-DD: a past day writes that "
        "day's alerts (backfill) without emails unless --emails; a future day needs --dry-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            type=argument_type(arguments.iso_day),
            help=_("Another day (YYYY-MM-DD): past for a backfill, future with --dry-run."),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Report what would be created; write nothing.")
        )
        parser.add_argument(
            "--emails",
            action="store_true",
            help=_("With a past --date, also queue that day's alert emails."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        day = arguments.run_day(options["date"], job=CHECK_TASK_DEADLINES, dry_run=dry_run)
        send_emails = day == timezone.localdate() or options["emails"]
        if dry_run:
            result = run_deadline_check(today=day, dry_run=True)
        else:
            outcome = run_job(
                CHECK_TASK_DEADLINES,
                lambda: run_deadline_check(today=day, send_emails=send_emails),
                trigger=JobRun.Trigger.COMMAND,
                business_date=day,
            )
            assert outcome.result is not None  # an explicit run is never skipped
            result = outcome.result
        self._report(result, emails=send_emails)

    def _report(self, result: DeadlineRunResult, *, emails: bool) -> None:
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
        if not result.dry_run and emails:
            self.stdout.write(
                _("%(emails)d alert email(s) queued.") % {"emails": result.emails_queued}
            )
        elif not result.dry_run:
            self.stdout.write(
                _("Backfill of a past day: no email queued (--emails to queue them).")
            )
        self._report_skipped(result)

    def _report_skipped(self, result: DeadlineRunResult) -> None:
        if not result.skipped:
            return
        self.stdout.write(
            self.style.WARNING(
                _("%(count)d recipient(s) skipped:") % {"count": result.skipped_count}
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
