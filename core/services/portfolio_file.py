"""A portfolio spreadsheet, read row by row: CSV as Excel writes it in France, or XLSX.

CSV: UTF-8 with or without a BOM (Excel's « CSV UTF-8 »), the separator of the
header line (``;`` from a French Excel, ``,`` elsewhere), quoted cells. XLSX: the
first sheet, through openpyxl in read-only mode (rows are streamed, date cells
come as datetimes). Either way the rows are typed here (dates, statuses,
priorities, normalised text) and numbered as the spreadsheet shows them: the
header is line 1. Nothing here touches the database.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import functools
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from core.models import Etape, Projet, Tache
from core.text import forbidden_character, normalize

REQUIRED = (
    "code_projet",
    "projet",
    "chef_de_projet",
    "tache",
    "responsable",
    "date_echeance",
    "statut",
)
OPTIONAL = (
    "etape",
    "priorite",
    "description",
    "date_debut_projet",
    "date_fin_projet",
    "date_debut_etape",
    "date_fin_etape",
)
COLUMNS = REQUIRED + OPTIONAL
# Headers people write for the same column (after folding: no accent, lower case).
ALIASES = {"code": "code_projet", "echeance": "date_echeance", "nom_projet": "projet"}
_CODE = re.compile(r"^[-a-zA-Z0-9_]+$")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary .xls of Excel 97-2003


class FileRefused(Exception):
    """The file cannot be read at all (format, encoding, header): one French line."""

    def __init__(self, message: str, *, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One typed line of the file; ``None``: the optional cell is empty (kept as is)."""

    line: int
    code: str
    projet: str
    chef: str  # a username or an email, lower case
    etape: str  # "": a task without phase
    tache: str
    responsable: str
    date_echeance: datetime.date
    statut: str
    priorite: str | None
    description: str | None
    date_debut_projet: datetime.date | None
    date_fin_projet: datetime.date | None
    date_debut_etape: datetime.date | None
    date_fin_etape: datetime.date | None

    @property
    def project_key(self) -> str:
        return self.code.lower()

    @property
    def phase_key(self) -> tuple[str, str]:
        return (self.project_key, self.etape)

    @property
    def task_key(self) -> tuple[str, str, str]:
        return (self.project_key, self.etape, self.tache)


def fold(text: str) -> str:
    """``text`` without accents, in lower case, words joined by ``_``: how headers,
    statuses and priorities are compared (« À faire » and A_FAIRE are one)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "_", bare.lower()).strip("_")


@functools.cache
def _choices(kind: str) -> dict[str, str]:
    """Code by folded code and by folded label, in French and in English."""
    choices = Tache.Statut.choices if kind == "statut" else Tache.Priorite.choices
    found: dict[str, str] = {}
    for code, label in choices:
        found[fold(code)] = code
        for language in ("fr", "en"):
            with translation.override(language):
                found[fold(str(label))] = code
    return found


@contextlib.contextmanager
def open_rows(path: Path) -> Iterator[Iterator[ImportRow | list[RowError]]]:
    """The typed rows of the file at ``path`` (a row, or the errors of a bad row);
    blank rows are skipped. Raises ``FileRefused`` for an unreadable file."""
    with path.open("rb") as raw:
        magic = raw.read(4)
    if magic == OLE_MAGIC:
        raise FileRefused(_("Old Excel files (.xls) are not read: save the file as .xlsx or CSV."))
    with contextlib.ExitStack() as stack:
        records = stack.enter_context(_xlsx(path) if magic == ZIP_MAGIC else _csv(path))
        yield _typed(records)


@contextlib.contextmanager
def _csv(path: Path) -> Iterator[Iterator[list[Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as text:
        yield _csv_records(text)


def _csv_records(text: io.TextIOBase) -> Iterator[list[Any]]:
    line = 0
    try:
        first = text.readline()
        delimiter = max(";,\t", key=first.count)  # ";" on a tie: Excel in France
        reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
        for line, record in enumerate(reader, start=1):  # noqa: B007 (read on error)
            yield record
    except UnicodeDecodeError:
        raise FileRefused(
            _("The file is not in UTF-8: in Excel, save it as “CSV UTF-8”."), line=line + 1
        ) from None
    except csv.Error as error:
        raise FileRefused(
            _("Unreadable CSV: %(error)s") % {"error": error}, line=line + 1
        ) from None


@contextlib.contextmanager
def _xlsx(path: Path) -> Iterator[Iterator[list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # A file object, not a path: openpyxl would refuse a kept upload by its name.
    with path.open("rb") as raw:
        try:
            workbook = load_workbook(raw, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError):
            raise FileRefused(_("This XLSX file cannot be read.")) from None
        try:
            sheet = workbook.worksheets[0]
            yield (list(values) for values in sheet.iter_rows(values_only=True))
        finally:
            workbook.close()


def _typed(records: Iterator[list[Any]]) -> Iterator[ImportRow | list[RowError]]:
    header = next(records, None)
    if header is None or not any(_is_filled(title) for title in header):
        raise FileRefused(_("The file is empty."))
    columns = _columns(header)
    for line, record in enumerate(records, start=2):
        cells = {name: record[index] if index < len(record) else None for name, index in columns}
        if any(_is_filled(value) for value in cells.values()):
            yield parse_row(line, cells)


def _columns(header: list[Any]) -> list[tuple[str, int]]:
    """(column, index) of the known columns of the header; other columns are ignored."""
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        name = fold(str(title or ""))
        name = ALIASES.get(name, name)
        if name not in COLUMNS:
            continue
        if name in found:
            raise FileRefused(_("The column “%(name)s” appears twice.") % {"name": name})
        found[name] = index
    if missing := [name for name in REQUIRED if name not in found]:
        raise FileRefused(_("Required columns missing: %(names)s.") % {"names": ", ".join(missing)})
    return list(found.items())


def _is_filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


class _CellError(ValueError):
    pass


def parse_row(line: int, cells: dict[str, Any]) -> ImportRow | list[RowError]:
    """The typed row, or every error of its cells."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for name, parse in _PARSERS.items():
        value = cells.get(name)
        try:
            if name in REQUIRED and not _is_filled(value):
                raise _CellError(_("required, the cell is empty"))
            values[name] = parse(value) if _is_filled(value) else None
        except _CellError as error:
            errors.append(
                RowError(line, _("column “%(name)s”: %(error)s") % {"name": name, "error": error})
            )
    if not errors and (bad := _dates_in_order(values)):
        errors.append(RowError(line, bad))
    if errors:
        return errors
    return ImportRow(
        line=line,
        code=values["code_projet"],
        projet=values["projet"],
        chef=values["chef_de_projet"].lower(),
        etape=values["etape"] or "",
        tache=values["tache"],
        responsable=values["responsable"].lower(),
        date_echeance=values["date_echeance"],
        statut=values["statut"],
        priorite=values["priorite"],
        description=values["description"],
        date_debut_projet=values["date_debut_projet"],
        date_fin_projet=values["date_fin_projet"],
        date_debut_etape=values["date_debut_etape"],
        date_fin_etape=values["date_fin_etape"],
    )


def _dates_in_order(values: dict[str, Any]) -> str | None:
    for start, end, message in (
        ("date_debut_projet", "date_fin_projet", _("the project ends before it starts")),
        ("date_debut_etape", "date_fin_etape", _("the phase ends before it starts")),
    ):
        if values[start] and values[end] and values[end] < values[start]:
            return message
    return None


def _text(value: Any, *, max_length: int, multiline: bool = False) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime.datetime):
        value = value.date()
    text = normalize(str(value), multiline=multiline).strip()
    if len(text) > max_length:
        raise _CellError(_("too long (at most %(max)d characters)") % {"max": max_length})
    if (char := forbidden_character(text, multiline=multiline)) is not None:
        raise _CellError(
            _("invisible control character (%(code)s)") % {"code": f"U+{ord(char):04X}"}
        )
    return text


def _length(model: Any, field: str) -> int:
    return int(model._meta.get_field(field).max_length)


def _code(value: Any) -> str:
    code = _text(value, max_length=_length(Projet, "code"))
    if not _CODE.match(code):
        raise _CellError(
            _("“%(value)s” is not a project code (letters, digits, - and _ only)") % {"value": code}
        )
    return code


def _date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    if match := _FR_DATE.match(text):
        day, month, year = map(int, match.groups())
    elif match := _ISO_DATE.match(text):
        year, month, day = map(int, match.groups())
    else:
        raise _CellError(
            _("“%(value)s” is not a date (DD/MM/YYYY or YYYY-MM-DD)") % {"value": text}
        )
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise _CellError(_("the date “%(value)s” does not exist") % {"value": text}) from None


def _statut(value: Any) -> str:
    text = str(value).strip()
    if (code := _choices("statut").get(fold(text))) is None:
        raise _CellError(_("unknown status “%(value)s”") % {"value": text})
    return code


def _priorite(value: Any) -> str:
    text = str(value).strip()
    if (code := _choices("priorite").get(fold(text))) is None:
        raise _CellError(_("unknown priority “%(value)s”") % {"value": text})
    return code


_PARSERS: dict[str, Any] = {
    "code_projet": _code,
    "projet": lambda value: _text(value, max_length=_length(Projet, "nom")),
    "chef_de_projet": lambda value: _text(value, max_length=254),
    "etape": lambda value: _text(value, max_length=_length(Etape, "nom")),
    "tache": lambda value: _text(value, max_length=_length(Tache, "nom")),
    "responsable": lambda value: _text(value, max_length=254),
    "date_echeance": _date,
    "statut": _statut,
    "priorite": _priorite,
    "description": lambda value: _text(value, max_length=5000, multiline=True),
    "date_debut_projet": _date,
    "date_fin_projet": _date,
    "date_debut_etape": _date,
    "date_fin_etape": _date,
}
