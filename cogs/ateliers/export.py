"""The participants of an atelier as a CSV file that Excel opens with its accents intact:
UTF-8 with a byte-order mark, and the separator Excel expects in the reader's language
(« ; » in French, where the comma is the decimal mark; « , » in English)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translations
from cogs.ateliers.info import ParticipantRow, ParticipantsExport
from db.models import EtatInscription, Reponse

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


def reponse_label(tr: Translations, reponse: Reponse) -> str:
    labels = {
        Reponse.OUI: tr.p_("réponse", "oui"),
        Reponse.PEUT_ETRE: tr.p_("réponse", "peut-être"),
        Reponse.NON: tr.p_("réponse", "non"),
    }
    return labels[reponse]


def _cell(text: str) -> str:
    """Text that Excel will not run as a formula (a name such as ``=HYPERLINK(…)``)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _when(moment: datetime | None, zone: str) -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def participants_csv(tr: Translations, export: ParticipantsExport) -> bytes:
    """One line per member: name, Discord id, answer, waiting position, per-séance exceptions
    and the times of the answer, in the atelier's zone."""
    seances = {s.id: s for s in export.atelier.seances}
    zone = export.atelier.seances[0].zone if export.atelier.seances else "UTC"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if tr.locale == "fr" else ",")
    writer.writerow(
        [
            tr.p_("colonne", "Nom"),
            tr.p_("colonne", "Identifiant Discord"),
            tr.p_("colonne", "Réponse"),
            tr.p_("colonne", "Position en liste d'attente"),
            tr.p_("colonne", "Exceptions par séance"),
            tr.p_("colonne", "Première réponse"),
            tr.p_("colonne", "Dernière modification"),
            tr.p_("colonne", "Place obtenue le"),
        ]
    )

    def key(row: ParticipantRow) -> tuple[int, int, str]:
        return (_ORDER[row.etat], row.position or 0, (row.display_name or "").casefold())

    for row in sorted(export.rows, key=key):
        exceptions = []
        for seance_id, reponse in sorted(row.seance_reponses.items()):
            seance = seances.get(seance_id)
            if seance is None:
                continue
            day = seance.local_date.isoformat()
            when = f"{day} {seance.local_time:%H:%M}" if seance.local_time else day
            exceptions.append(
                tr._("{quand} : {reponse}", quand=when, reponse=reponse_label(tr, reponse))
            )
        writer.writerow(
            [
                _cell(row.display_name or ("—" if row.user_id is None else str(row.user_id))),
                "" if row.user_id is None else str(row.user_id),
                etat_label(tr, row.etat),
                "" if row.position is None else row.position,
                " | ".join(exceptions),
                _when(row.created_at, zone),
                _when(row.updated_at, zone),
                _when(row.inscrit_at, zone),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
