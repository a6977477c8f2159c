"""The portfolio export: CSV or XLSX, the same columns, written row by row.

Both writers read ``core.selectors.portfolio.all_rows`` (the counts one streamed
aggregate, the history one query per chunk), so memory stays flat and the number
of queries grows by one per chunk of projects, never per project. The CSV is
yielded line by line (the response streams it); the XLSX is written by openpyxl in
write-only mode, its rows going to a temporary file on disk as they come.

Up to ``PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS`` projects the request writes it;
above, a worker does (``core.services.portfolio_export_jobs``).
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from core.csv_cells import could_run, safe_row
from core.models import ExportPortefeuille
from core.selectors import portfolio
from core.services import portfolio_figures

Format = ExportPortefeuille.Format
CONTENT_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SHEET_TITLE = "Portefeuille"
DATE_FORMAT = "DD/MM/YYYY"
# The widths of the first columns (name, code, lead, status); the figures' are the default.
COLUMN_WIDTHS = {"A": 40, "B": 14, "C": 24, "D": 14}
# What XML 1.0 cannot hold (openpyxl refuses it): typed text is normalised on
# input, but an old row or an import may still hold one.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def project_count(*, filters: portfolio.PortfolioFilters) -> int:
    """How many projects the export would have, counted in the database."""
    return portfolio.filtered_projects(filters=filters).order_by().count()


def fits_in_request(*, filters: portfolio.PortfolioFilters) -> bool:
    return project_count(filters=filters) <= settings.PORTFOLIO_EXPORT_INLINE_MAX_PROJECTS


def filename(*, fmt: str, today: datetime.date) -> str:
    return f"portefeuille-{today.isoformat()}.{Format(fmt).value}"


def header(*, today: datetime.date) -> list[str]:
    weeks = [
        _("Late on %(date)s") % {"date": formats.date_format(day, "SHORT_DATE_FORMAT")}
        for day in portfolio.trend_days(today=today)
    ]
    return [
        _("Project"),
        _("Code"),
        _("Project lead"),
        _("Status"),
        _("Open tasks"),
        _("Late tasks"),
        _("Due today"),
        _("Slipped due dates"),
        *weeks,
    ]


def cells(row: portfolio.PortfolioRow) -> list[object]:
    """A project's cells, typed: text, numbers (and dates, if a column has one)."""
    projet = row.projet
    return [
        projet.nom,
        projet.code,
        str(projet.chef_de_projet),
        projet.get_statut_display(),
        row.open_count,
        row.late_count,
        row.due_today_count,
        row.slip_count,
        *row.trend,
    ]


class _Echo:
    """A file-like object whose write returns the line, for streaming csv rows."""

    def write(self, value: str) -> str:
        return value


def csv_lines(*, today: datetime.date, filters: portfolio.PortfolioFilters) -> Iterator[str]:
    """The CSV for a spreadsheet (semicolons, UTF-8 with BOM), a line at a time."""
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff" + writer.writerow(safe_row(header(today=today)))
    for row in _rows(today=today, filters=filters):
        yield writer.writerow(safe_row(cells(row)))


def _rows(
    *, today: datetime.date, filters: portfolio.PortfolioFilters
) -> Iterator[portfolio.PortfolioRow]:
    """The filtered portfolio's rows, its stored figures of ``today`` first."""
    portfolio_figures.ensure_fresh(today=today)
    yield from portfolio.all_rows(today=today, filters=filters)


def write_csv(out: IO[bytes], *, today: datetime.date, filters: portfolio.PortfolioFilters) -> int:
    """The CSV into ``out``; the number of projects written."""
    lines = csv_lines(today=today, filters=filters)
    out.write(next(lines).encode("utf-8"))
    count = 0
    for line in lines:
        out.write(line.encode("utf-8"))
        count += 1
    return count


def write_xlsx(out: IO[bytes], *, today: datetime.date, filters: portfolio.PortfolioFilters) -> int:
    """The workbook into ``out`` (one sheet, the header frozen); the number of
    projects written. openpyxl's write-only mode keeps no row in memory."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    sheet.freeze_panes = "A2"
    for column, width in COLUMN_WIDTHS.items():
        sheet.column_dimensions[column].width = width
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, title, font=bold) for title in header(today=today)])
    count = 0
    for row in _rows(today=today, filters=filters):
        sheet.append([_xlsx_cell(sheet, value) for value in cells(row)])
        count += 1
    book.save(out)
    return count


def _xlsx_cell(sheet: Any, value: object, *, font: Font | None = None) -> Any:
    """A number or a date as such; text always as text, never a formula: a text a
    spreadsheet could run once edited (``could_run``) is marked "quote prefix",
    which Excel and LibreOffice keep as text without showing an apostrophe."""
    if isinstance(value, datetime.date):
        # openpyxl writes a date as a date; its type stubs only say datetime.
        cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
        cell.number_format = DATE_FORMAT
        return cell
    if not isinstance(value, str):
        return value
    text = NOT_IN_XML.sub("", value)
    if not could_run(text) and font is None:
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl reads a leading "=" as a formula
    cell.quotePrefix = could_run(text)
    if font is not None:
        cell.font = font
    return cell
