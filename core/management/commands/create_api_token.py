"""Create a personal API token for a user; the token is the last line printed."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from core.management.operator_command import OperatorCommand
from core.models import User
from core.services import api_tokens


class Command(OperatorCommand):
    help = _("Create a personal API token for USERNAME and print it (shown only this once).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help=_("The user's login name."))
        parser.add_argument(
            "--name", default="", help=_("What the token is for (default: created by command).")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None or not user.is_active:
            raise CommandError(
                _("No active user named “%(username)s”.") % {"username": options["username"]}
            )
        name = options["name"].strip() or _("Created by command")
        try:
            created = api_tokens.create_token(user=user, name=name[:100])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            _("Token “%(name)s” created for %(username)s; it is shown only this once:")
            % {"name": created.jeton.nom, "username": user.username}
        )
        self.stdout.write(created.secret)
