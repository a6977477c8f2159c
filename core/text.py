"""Text people type is data: one normal form, no invisible control characters.

Everything a person types (names, descriptions, reasons, comments) goes through
``normalize`` on input: NFC, line breaks as ``\\n`` and only in multi-line fields,
and no control character, so that no name can break an email, a CSV cell or a
log line, or pass for something else (a right-to-left override makes
``exe.txt`` read ``txt.exe``). Invalid text is refused with a message that names
the character, never silently changed beyond the normal form.

``wire_safe`` is the last line of defence for text that reaches an email from
elsewhere (rows written before this rule, the directory, an import): it removes
what ``normalize`` would have refused. Python's ``str.splitlines()`` counts
``\\x1c``, ``\\x85`` or ``\\u2028`` as line breaks where SMTP counts only CRLF; once
they are gone, a line is the same thing for Django's long-line test and for the
mail server.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Cc (C0, DEL, C1), the Unicode line and paragraph separators, the bidirectional
# embeddings, overrides and isolates, and U+FEFF (an invisible BOM). A multi-line
# field also keeps the tab and the line feed.
_OTHER_INVISIBLE = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
_FORBIDDEN_SINGLE = re.compile("[\x00-\x1f" + _OTHER_INVISIBLE + "]")
_FORBIDDEN_MULTI = re.compile("[\x00-\x08\x0b-\x1f" + _OTHER_INVISIBLE + "]")
_LINE_ENDS = re.compile(r"\r\n?")


def normalize(value: str, *, multiline: bool = False) -> str:
    """``value`` in NFC with ``\\n`` line breaks (CRLF and CR as typed by browsers
    and Windows become LF); a tab is a space in a one-line field."""
    value = unicodedata.normalize("NFC", _LINE_ENDS.sub("\n", value))
    return value if multiline else value.replace("\t", " ")


def forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character ``value`` may not hold, or None."""
    pattern = _FORBIDDEN_MULTI if multiline else _FORBIDDEN_SINGLE
    match = pattern.search(value)
    return match.group() if match else None


@deconstructible
class TextValidator:
    """Refuses invisible control characters (and line breaks in a one-line field)."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: str) -> None:
        char = forbidden_character(value, multiline=self.multiline)
        if char is None:
            return
        if char == "\n":
            raise ValidationError(
                _("This field holds one line: remove the line breaks."), code="line_break"
            )
        raise ValidationError(
            _("This text contains an invisible control character (%(code)s): remove it."),
            code="control_character",
            params={"code": f"U+{ord(char):04X}"},
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash(self.multiline)


single_line = TextValidator()
multi_line = TextValidator(multiline=True)


def wire_safe(text: str) -> str:
    """``text`` with ``\\n`` line breaks and no other control or separator
    character (a tab is kept): what an email body may carry."""
    return _FORBIDDEN_MULTI.sub("", _LINE_ENDS.sub("\n", text))


def header_safe(value: str) -> str:
    """A one-line header value: no control character, runs of white space as one.
    A no-break space stays: French puts one before « : ; ! ? », subjects included."""
    return one_line(_FORBIDDEN_MULTI.sub(" ", value.replace("\t", " ")))


_ASCII_SPACES = re.compile(r"[ \t\n\r\f\v]+")


def one_line(text: str) -> str:
    """``text`` on one line, runs of ASCII white space as one space, trimmed.
    ``str.split()`` would also break on the no-break spaces of French typography."""
    return _ASCII_SPACES.sub(" ", text).strip()


class TypedTextField(forms.CharField):
    """A form field for typed text: normalised, then refused if it still holds a
    control character (or a line break, on one line)."""

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)
        self.validators.append(TextValidator(multiline=multiline))

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        return normalize(text, multiline=self.multiline).strip() if text else text
