"""What a member is told when staff (or a co-host) register or remove them by hand. Pure
functions of the ateliers' dataclasses; the ateliers' notice sender calls them. No Discord."""

from __future__ import annotations

from bot.i18n import Translations
from cogs.ateliers.info import AtelierInfo
from cogs.ateliers.text import footer_lines, seance_lines
from db.models import EtatInscription

#: The ``what`` of these notices in the outbox (``cogs.ateliers.notices.tell``).
INSCRIPTION_MAIN = "inscription-main"
RETRAIT_MAIN = "retrait-main"


def registered_text(
    tr: Translations, info: AtelierInfo, etat: EtatInscription, position: int | None
) -> str:
    if etat == EtatInscription.ATTENTE:
        head = tr._(
            "L'équipe d'animation vous a ajouté·e à la liste d'attente de « {titre} » : vous "
            "êtes n° {position}. Vous serez prévenu·e si une place se libère.",
            titre=info.titre,
            position=position or 1,
        )
    else:
        head = tr._(
            "L'équipe d'animation vous a inscrit·e à « {titre} » : votre place est réservée.",
            titre=info.titre,
        )
    lines = [
        head,
        *seance_lines(tr, info.seances),
        tr._("Si vous ne pouvez pas venir, répondez « Non » dans l'annonce ou avec /rsvp."),
    ]
    return "\n".join(lines + footer_lines(tr, info))


def removed_text(tr: Translations, info: AtelierInfo) -> str:
    lines = [
        tr._(
            "L'équipe d'animation vous a retiré·e de « {titre} » : votre réponse n'y est plus.",
            titre=info.titre,
        ),
        tr._(
            "Pour y revenir, répondez de nouveau avec les boutons de l'annonce ou avec /rsvp "
            "(les règles de la liste d'attente s'appliquent)."
        ),
    ]
    return "\n".join(lines + footer_lines(tr, info))
