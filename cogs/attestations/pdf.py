"""The attestation de participation as a one-page PDF (fpdf2), in the member's language, with
DejaVu Sans (bundled in ``fonts/`` with its licence: every French character, « », and the
non-breaking spaces French typography puts in the texts). No Discord here; safe to call from
``asyncio.to_thread``."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

from bot.i18n import Translations
from cogs.attestations.service import Attended, Attestation
from db.models import Genre

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
ACCENT = (31, 111, 178)  # the bot's blue
GREY = (90, 90, 90)


def genre_label(tr: Translations, genre: Genre) -> str:
    return {
        Genre.ATELIER: tr.p_("genre", "atelier"),
        Genre.REFERENTIEL: tr.p_("genre", "référentiel"),
        Genre.FORMATION: tr.p_("genre", "formation"),
        Genre.ECHANGE: tr.p_("genre", "séance d'échange"),
        Genre.SYNTHESE: tr.p_("genre", "synthèse"),
    }[genre]


def duration(tr: Translations, minutes: int) -> str:
    """« 3 h », « 1 h 30 »; "3 h", "1 h 30 min"."""
    hours, rest = divmod(minutes, 60)
    if rest == 0:
        return tr._("{h} h", h=hours)
    if hours == 0:
        return tr._("{m} min", m=rest)
    return tr._("{h} h {m}", h=hours, m=f"{rest:02d}")


def seance_line(tr: Translations, attended: Attended, zone: str) -> str:
    s = attended.seance
    if s.local_time is None:
        return tr._(
            "{date} ({duree})",
            date=tr.format_date(s.local_date),
            duree=duration(tr, attended.minutes),
        )
    return tr._(
        "{date}, de {debut} à {fin} ({duree})",
        date=tr.format_date(s.local_date),
        debut=tr.format_time(s.starts_at, s.zone),
        fin=tr.format_time(attended.ends_at, s.zone),
        duree=duration(tr, attended.minutes),
    )


class _Page(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=20)
        self.set_margins(25, 25, 25)


def attestation_pdf(tr: Translations, a: Attestation) -> bytes:
    """The PDF: the programme, the title, the member's name, the atelier, the séances attended
    with dates and hours, the total duration, the date of issue and the attestation's number."""
    pdf = _Page()
    pdf.set_title(tr._("Attestation de participation"))
    pdf.set_author("Opération Partage — GEDCIQ")
    pdf.set_creator("Partage")
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FAMILY, "B", 12)
    pdf.set_text_color(*ACCENT)
    pdf.cell(width, 7, "Opération Partage — GEDCIQ", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 9)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(
        width,
        5,
        tr._("Groupe d'expertise pour le développement des cités interculturelles au Québec"),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(12)

    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FAMILY, "B", 22)
    pdf.multi_cell(
        width, 11, tr._("Attestation de participation"), align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(10)
    pdf.set_font(FAMILY, "", 12)
    pdf.multi_cell(width, 7, tr._("Nous attestons que"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FAMILY, "B", 18)
    pdf.multi_cell(width, 10, a.nom, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FAMILY, "", 12)
    came = tr.n_(
        "a participé à {n} séance sur {total} de l'activité suivante :",
        "a participé à {n} séances sur {total} de l'activité suivante :",
        len(a.seances),
        total=a.seances_total,
    )
    pdf.multi_cell(width, 7, came, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FAMILY, "B", 14)
    pdf.multi_cell(
        width, 8, tr._("« {titre} »", titre=a.titre), align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(FAMILY, "", 11)
    pdf.set_text_color(*GREY)
    kind = genre_label(tr, a.genre)
    if a.chantier:
        kind = tr._("{genre}, chantier « {chantier} »", genre=kind, chantier=a.chantier)
    pdf.multi_cell(width, 6, kind[:1].upper() + kind[1:], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)

    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(width, 7, tr._("Séances suivies"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 11)
    for attended in a.seances:
        pdf.multi_cell(
            width, 6.5, "•  " + seance_line(tr, attended, a.zone), new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(3)
    pdf.set_font(FAMILY, "B", 12)
    pdf.multi_cell(
        width,
        7,
        tr._("Durée totale : {duree}", duree=duration(tr, a.total_minutes)),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(14)

    pdf.set_font(FAMILY, "", 11)
    issued = a.issued_at.astimezone(ZoneInfo(a.zone)).date()
    pdf.multi_cell(
        width,
        6,
        tr._("Délivrée le {date}.", date=tr.format_date(issued, "long")),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.multi_cell(width, 6, "Opération Partage — GEDCIQ", new_x="LMARGIN", new_y="NEXT")

    pdf.set_y(-32)
    pdf.set_font(FAMILY, "", 8)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(
        width,
        4.5,
        tr._(
            "Attestation n° {numero}, produite par Partage, le bot Discord de l'Opération "
            "Partage, à partir des présences notées pendant les séances.",
            numero=a.numero,
        ),
        align="C",
    )
    return bytes(pdf.output())
