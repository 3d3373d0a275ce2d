"""The jumelage's messages: status, the pair's opening message with its conversation starter,
the check-in a week later, and the notice to a participant left out of a round."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.command_text import command
from bot.i18n import Translations, discord_timestamp
from cogs.jumelage.service import PairInfo, Participation


def status_text(
    tr: Translations, participation: Participation, next_round: datetime | None, cadence: int
) -> str:
    if not participation.participe:
        return tr._(
            "Vous ne participez pas au jumelage. Tous les {jours} jours, il vous présente un ou "
            "une collègue d'une autre municipalité qui partage vos chantiers, dans un fil "
            "privé.",
            jours=cadence,
        )
    if participation.snoozed_until is not None:
        return tr._(
            "Vous participez au jumelage, en pause jusqu'au {date}.",
            date=discord_timestamp(participation.snoozed_until, "D"),
        )
    if next_round is None:
        return tr._("Vous participez au jumelage.")
    return tr._(
        "Vous participez au jumelage. Prochain tour : {quand}.",
        quand=discord_timestamp(next_round, "F"),
    )


def action_text(tr: Translations, action: str) -> str:
    return {
        # The status line that follows says where the member now stands: no repetition.
        "participer": tr._("C'est noté."),
        "pause": tr._("Pause enregistrée."),
        "reprendre": tr._("C'est noté : fin de la pause."),
        "quitter": tr._("Vous avez quitté le jumelage. Vous pourrez revenir en tout temps."),
    }[action]


def pair_intro(tr: Translations, pair: PairInfo, names: Sequence[str]) -> str:
    lines = [
        tr._(
            "Voici votre jumelage pour ce tour : {noms}. Présentez-vous et choisissez un moment "
            "pour échanger, en ligne ou au téléphone.",
            noms=", ".join(names),
        )
    ]
    if len(pair.members) > 2:
        lines.append(tr._("Vous êtes trois ce tour-ci : le nombre de participants était impair."))
    lines.append(
        tr._(
            "Pour briser la glace : {amorce}",
            amorce=tr._(pair.starter.msgid, **pair.starter.values),
        )
    )
    lines.append(
        tr._(
            "Partage prendra de vos nouvelles ici {quand}. Pause ou arrêt : les boutons "
            "ci-dessous ou {commande}.",
            quand=discord_timestamp(pair.checkin_due_at, "R"),
            commande=command(tr, "jumelage"),
        )
    )
    return "\n".join(lines)


def checkin_text(tr: Translations) -> str:
    return tr._(
        "Des nouvelles de votre jumelage : avez-vous pu échanger ? Si ce n'est pas encore "
        "fait, il est encore temps : proposez un moment ici. Au prochain tour, le jumelage vous "
        "présentera d'autres collègues."
    )


def left_out_text(tr: Translations, next_round: datetime | None) -> str:
    text = tr._(
        "Ce tour-ci du jumelage, aucun collègue d'une autre municipalité n'était disponible "
        "pour vous : le nombre de participants était impair. Vous aurez la priorité au "
        "prochain tour."
    )
    if next_round is not None:
        text += " " + tr._("Il aura lieu {quand}.", quand=discord_timestamp(next_round, "F"))
    return text
