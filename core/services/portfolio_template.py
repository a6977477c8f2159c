"""The import's template: a few example rows, as CSV (the static file) and as XLSX.

The rows name accounts of the demo (``manage.py seed_demo``) so that the template
imports as it is there; the static CSV (``core/static/core/
modele_import_portefeuille.csv``) is this module's ``template_csv()``, pinned by
a test.
"""

from __future__ import annotations

import csv
import datetime
import io

from openpyxl import Workbook

COLUMNS = (
    "code_projet",
    "projet",
    "chef_de_projet",
    "date_debut_projet",
    "date_fin_projet",
    "etape",
    "date_debut_etape",
    "date_fin_etape",
    "tache",
    "responsable",
    "date_echeance",
    "statut",
    "priorite",
    "description",
)
D = datetime.date
_PROJECT = ("conges", "Dématérialisation des congés", "sophie.lefevre")
ROWS: tuple[tuple[str | D | None, ...], ...] = (
    (*_PROJECT, D(2027, 1, 4), D(2027, 6, 30), "Cadrage", D(2027, 1, 4), D(2027, 1, 29),
     "Recueillir les besoins des RH", "camille.bernard", D(2027, 1, 15), "À faire", "Haute",
     "Entretiens avec le service RH"),
    (*_PROJECT, None, None, "Cadrage", None, None,
     "Valider le périmètre", "sophie.lefevre", D(2027, 1, 29), "À faire", "Normale", None),
    (*_PROJECT, None, None, "Réalisation", D(2027, 2, 1), D(2027, 4, 30),
     "Paramétrer le circuit de validation", "lucas.roux", D(2027, 3, 31), "À faire", None, None),
    (*_PROJECT, None, None, None, None, None,
     "Former les gestionnaires", "camille.bernard", D(2027, 5, 14), "À faire", "Basse", None),
)  # fmt: skip


def _cell(value: str | D | None) -> str:
    if isinstance(value, D):
        return value.strftime("%d/%m/%Y")
    return value or ""


def template_csv() -> bytes:
    """As Excel in France saves « CSV UTF-8 »: a BOM, semicolons, CRLF, JJ/MM/AAAA."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([_cell(value) for value in row] for row in ROWS)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """The same rows in a workbook, the dates as date cells (shown JJ/MM/AAAA)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Portefeuille"
    sheet.append(COLUMNS)
    for row in ROWS:
        sheet.append(list(row))
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
