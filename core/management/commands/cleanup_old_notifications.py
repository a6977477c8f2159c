"""Delete read notifications older than --days (the weekly housekeeping job)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from core.jobs import arguments
from core.jobs.registry import CLEANUP_OLD_NOTIFICATIONS
from core.jobs.runs import run_job
from core.management.operator_command import OperatorCommand, argument_type
from core.models import JobRun
from core.services.cleanup import cleanup_old_notifications


class Command(OperatorCommand):
    help = _("Delete read notifications older than --days days; unread ones are kept.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=argument_type(arguments.days),
            help=_("Age in days beyond which read notifications are deleted (default: %(d)s).")
            % {"d": settings.NOTIFICATION_RETENTION_DAYS},
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = arguments.days(options["days"])
        outcome = run_job(
            CLEANUP_OLD_NOTIFICATIONS,
            lambda: cleanup_old_notifications(days=days),
            trigger=JobRun.Trigger.COMMAND,
        )
        deleted = outcome.result["deleted"] if outcome.result else 0
        self.stdout.write(
            _("%(deleted)d read notification(s) older than %(days)d days deleted.")
            % {"deleted": deleted, "days": days}
        )
