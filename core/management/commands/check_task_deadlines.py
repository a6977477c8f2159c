"""Find the tasks due soon or late and create their alerts (cron / Task Scheduler)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.dates import long_date
from core.jobs import arguments
from core.jobs.registry import CHECK_TASK_DEADLINES
from core.jobs.runs import run_job
from core.management.operator_command import OperatorCommand, argument_type
from core.models import JobRun
from core.services.daily_check import run_deadline_check
from core.services.deadlines import DeadlineRunResult

TYPE_LABELS = {
    "ALERTE_ECHEANCE": gettext_lazy("due soon"),
    "ALERTE_CRITIQUE": gettext_lazy("due today"),
    "ALERTE_RETARD": gettext_lazy("late"),
    "ALERTE_ETAPE": gettext_lazy("phase ends"),
    "ALERTE_PROJET": gettext_lazy("project ends"),
    "ESCALADE": gettext_lazy("escalated to the portfolio managers"),
}
SKIP_REASONS = {
    "no_owner": gettext_lazy("task without owner"),
    "owner_without_access": gettext_lazy("owner no longer has access to the project"),
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
        """French sentences for the operator (the run's record keeps the figures)."""
        heading = (
            _("Deadline check of %(date)s (dry run: nothing written)")
            if result.dry_run
            else _("Deadline check of %(date)s")
        )
        self.stdout.write(heading % {"date": long_date(result.today, with_weekday=True)})
        if not result.working_day:
            self.stdout.write(_("A non-working day: no alert is dated on it."))
        for alert_type, count in result.created.items():
            line = _("  %(label)s: %(count)d") % {"label": TYPE_LABELS[alert_type], "count": count}
            self.stdout.write(line)
        self.stdout.write(_summary(result))
        if not result.dry_run and emails:
            count = result.emails_queued
            self.stdout.write(
                ngettext("%(count)d alert email queued.", "%(count)d alert emails queued.", count)
                % {"count": count}
            )
        elif not result.dry_run:
            self.stdout.write(
                _("Backfill of a past day: no email queued (--emails to queue them).")
            )
        self._report_skipped(result)

    def _report_skipped(self, result: DeadlineRunResult) -> None:
        if not result.skipped:
            return
        count = result.skipped_count
        heading = ngettext("%(count)d recipient skipped:", "%(count)d recipients skipped:", count)
        self.stdout.write(self.style.WARNING(heading % {"count": count}))
        for skipped in result.skipped:
            line = _("  %(task)s (task %(id)d): %(reason)s") % {
                "task": skipped.task_name,
                "id": skipped.tache_id,
                "reason": SKIP_REASONS[skipped.reason],
            }
            self.stdout.write(self.style.WARNING(line))


def _summary(result: DeadlineRunResult) -> str:
    """ "50 alertes créées, 30 tâches examinées en 0,07 s." """
    total, tasks = result.total_created, result.tasks_scanned
    alerts = (
        ngettext("%(total)d alert would be created", "%(total)d alerts would be created", total)
        if result.dry_run
        else ngettext("%(total)d alert created", "%(total)d alerts created", total)
    )
    scanned = ngettext("%(tasks)d task scanned", "%(tasks)d tasks scanned", tasks)
    return _("%(alerts)s, %(scanned)s in %(duration)s s.") % {
        "alerts": alerts % {"total": total},
        "scanned": scanned % {"tasks": tasks},
        "duration": formats.number_format(result.duration_s, 2),
    }
