"""Text cells a spreadsheet must read as text, never as a formula (CSV injection).

Excel and LibreOffice skip leading blanks and line breaks before they look for a
formula, so ``" =HYPERLINK(…)"`` or ``"\\n=1+1"`` is as live as ``"=1+1"``. A cell
whose first character that is not blank (whitespace, control or invisible format
character) is ``= + - @``, or that starts with a tab or a carriage return, is
prefixed with an apostrophe, which the spreadsheet shows as text. Every CSV this
application writes passes its text cells through ``safe_row``; the XLSX export
writes them as text cells marked "quote prefix" (``could_run``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

FORMULA_STARTS = frozenset("=+-@")
CONTROL_STARTS = ("\t", "\r")


def _is_blank(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def could_run(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula once typed in a cell
    (the XLSX export keeps such a cell as text: core.services.portfolio_export)."""
    first = next((char for char in text if not _is_blank(char)), "")
    return first in FORMULA_STARTS or text.startswith(CONTROL_STARTS)


def neutralise(text: str) -> str:
    """``text``, with a leading apostrophe if a spreadsheet could run it."""
    return f"'{text}" if could_run(text) else text


def safe_row(values: Iterable[object]) -> list[object]:
    """A CSV row whose text cells are neutralised; numbers are kept as numbers."""
    return [neutralise(value) if isinstance(value, str) else value for value in values]
