"""Tables people open in Excel, LibreOffice or Numbers: CSV as Excel reads it in the reader's
language, and .xlsx where a cell must stay text (19-digit Discord ids, which a CSV cannot
protect from being shown as 1,57773E+18).

Every cell a member or staff typed is neutralised: a text Excel would run as a formula (it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, also after spaces) gets a
leading apostrophe, which Excel shows as plain text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

Cell = str | int | None

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """``text`` that no spreadsheet will run as a formula."""
    return "'" + text if text.lstrip(" ")[:1] in _FORMULA_STARTS else text


def _safe(value: Cell) -> Cell:
    return safe_cell(value) if isinstance(value, str) else value


def csv_bytes(locale: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark (Excel then keeps the accents), ``;`` in French (where the
    comma is the decimal mark, Excel splits columns on ``;``), ``,`` in English."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if locale == "fr" else ",", lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(
    sheet: str, header: Sequence[str], rows: Iterable[Sequence[Cell]], *, text_columns: set[int]
) -> bytes:
    """One sheet: a bold, frozen header; ``text_columns`` (0-based) stored and formatted as
    text, so that an id keeps all its digits."""
    # openpyxl (and numpy, which it imports) takes a quarter of a second to import: loaded
    # when a spreadsheet is first asked for, not at every start of the bot.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet[:31]
    ws.append([safe_cell(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [len(h) for h in header]
    for row in rows:
        values = [_safe(v) for v in row]
        ws.append(
            [
                None if v is None else (str(v) if i in text_columns else v)
                for i, v in enumerate(values)
            ]
        )
        for i, v in enumerate(values):
            widths[i] = max(widths[i], len(str(v or "")))
    for i in text_columns:
        for (cell,) in ws.iter_rows(min_col=i + 1, max_col=i + 1):
            cell.number_format = "@"
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(60, width + 2)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
