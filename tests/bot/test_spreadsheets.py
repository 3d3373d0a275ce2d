"""Cells no spreadsheet runs as formulas; CSV as Excel reads it in each language."""

from __future__ import annotations

import csv
import io

import pytest

from bot.spreadsheets import csv_bytes, safe_cell


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+33 1 23", "-2", "@SUM(A1)", "\tx", "\rx", '  =HYPERLINK("http://x")', " @x"],
)
def test_formula_starts_are_neutralised(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Élodie", "Saint-Jérôme", "a=b", "", "3 - 2", "courriel@x.ca"])
def test_plain_text_is_kept(text: str) -> None:
    assert safe_cell(text) == text


def test_csv_in_french_splits_on_semicolons_with_a_bom() -> None:
    data = csv_bytes("fr", ["Nom", "Nombre"], [["=x", 3], ["Élodie; Roy", None]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Nom", "Nombre"], ["'=x", "3"], ["Élodie; Roy", ""]]
    english = csv_bytes("en", ["Name"], [["a,b"]]).decode("utf-8-sig")
    assert english.splitlines() == ["Name", '"a,b"']
