"""The participation chart: horizontal bars of members and inscriptions by region and by
municipality, as a PNG.

Rendered with matplotlib's object API (``Figure`` on an Agg canvas): no pyplot, so no global
figure registry, nothing to close, and safe to call from ``asyncio.to_thread``. The texts come
translated from the cog (``ChartLabels``); region names are proper nouns, shown as they are.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, TypeVar

from bot.errors import N_
from cogs.statistiques.cells import cell, masked
from db.models import Region

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cogs.statistiques.service import Stats

MEMBRES_COLOR = "#9ecae1"
INSCRIPTIONS_COLOR = "#08519c"
TEXT_COLOR = "#222222"
MUTED_COLOR = "#555555"
TOP_MUNICIPALITES = 10


@dataclass(frozen=True)
class ChartLabels:
    """The chart's texts. The defaults are French msgids: ``ChartLabels().translated(tr._)``
    gives them in the reader's language; ``sous_titre`` (period and totals) is formatted by
    the cog and shown as a footer."""

    titre: str = N_("Participation à l'Opération Partage")
    sous_titre: str = ""
    par_region: str = N_("Par région administrative")
    par_municipalite: str = N_("Par municipalité")
    membres: str = N_("Membres")
    inscriptions: str = N_("Inscriptions")
    non_precise: str = N_("Non précisé")
    autres: str = N_("Autres municipalités")
    aucune_donnee: str = N_("Aucune donnée pour cette période.")

    def translated(self, gettext: Callable[[str], str]) -> ChartLabels:
        return replace(
            self,
            **{
                f.name: gettext(getattr(self, f.name))
                for f in fields(self)
                if f.name != "sous_titre" and getattr(self, f.name)
            },
        )


Row = tuple[str, int, int]  # label, members, inscriptions
K = TypeVar("K")


def _merge(
    membres: Sequence[tuple[K, int]], inscriptions: Sequence[tuple[K, int]]
) -> list[tuple[K, int, int]]:
    keys = list(dict.fromkeys([k for k, _ in inscriptions] + [k for k, _ in membres]))
    m, i = dict(membres), dict(inscriptions)
    rows = [(k, m.get(k, 0), i.get(k, 0)) for k in keys]
    return sorted(rows, key=lambda r: (r[0] is None, -r[2], -r[1], str(r[0])))


def region_rows(stats: Stats, labels: ChartLabels) -> list[Row]:
    def name(region: Region | None) -> str:
        return region.nom if region is not None else labels.non_precise

    return [
        (name(k), m, i)
        for k, m, i in _merge(stats.membres_par_region, stats.inscriptions_par_region)
    ]


def municipalite_rows(stats: Stats, labels: ChartLabels, top: int = TOP_MUNICIPALITES) -> list[Row]:
    """The ``top`` municipalities; the others summed in one bar, "non précisé" last."""
    merged = _merge(stats.membres_par_municipalite, stats.inscriptions_par_municipalite)
    known = [r for r in merged if r[0] is not None]
    unknown = [r for r in merged if r[0] is None]
    rows: list[Row] = [(str(k), m, i) for k, m, i in known[:top]]
    rest = known[top:]
    if rest:
        rows.append((labels.autres, sum(r[1] for r in rest), sum(r[2] for r in rest)))
    rows += [(labels.non_precise, m, i) for _, m, i in unknown]
    return rows


def _bars(ax: Axes, rows: list[Row], title: str, labels: ChartLabels, x_max: int) -> None:
    from matplotlib.ticker import MaxNLocator

    height = 0.38
    ys = list(range(len(rows)))
    names = [r[0] for r in rows]
    # A small cell (fewer than 3 members) gets no bar, whose length would tell its count: only
    # « < 3 » (``cells``).
    membres = [0 if masked(r[1]) else r[1] for r in rows]
    inscriptions = [0 if masked(r[2]) else r[2] for r in rows]
    shown = {0: [r[1] for r in rows], 1: [r[2] for r in rows]}
    b_membres = ax.barh(
        [y - height / 2 for y in ys], membres, height, color=MEMBRES_COLOR, label=labels.membres
    )
    b_inscr = ax.barh(
        [y + height / 2 for y in ys],
        inscriptions,
        height,
        color=INSCRIPTIONS_COLOR,
        label=labels.inscriptions,
    )
    for bars, values in ((b_membres, shown[0]), (b_inscr, shown[1])):
        ax.bar_label(
            bars,
            labels=[str(cell(v)) if v else "" for v in values],
            padding=3,
            fontsize=9,
            color=TEXT_COLOR,
        )
    ax.set_yticks(ys, names, fontsize=10, color=TEXT_COLOR)
    ax.invert_yaxis()
    ax.set_xlim(0, max(x_max, 1) * 1.12)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labelsize=9, colors=MUTED_COLOR)
    ax.tick_params(axis="y", length=0)
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold", color=TEXT_COLOR)
    ax.spines[["top", "right"]].set_visible(False)
    ax.spines[["left", "bottom"]].set_color("#bbbbbb")
    ax.xaxis.grid(True, color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)


def chart_png(stats: Stats, labels: ChartLabels | None = None, *, dpi: int = 110) -> bytes:
    """The chart as PNG bytes. CPU-bound (~0.1–0.3 s): call it through ``asyncio.to_thread``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = labels or ChartLabels()
    regions = region_rows(stats, labels)
    municipalites = municipalite_rows(stats, labels)
    if not regions and not municipalites:
        fig = Figure(figsize=(8, 2.2), dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)
        fig.suptitle(labels.titre, fontsize=14, fontweight="bold", color=TEXT_COLOR)
        fig.text(0.5, 0.4, labels.aucune_donnee, ha="center", fontsize=12, color=MUTED_COLOR)
    else:
        n1, n2 = max(len(regions), 1), max(len(municipalites), 1)
        row_inches = 0.46
        fig = Figure(figsize=(10, 2.4 + (n1 + n2) * row_inches), dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(2, 1, height_ratios=[n1 + 0.8, n2 + 0.8])
        x_max = max([max(r[1], r[2]) for r in regions + municipalites] or [1])
        top = fig.add_subplot(grid[0])
        _bars(top, regions, labels.par_region, labels, x_max)
        bottom = fig.add_subplot(grid[1])
        _bars(bottom, municipalites, labels.par_municipalite, labels, x_max)
        fig.suptitle(labels.titre, fontsize=15, fontweight="bold", color=TEXT_COLOR)
        fig.legend(
            handles=top.containers[:2],
            labels=[labels.membres, labels.inscriptions],
            loc="outside upper right",
            ncols=2,
            frameon=False,
            fontsize=10,
        )
        if labels.sous_titre:
            fig.supxlabel(labels.sous_titre, fontsize=9, color=MUTED_COLOR)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    fig.clear()
    return buffer.getvalue()
