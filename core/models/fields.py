"""Model fields for text people type (see ``core.text``): the database keeps what
the forms accept, and every model form, the admin's included, normalises it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from core.text import TypedTextField, multi_line, single_line


class NameField(models.CharField):
    """One line of typed text: a name."""

    default_validators = [single_line]

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": TypedTextField, **kwargs})


class NoteField(models.TextField):
    """Typed text over several lines: a description, a reason, a comment."""

    default_validators = [multi_line]

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": TypedTextField, "multiline": True, **kwargs})


# The furthest an advance alert may come before the due date (the engine reads the
# tasks due within this many days, past the next non-working days).
MAX_ADVANCE_DAYS = 60


def ladder_days(text: str) -> tuple[int, ...]:
    """The days of a ladder such as ``"7,3,1"``, most distant first; ``""`` is no
    advance alert. Raises ``ValidationError`` on anything else."""
    if text.strip() in ("", "0"):  # "0": none (a blank form field inherits)
        return ()
    try:
        days = {int(part) for part in text.replace(";", ",").split(",") if part.strip()}
    except ValueError:
        raise ValidationError(
            _("Give days as whole numbers separated by commas, for example 7, 3, 1."),
            code="invalid",
        ) from None
    if not all(1 <= day <= MAX_ADVANCE_DAYS for day in days):
        raise ValidationError(
            _("Each day must be between 1 and %(max)d.") % {"max": MAX_ADVANCE_DAYS},
            code="range",
        )
    return tuple(sorted(days, reverse=True))


class LadderField(models.CharField):
    """The days before a due date that alert the owner, kept as ``"7,3,1"``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 100)
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value is None:
            return None
        return ",".join(map(str, ladder_days(value)))
