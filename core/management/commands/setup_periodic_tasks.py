"""Store the periodic jobs declared in code in django-celery-beat's tables."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.jobs import beat_rows
from core.management.operator_command import OperatorCommand

OUTCOMES = {
    beat_rows.CREATED: gettext_lazy("created"),
    beat_rows.UPDATED: gettext_lazy("updated to the code's default"),
    beat_rows.UNCHANGED: gettext_lazy("up to date"),
    beat_rows.MODIFIED: gettext_lazy("changed by an administrator: kept"),
    beat_rows.RESET: gettext_lazy("reset to the code's default"),
    beat_rows.REMOVED: gettext_lazy("no longer declared: removed"),
}


class Command(OperatorCommand):
    help = _(
        "Store the periodic jobs: rows an administrator has not changed follow the "
        "code's defaults, changed ones are kept; --reset puts every one back to the code's."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_("Overwrite the administrators' changes with the code's schedule."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = beat_rows.reset_all() if options["reset"] else beat_rows.sync_rows()
        for name, what in outcome.items():
            self.stdout.write(
                _("%(name)s: %(outcome)s") % {"name": name, "outcome": OUTCOMES[what]}
            )
