"""What profiles, the directory and conversation proposals look like on Discord. Profile fields
are free text typed by members: they go in embeds and messages sent with mentions off."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.command_text import command
from bot.i18n import Translations, elides
from cogs.membres.annuaire import AnnuaireEntry, AnnuairePage, ProposalInfo
from cogs.membres.service import CONSENT_TEXT, ProfilInfo
from db.models import Region

EMBED_COLOUR = discord.Colour.from_rgb(0, 98, 155)
EMPTY = "—"
FIELD_MAX = 1024


def region_label(region: Region | None) -> str:
    """A region's official name (a proper noun, the same in every language) and its code."""
    return f"{region.nom} ({region.code})" if region is not None else EMPTY


def consent_embed(tr: Translations, lead: str | None = None) -> discord.Embed:
    """The consent asked before any profile field is stored: the purpose, what is kept, and
    that it can be withdrawn at any time."""
    text = tr._(CONSENT_TEXT)
    if lead:
        text = f"{lead}\n\n{text}"
    embed = discord.Embed(title=tr._("Votre consentement"), description=text, colour=EMBED_COLOUR)
    embed.set_footer(
        text=tr._("Rien n'est conservé tant que vous n'avez pas cliqué sur « J'accepte ».")
    )
    return embed


def profile_embed(
    tr: Translations, info: ProfilInfo, chantier_names: Mapping[int, str], name: str
) -> discord.Embed:
    title = tr._("Profil d'{nom}", nom=name) if elides(name) else tr._("Profil de {nom}", nom=name)
    embed = discord.Embed(title=title, colour=EMBED_COLOUR)
    chantiers = [chantier_names[c] for c in info.chantier_ids if c in chantier_names]
    fields = (
        (tr._("Municipalité"), info.municipalite or EMPTY, True),
        (tr._("Région"), region_label(info.region), True),
        (tr._("Fonction"), info.fonction or EMPTY, True),
        (tr._("Chantiers d'intérêt"), ", ".join(chantiers) or EMPTY, False),
        (tr._("Expertise"), ", ".join(info.expertise) or EMPTY, False),
    )
    for label, value, inline in fields:
        embed.add_field(name=label, value=value[:FIELD_MAX], inline=inline)
    embed.add_field(
        name=tr._("Annuaire"),
        value=(
            tr._("Vous paraissez dans l'annuaire : vos collègues peuvent vous trouver.")
            if info.visible_annuaire
            else tr._("Vous ne paraissez pas dans l'annuaire.")
        ),
        inline=False,
    )
    embed.set_footer(
        text=tr._(
            "Consentement donné le {date}. {donnees} : tout ce que Partage conserve sur vous. "
            "{supprimer} : tout effacer.",
            date=tr.format_date(info.consent_at.date(), "long"),
            donnees=command(tr, "mes-donnees"),
            supprimer=command(tr, "profil supprimer"),
        )
    )
    return embed


def entry_text(tr: Translations, entry: AnnuaireEntry, chantier_names: Mapping[int, str]) -> str:
    where = " · ".join(
        part for part in (entry.municipalite, entry.region.nom if entry.region else None) if part
    )
    lines = [f"<@{entry.user_id}>" + (f" — {where}" if where else "")]
    if entry.fonction:
        lines.append(entry.fonction)
    chantiers = [chantier_names[c] for c in entry.chantier_ids if c in chantier_names]
    if chantiers:
        lines.append(tr._("Chantiers : {noms}", noms=", ".join(chantiers)))
    if entry.expertise:
        lines.append(tr._("Expertise : {mots}", mots=", ".join(entry.expertise)))
    return "\n".join(lines)[:FIELD_MAX]


def annuaire_embed(
    tr: Translations,
    page: AnnuairePage,
    names: Sequence[str],
    chantier_names: Mapping[int, str],
    filters: str,
) -> discord.Embed:
    embed = discord.Embed(
        title=tr.n_(
            "Annuaire : {n} collègue trouvé", "Annuaire : {n} collègues trouvés", page.total
        ),
        colour=EMBED_COLOUR,
    )
    if filters:
        embed.description = filters
    if not page.entries:
        embed.description = "\n".join(
            part
            for part in (
                filters,
                tr._(
                    "Personne ne correspond. Essayez moins de filtres : seuls les membres qui "
                    "ont choisi de paraître dans l'annuaire y figurent."
                ),
            )
            if part
        )
    start = page.page * page.per_page
    for index, (entry, name) in enumerate(zip(page.entries, names, strict=True), start=start + 1):
        embed.add_field(
            name=f"{index}. {name}"[:256],
            value=entry_text(tr, entry, chantier_names),
            inline=False,
        )
    embed.set_footer(
        text=tr._(
            "Page {page} sur {pages}. Proposer une conversation : la personne peut accepter ou "
            "décliner ; si elle accepte, un fil privé s'ouvre avec vous deux.",
            page=page.page + 1,
            pages=page.pages,
        )
    )
    return embed


def proposal_text(
    tr: Translations,
    info: ProposalInfo,
    sender: str,
    sender_profile: ProfilInfo | None,
    server: str,
) -> str:
    """The invitation the invited member receives (by DM, or in a channel)."""
    lines = [
        tr._(
            "{nom} vous propose une conversation, à partir de l'annuaire de l'Opération "
            "Partage (serveur « {serveur} »).",
            nom=sender,
            serveur=server,
        )
    ]
    if sender_profile is not None:
        details = [
            part
            for part in (
                sender_profile.fonction,
                sender_profile.municipalite,
                sender_profile.region.nom if sender_profile.region else None,
            )
            if part
        ]
        if details:
            lines.append(" · ".join(details))
        if sender_profile.expertise:
            lines.append(tr._("Expertise : {mots}", mots=", ".join(sender_profile.expertise)))
    lines.append(
        tr._("Si vous acceptez, Partage ouvre un fil privé avec vous deux sur le serveur.")
    )
    return "\n".join(lines)


def conversation_intro(tr: Translations, names: Sequence[str]) -> str:
    return tr._(
        "Voici votre fil privé, ouvert à partir de l'annuaire : {noms}. Présentez-vous et "
        "choisissez un moment pour échanger. Seules les personnes ajoutées et les "
        "modérateurs du serveur voient ce fil.",
        noms=", ".join(names),
    )


def erase_done_text(tr: Translations, found: bool, kept: int) -> str:
    if not found:
        return tr._("Partage ne conservait aucune donnée sur vous sur ce serveur.")
    text = tr._(
        "C'est fait : votre profil, votre participation au jumelage, vos propositions de "
        "conversation et vos inscriptions aux ateliers à venir sont effacés."
    )
    if kept:
        text += "\n" + tr.n_(
            "Votre inscription à {n} atelier passé reste comptée, sans votre nom ni votre "
            "identifiant Discord.",
            "Vos inscriptions à {n} ateliers passés restent comptées, sans votre nom ni votre "
            "identifiant Discord.",
            kept,
        )
    return text
