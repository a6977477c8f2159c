"""Store the beat schedule declared in code in django-celery-beat's tables."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from core.jobs.scheduler import install_entries
from si_gouvernance.celery import app


class Command(BaseCommand):
    help = _(
        "Create the periodic jobs missing from the database; "
        "--reset puts every one back to the code's definition."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_("Overwrite the administrators' changes with the code's schedule."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        labels = {"created": _("created"), "kept": _("kept as is"), "reset": _("reset")}
        for name, outcome in install_entries(app, reset=options["reset"]).items():
            self.stdout.write(f"{name}: {labels[outcome]}")
