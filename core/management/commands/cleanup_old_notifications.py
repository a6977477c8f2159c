"""Delete read notifications older than --days (the weekly housekeeping job)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _

from core.jobs import runs as jobs
from core.models import JobRun
from core.services.cleanup import cleanup_old_notifications, validate_days


class Command(BaseCommand):
    help = _("Delete read notifications older than --days days; unread ones are kept.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            default=str(settings.NOTIFICATION_RETENTION_DAYS),
            help=_("Age in days beyond which read notifications are deleted (default: %(d)s).")
            % {"d": settings.NOTIFICATION_RETENTION_DAYS},
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            days = validate_days(options["days"])
        except ValueError:
            raise CommandError(
                _("Invalid --days %(value)r: expected a whole number of days, 1 or more.")
                % {"value": options["days"]}
            ) from None
        try:
            counts = jobs.run_recorded(
                jobs.CLEANUP_OLD_NOTIFICATIONS,
                lambda: cleanup_old_notifications(days=days),
                trigger=JobRun.Trigger.COMMAND,
            )
        except DatabaseError as exc:
            raise CommandError(_("Database error: %(error)s") % {"error": exc}) from exc
        self.stdout.write(
            _("%(deleted)d read notification(s) older than %(days)d days deleted.")
            % {"deleted": counts["deleted"], "days": days}
        )
