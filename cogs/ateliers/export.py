"""The participants of an atelier as files Excel opens as they are: a CSV with its accents and
columns (UTF-8 with a byte-order mark, « ; » in French and « , » in English), and an .xlsx in
which the 19-digit Discord id stays text. Every typed cell is neutralised against formulas
(``bot.spreadsheets``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translations
from bot.spreadsheets import csv_bytes, xlsx_bytes
from cogs.ateliers.info import ParticipantRow, ParticipantsExport, SeanceInfo
from cogs.ateliers.text import reponse_label
from db.models import EtatInscription

_ORDER = {
    EtatInscription.INSCRIT: 0,
    EtatInscription.ATTENTE: 1,
    EtatInscription.PEUT_ETRE: 2,
    EtatInscription.NON: 3,
    None: 4,
}


def etat_label(tr: Translations, etat: EtatInscription | None) -> str:
    labels = {
        EtatInscription.INSCRIT: tr.p_("réponse", "inscrit"),
        EtatInscription.ATTENTE: tr.p_("réponse", "liste d'attente"),
        EtatInscription.PEUT_ETRE: tr.p_("réponse", "peut-être"),
        EtatInscription.NON: tr.p_("réponse", "non"),
    }
    return labels[etat] if etat is not None else tr.p_("réponse", "une séance seulement")


def _when(moment: datetime | None, zone: str) -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _seance_when(seance: SeanceInfo) -> str:
    day = seance.local_date.isoformat()
    return f"{day} {seance.local_time:%H:%M}" if seance.local_time else day


def participants_table(
    tr: Translations, export: ParticipantsExport
) -> tuple[list[str], list[list[str | int | None]]]:
    """One line per member: name, Discord id, answer, waiting position, per-séance exceptions
    and the times of the answer, in the atelier's zone; registered first, then the line."""
    seances = {s.id: s for s in export.atelier.seances}
    zone = export.atelier.seances[0].zone if export.atelier.seances else "UTC"
    header = [
        tr.p_("colonne", "Nom"),
        tr.p_("colonne", "Identifiant Discord"),
        tr.p_("colonne", "Réponse"),
        tr.p_("colonne", "Position en liste d'attente"),
        tr.p_("colonne", "Exceptions par séance"),
        tr.p_("colonne", "Première réponse"),
        tr.p_("colonne", "Dernière modification"),
        tr.p_("colonne", "Place obtenue le"),
        tr.p_("colonne", "Présences"),
    ]

    def key(row: ParticipantRow) -> tuple[int, int, str]:
        return (_ORDER[row.etat], row.position or 0, (row.display_name or "").casefold())

    rows: list[list[str | int | None]] = []
    for row in sorted(export.rows, key=key):
        exceptions = []
        for seance_id, reponse in sorted(row.seance_reponses.items()):
            seance = seances.get(seance_id)
            if seance is None:
                continue
            when = _seance_when(seance)
            exceptions.append(
                tr._("{quand} : {reponse}", quand=when, reponse=reponse_label(tr, reponse))
            )
        came = [_seance_when(seances[i]) for i in row.presences if i in seances]
        walk_in = row.etat is None and not row.seance_reponses and row.presences
        rows.append(
            [
                row.display_name or ("—" if row.user_id is None else str(row.user_id)),
                None if row.user_id is None else str(row.user_id),
                tr.p_("réponse", "venu·e sans inscription")
                if walk_in
                else etat_label(tr, row.etat),
                row.position,
                " | ".join(exceptions),
                _when(row.created_at, zone),
                _when(row.updated_at, zone),
                _when(row.inscrit_at, zone),
                " | ".join(came),
            ]
        )
    return header, rows


def participants_csv(tr: Translations, export: ParticipantsExport) -> bytes:
    """The table as a CSV Excel opens with its accents and columns (``bot.spreadsheets``)."""
    header, rows = participants_table(tr, export)
    return csv_bytes(tr.locale, header, rows)


def participants_xlsx(tr: Translations, export: ParticipantsExport) -> bytes:
    """The same table as .xlsx, where the Discord id stays text with all its digits."""
    header, rows = participants_table(tr, export)
    return xlsx_bytes(tr.p_("colonne", "Participants"), header, rows, text_columns={1})
