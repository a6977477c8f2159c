"""Model fields for text people type (see ``core.text``): the database keeps what
the forms accept, and every model form, the admin's included, normalises it."""

from __future__ import annotations

from typing import Any

from django.db import models

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
