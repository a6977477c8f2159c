"""Import a portfolio spreadsheet (CSV or XLSX): projects, phases and tasks, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from core import portfolio_import_text as text
from core.management.operator_command import OperatorCommand
from core.models import User
from core.services.portfolio_import import DETAIL_LIMIT, import_portfolio


class Command(OperatorCommand):
    help = _(
        "Import a portfolio spreadsheet (CSV or XLSX): its projects, phases and tasks are "
        "created or updated, all or nothing. --dry-run: report what would change; write nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("The CSV or XLSX file."))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("Report what would change; write nothing.")
        )
        parser.add_argument(
            "--auteur",
            metavar="USERNAME",
            help=_("The account the history names as author (default: none)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No file %(path)s.") % {"path": path})
        result = import_portfolio(
            path=path,
            file_name=path.name,
            author=_author(options["auteur"]),
            dry_run=options["dry_run"],
        )
        self.stdout.write(text.heading(result))
        if not result.ok:
            for line in text.error_lines(result):
                self.stderr.write(line)
            raise CommandError(text.refusal(result))
        for line in [*text.count_lines(result), text.no_events()]:
            self.stdout.write(line)
        if result.changes:
            self.stdout.write(_("First changes (at most %(count)d):") % {"count": DETAIL_LIMIT})
            for change in result.changes:
                self.stdout.write("  " + text.change_line(change))


def _author(username: str | None) -> User | None:
    if username is None:
        return None
    try:
        return User.objects.get(username__iexact=username, is_active=True)
    except User.DoesNotExist:
        raise CommandError(_("No active account “%(name)s”.") % {"name": username}) from None
