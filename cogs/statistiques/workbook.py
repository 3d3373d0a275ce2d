"""/statistiques as a workbook for the funder: every figure on a sheet of its own (summary,
members and inscriptions by region and municipality, attendance by region, the ateliers
counted with their attendance rates), small cells as « < 3 », texts neutralised against
formulas. No Discord here; safe to call from ``asyncio.to_thread``."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TypeVar

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.i18n import Translations
from bot.spreadsheets import safe_cell
from cogs.statistiques.cells import SMALL, cell, masked
from cogs.statistiques.chart import ChartLabels
from cogs.statistiques.service import Stats
from db.models import Region

K = TypeVar("K")
Value = str | int | float | None


def _sheet(
    book: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[Value]]
) -> Worksheet:
    ws = book.create_sheet(title[:31])
    ws.append([safe_cell(h) for h in header])
    for c in ws[1]:
        c.font = Font(bold=True)
    widths = [len(h) for h in header]
    for row in rows:
        values = [safe_cell(v) if isinstance(v, str) else v for v in row]
        ws.append(values)
        for i, v in enumerate(values):
            widths[i] = max(widths[i], len(str(v if v is not None else "")))
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(70, width + 2)
        for (c,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
            if isinstance(c.value, str) and i > 1:
                c.alignment = Alignment(horizontal="right")
    ws.freeze_panes = "A2"
    return ws


def _rate(value: float | None) -> float | str:
    return "—" if value is None else round(value, 4)


def _breakdown(
    rows: Sequence[tuple[K | None, int]], names: Mapping[K | None, str]
) -> list[list[Value]]:
    return [[names.get(k, str(k)), cell(n)] for k, n in rows]


def stats_xlsx(tr: Translations, stats: Stats, labels: ChartLabels, period: str) -> bytes:
    """The workbook, in the reader's language; rates are fractions formatted as percentages."""
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    summary = [
        [tr._("Période"), period],
        [tr._("Ateliers tenus (comptés)"), stats.ateliers_tenus],
        [tr._("Séances tenues"), stats.seances_tenues],
        [labels.membres, stats.membres],
        [tr._("Membres avec un profil"), stats.membres_avec_profil],
        [labels.inscriptions, stats.inscriptions],
        [tr._("Personnes inscrites (différentes)"), stats.participants],
        [tr._("Présences"), stats.presences],
        [tr._("Présences de personnes inscrites"), stats.presences_inscrits],
        [tr._("Présences sans inscription"), stats.presences_sans_inscription],
        [tr._("Présences attendues (inscrits × séances notées)"), stats.presences_attendues],
        rate_row := [tr._("Taux de présence"), _rate(stats.taux_presence)],
        [tr._("Personnes venues (différentes)"), stats.presents],
        [
            tr._("Note"),
            tr._(
                "Seuls les ateliers tenus sont comptés : non annulés, avec une séance commencée "
                "dans la période. Une case de moins de {n} membres est montrée « < {n} ». Le "
                "taux de présence compte les séances où la présence a été notée.",
                n=SMALL,
            ),
        ],
    ]
    ws = _sheet(book, tr._("Résumé"), [tr._("Indicateur"), tr._("Valeur")], summary)
    # Row 1 is the header: the rate's row is its index in ``summary`` plus 2.
    ws[f"B{summary.index(rate_row) + 2}"].number_format = "0.0 %"
    ws[f"B{len(summary) + 1}"].alignment = Alignment(wrap_text=True, vertical="top")
    regions: dict[Region | None, str] = {r: r.nom for r in Region}
    regions[None] = labels.non_precise
    towns: dict[str | None, str] = {None: labels.non_precise}
    for title, rows, names, what in (
        (tr._("Membres par région"), stats.membres_par_region, regions, labels.membres),
        (tr._("Membres par municipalité"), stats.membres_par_municipalite, towns, labels.membres),
        (
            tr._("Inscriptions par région"),
            stats.inscriptions_par_region,
            regions,
            labels.inscriptions,
        ),
        (
            tr._("Inscriptions par municipalité"),
            stats.inscriptions_par_municipalite,
            towns,
            labels.inscriptions,
        ),
        (tr._("Présences par région"), stats.presences_par_region, regions, tr._("Présences")),
    ):
        key = tr._("Région") if names is regions else tr._("Municipalité")
        _sheet(book, title, [key, what], _breakdown(rows, names))
    ateliers = [
        [
            a.titre,
            tr.format_date(a.premiere, "medium"),
            a.seances,
            cell(a.inscrits),
            cell(a.presences),
            cell(a.inscrits) if masked(a.inscrits) else _rate(a.taux_presence),
        ]
        for a in stats.ateliers
    ]
    ws = _sheet(
        book,
        tr._("Ateliers comptés"),
        [
            tr._("Atelier"),
            tr._("Première séance"),
            tr._("Séances tenues"),
            labels.inscriptions,
            tr._("Présences"),
            tr._("Taux de présence"),
        ],
        ateliers,
    )
    for (c,) in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        c.number_format = "0.0 %"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
