"""Ateliers as text, without Discord's library: séance lines, counts, members' statuses and
the notices sent when a place frees up or an atelier changes. Pure functions of the ateliers'
dataclasses and one :class:`~bot.i18n.Translations`; every feature may use them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.errors import Quantity
from bot.i18n import Translations, discord_timestamp
from cogs.ateliers.changes import seance_from_payload
from cogs.ateliers.info import AtelierInfo, Counts, SeanceInfo
from db.models import EtatInscription, Genre, Reponse

#: Announcements, scheduled events and thread notices speak the server's language.
SERVER_LOCALE = "fr"


def genre_label(tr: Translations, genre: Genre) -> str:
    labels = {
        Genre.ATELIER: tr.p_("genre", "Atelier"),
        Genre.REFERENTIEL: tr.p_("genre", "Référentiel"),
        Genre.FORMATION: tr.p_("genre", "Formation"),
        Genre.ECHANGE: tr.p_("genre", "Échange"),
        Genre.SYNTHESE: tr.p_("genre", "Synthèse"),
    }
    return labels[genre]


def jump_url(info: AtelierInfo) -> str | None:
    """The link to the atelier's announcement, if it has one."""
    if info.announcement_channel_id is None or info.announcement_message_id is None:
        return None
    return (
        f"https://discord.com/channels/{info.guild_id}/"
        f"{info.announcement_channel_id}/{info.announcement_message_id}"
    )


def seance_when(tr: Translations, seance: SeanceInfo) -> str:
    """A séance's date as text that stands alone: « jeudi 3 décembre 2026 à 13 h 30 »."""
    if seance.local_time is None:
        return tr.format_date(seance.local_date)
    return tr.format_datetime(seance.starts_at, seance.zone)


def seance_line(tr: Translations, seance: SeanceInfo) -> str:
    """The French (or English) date, then Discord's own timestamps in the reader's zone."""
    when = seance_when(tr, seance)
    if seance.local_time is None:
        return f"**{when}**"
    full = discord_timestamp(seance.starts_at, "F")
    relative = discord_timestamp(seance.starts_at, "R")
    return f"**{when}** · {full} ({relative})"


def compact_line(tr: Translations, seance: SeanceInfo) -> str:
    """A séance in a list: Discord's timestamps, in the reader's zone and language."""
    if seance.local_time is None:
        return tr.format_date(seance.local_date)
    full = discord_timestamp(seance.starts_at, "F")
    return f"{full} ({discord_timestamp(seance.starts_at, 'R')})"


def seance_lines(tr: Translations, seances: Sequence[SeanceInfo]) -> list[str]:
    if len(seances) == 1:
        return [seance_line(tr, seances[0])]
    return [f"{n}. {seance_line(tr, s)}" for n, s in enumerate(seances, 1)]


def counts_lines(tr: Translations, counts: Counts) -> list[str]:
    """Places left, registered, waiting, maybe."""
    lines: list[str] = []
    left = counts.places_restantes
    if left is None:
        lines.append(tr._("Places illimitées"))
    elif left == 0:
        capacite = counts.capacite or 0
        lines.append(tr.n_("Complet ({n} place)", "Complet ({n} places)", capacite))
    else:
        lines.append(
            tr.n_(
                "{n} place restante sur {capacite}",
                "{n} places restantes sur {capacite}",
                left,
                capacite=counts.capacite,
            )
        )
    lines.append(tr.n_("{n} personne inscrite", "{n} personnes inscrites", counts.inscrits))
    if counts.attente or left == 0:
        lines.append(
            tr.n_(
                "{n} personne en liste d'attente",
                "{n} personnes en liste d'attente",
                counts.attente,
            )
        )
    if counts.peut_etre:
        lines.append(
            tr.n_("{n} réponse « peut-être »", "{n} réponses « peut-être »", counts.peut_etre)
        )
    return lines


def announcement_content(tr: Translations, info: AtelierInfo, role_id: int | None) -> str:
    """The line above the embed: the chantier's role (the only mention allowed) and a lead."""
    lead = tr._("Nouvel atelier : {titre}", titre=info.titre)
    return f"<@&{role_id}> {lead}" if role_id else lead


# --- a member's status -----------------------------------------------------------------------


def status_text(
    tr: Translations, info: AtelierInfo, etat: EtatInscription | None, position: int | None
) -> str:
    """The ephemeral answer to a click or /rsvp: where the member stands now."""
    if etat == EtatInscription.INSCRIT:
        text = tr._("C'est noté : votre place est réservée pour « {titre} ».", titre=info.titre)
        if info.lien:
            text += "\n" + tr._("Lien de la réunion : {lien}", lien=info.lien)
        return text
    if etat == EtatInscription.ATTENTE:
        return tr._(
            "« {titre} » est complet : vous êtes n° {position} sur la liste d'attente. "
            "Si une place se libère, elle vous revient à votre tour et nous vous préviendrons.",
            titre=info.titre,
            position=position,
        )
    if etat == EtatInscription.PEUT_ETRE:
        return tr._(
            "C'est noté : peut-être pour « {titre} ». Cette réponse ne réserve pas de place.",
            titre=info.titre,
        )
    return tr._("C'est noté : vous ne participerez pas à « {titre} ».", titre=info.titre)


def seance_answer_text(
    tr: Translations, info: AtelierInfo, seance: SeanceInfo, reponse: Reponse
) -> str:
    when = seance_when(tr, seance)
    if reponse == Reponse.OUI:
        return tr._(
            "C'est noté : vous serez à la séance du {date} de l'atelier « {titre} ».",
            date=when,
            titre=info.titre,
        )
    if reponse == Reponse.PEUT_ETRE:
        return tr._(
            "C'est noté : peut-être pour la séance du {date} de l'atelier « {titre} ».",
            date=when,
            titre=info.titre,
        )
    return tr._(
        "C'est noté : vous manquerez la séance du {date} de l'atelier « {titre} ». "
        "Votre réponse pour les autres séances ne change pas.",
        date=when,
        titre=info.titre,
    )


def short_status(tr: Translations, etat: EtatInscription | None, position: int | None) -> str:
    """A member's status in a list (/ateliers, /mes-inscriptions)."""
    if etat == EtatInscription.INSCRIT:
        return tr._("Votre place est réservée.")
    if etat == EtatInscription.ATTENTE:
        return tr._("Vous êtes n° {position} sur la liste d'attente.", position=position)
    if etat == EtatInscription.PEUT_ETRE:
        return tr._("Vous avez répondu peut-être.")
    if etat == EtatInscription.NON:
        return tr._("Vous avez répondu non.")
    return tr._("Vous n'avez pas encore répondu.")


# --- notices (direct message, or the atelier's thread when DMs are closed) --------------------


def footer_lines(tr: Translations, info: AtelierInfo) -> list[str]:
    """The closing line of a member's message: the link to the atelier's announcement."""
    url = jump_url(info)
    return [tr._("L'annonce : {url}", url=url)] if url else []


def promoted_text(tr: Translations, info: AtelierInfo) -> str:
    lines = [
        tr._(
            "Bonne nouvelle : une place s'est libérée pour « {titre} », "
            "elle est maintenant à vous.",
            titre=info.titre,
        ),
        *seance_lines(tr, info.seances),
        tr._(
            "Si vous ne pouvez plus venir, répondez « Non » dans l'annonce pour libérer la place."
        ),
    ]
    if info.lien:
        lines.append(
            tr._(
                "Le lien de la réunion s'obtient avec le bouton « Lien de la réunion » "
                "de l'annonce."
            )
        )
    return "\n".join(lines + footer_lines(tr, info))


def change_label(tr: Translations, change: str) -> str:
    labels = {
        "titre": tr.p_("modification", "titre"),
        "description": tr.p_("modification", "description"),
        "lieu": tr.p_("modification", "lieu"),
        "lien": tr.p_("modification", "lien de la réunion"),
        "genre": tr.p_("modification", "genre"),
        "chantier_id": tr.p_("modification", "chantier"),
        "capacite": tr.p_("modification", "nombre de places"),
        "duree": tr.p_("modification", "durée"),
        "dates": tr.p_("modification", "dates"),
        "cloture": tr.p_("modification", "clôture des réponses"),
    }
    return labels.get(change, change)


def changed_text(
    tr: Translations,
    info: AtelierInfo,
    changed: Sequence[str],
    etat: EtatInscription,
    position: int | None,
    *,
    diff: Mapping[str, Any] | None = None,
    moves: Sequence[Mapping[str, Any]] = (),
) -> str:
    """What changed in an atelier, for those registered or waiting: each change as before →
    after (``diff``), the séances as they are now, and the member's per-séance answers that
    went with a moved séance (``moves``)."""
    diff = diff or {}
    lines = [
        tr._(
            "L'atelier « {titre} » a été modifié ({champs}).",
            titre=info.titre,
            champs=", ".join(change_label(tr, c) for c in changed),
        )
    ]
    for name in changed:
        lines.extend(_change_lines(tr, name, diff.get(name), info))
    if "dates" in changed or "duree" in changed:
        lines.append(tr.n_("Séance :", "Séances :", len(info.seances)))
        lines.extend(seance_lines(tr, info.seances))
    lines.extend(moved_lines(tr, moves))
    lines.append(short_status(tr, etat, position))
    return "\n".join(lines + footer_lines(tr, info))


def _places(tr: Translations, capacite: int | None) -> str | int:
    if capacite is None:
        return tr._("illimitées")
    return Quantity(capacite)


def _change_lines(tr: Translations, name: str, values: Any, info: AtelierInfo) -> list[str]:
    """One change as before → after (older notices, without values, keep their short form)."""
    if name == "lien":
        if not info.lien:
            return [tr._("Le lien de la réunion a été retiré.")]
        return [
            tr._(
                "Le lien de la réunion a changé : utilisez le bouton « Lien de la réunion » "
                "de l'annonce."
            )
        ]
    if name == "dates":
        if not isinstance(values, Mapping):
            return []
        out = [
            tr._(
                "Séance déplacée : {avant} → {apres}",
                avant=seance_when(tr, seance_from_payload(old)),
                apres=seance_when(tr, seance_from_payload(new)),
            )
            for old, new in values.get("moved", ())
        ]
        out += [
            tr._("Séance ajoutée : {date}", date=seance_when(tr, seance_from_payload(s)))
            for s in values.get("added", ())
        ]
        out += [
            tr._("Séance retirée : {date}", date=seance_when(tr, seance_from_payload(s)))
            for s in values.get("removed", ())
        ]
        return out
    if name == "lieu" and not values:
        return [tr._("Lieu : {lieu}", lieu=info.lieu)]
    if name == "capacite" and not values:
        return [
            tr._("Places illimitées")
            if info.capacite is None
            else tr.n_("{n} place", "{n} places", info.capacite)
        ]
    if not values:
        return []
    before, after = values
    if name == "capacite":
        before, after = _places(tr, before), _places(tr, after)
    elif name == "duree":
        before = tr.n_("{n} minute", "{n} minutes", before)
        after = tr.n_("{n} minute", "{n} minutes", after)
    elif name == "genre":
        before, after = genre_label(tr, Genre(before)), genre_label(tr, Genre(after))
    elif name == "chantier_id":
        before, after = before or tr._("aucun"), after or tr._("aucun")
    elif name not in ("titre", "lieu"):
        return []
    return [
        tr._(
            "{champ} : {avant} → {apres}",
            champ=change_label(tr, name).capitalize(),
            avant=before,
            apres=after,
        )
    ]


def reponse_label(tr: Translations, reponse: Reponse) -> str:
    """« oui », « peut-être » or « non » in the reader's language."""
    labels = {
        Reponse.OUI: tr.p_("réponse", "oui"),
        Reponse.PEUT_ETRE: tr.p_("réponse", "peut-être"),
        Reponse.NON: tr.p_("réponse", "non"),
    }
    return labels[reponse]


def moved_lines(tr: Translations, moves: Sequence[Mapping[str, Any]]) -> list[str]:
    """The member's per-séance answers that went with their moved séance."""
    return [
        tr._(
            "Votre réponse « {reponse} » pour la séance du {avant} vaut maintenant pour "
            "la séance déplacée au {apres} ; si elle change, répondez de nouveau avec /rsvp "
            "et l'option seance.",
            reponse=reponse_label(tr, Reponse(str(m["reponse"]))),
            avant=seance_when(tr, seance_from_payload(m["from"])),
            apres=seance_when(tr, seance_from_payload(m["to"])),
        )
        for m in moves
    ]


def moved_text(tr: Translations, info: AtelierInfo, moves: Sequence[Mapping[str, Any]]) -> str:
    """For a member who answered a moved séance alone."""
    lines = [tr._("Une séance de l'atelier « {titre} » a été déplacée.", titre=info.titre)]
    lines.extend(moved_lines(tr, moves))
    return "\n".join(lines + footer_lines(tr, info))


def cancelled_text(tr: Translations, info: AtelierInfo) -> str:
    lines = [tr._("L'atelier « {titre} » est annulé.", titre=info.titre)]
    if info.raison_annulation:
        lines.append(tr._("Raison : {raison}", raison=info.raison_annulation))
    lines.extend(seance_lines(tr, info.seances))
    lines.append(tr._("Votre inscription est annulée avec lui ; rien d'autre à faire."))
    return "\n".join(lines)
