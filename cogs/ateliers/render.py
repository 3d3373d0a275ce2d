"""The announcement of an atelier as a Discord embed (the text itself is in ``text.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import discord

from bot.i18n import Translations, discord_timestamp
from cogs.ateliers.info import AtelierInfo
from cogs.ateliers.text import counts_lines, genre_label, seance_lines

COLOUR = discord.Colour.from_rgb(0, 98, 155)
CANCELLED_COLOUR = discord.Colour.from_rgb(120, 120, 120)
FIELD_MAX = 1024
EMBED_TITLE_MAX = 256


def _chunks(lines: Iterable[str], limit: int = FIELD_MAX) -> list[str]:
    """Join lines into blocks of at most ``limit`` characters (embed field values)."""
    blocks: list[str] = []
    current = ""
    for line in lines:
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            blocks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        blocks.append(current)
    return blocks


def announcement_embed(
    tr: Translations,
    info: AtelierInfo,
    *,
    chantier: str | None = None,
    cohosts: Sequence[int] = (),
) -> discord.Embed:
    """The announcement: title, genre, séances, place, counts, organizer; greyed out and
    marked when cancelled."""
    if info.cancelled:
        title = tr._("ANNULÉ — {titre}", titre=info.titre)
        head = [tr._("Cet atelier est annulé.")]
        if info.raison_annulation:
            head.append(tr._("Raison : {raison}", raison=info.raison_annulation))
        description = "\n".join(head) + ("\n\n" + info.description if info.description else "")
    else:
        title, description = info.titre, info.description
    embed = discord.Embed(
        title=title[:EMBED_TITLE_MAX],
        description=description[:4000] or None,
        colour=CANCELLED_COLOUR if info.cancelled else COLOUR,
    )
    author = genre_label(tr, info.genre)
    embed.set_author(name=f"{author} · {chantier}"[:256] if chantier else author)
    name = tr.n_("Séance", "Séances", len(info.seances))
    for i, block in enumerate(_chunks(seance_lines(tr, info.seances))):
        embed.add_field(name=name if i == 0 else "\u200b", value=block, inline=False)
    lieu = info.lieu
    if info.lien:
        lieu += "\n" + tr._(
            "Lien de la réunion : réservé aux personnes inscrites (bouton ci-dessous)."
        )
    embed.add_field(name=tr._("Lieu"), value=lieu[:FIELD_MAX], inline=False)
    embed.add_field(name=tr._("Places"), value="\n".join(counts_lines(tr, info.counts)))
    if info.cloture is not None and not info.cancelled:  # cloture: answers close then
        embed.add_field(
            name=tr._("Réponses"),
            value=tr._(
                "jusqu'au {date} ({relatif})",
                date=discord_timestamp(info.cloture, "F"),
                relatif=discord_timestamp(info.cloture, "R"),
            ),
        )
    if info.organizer_user_id:
        embed.add_field(name=tr._("Organisation"), value=f"<@{info.organizer_user_id}>")
    if cohosts:  # named with /atelier coanimer (cogs/gestion)
        embed.add_field(
            name=tr._("Coanimation"),
            value=" ".join(f"<@{u}>" for u in cohosts)[:FIELD_MAX],
        )
    embed.set_footer(
        text=tr._("Atelier n° {id} · Répondez avec les boutons ou avec /rsvp.", id=info.id)
    )
    return embed


def moved_embed(tr: Translations, info: AtelierInfo, url: str) -> discord.Embed:
    """What an older announcement becomes once the atelier is announced again elsewhere."""
    return discord.Embed(
        title=info.titre[:EMBED_TITLE_MAX],
        description=tr._("Cette annonce a été publiée de nouveau : {url}", url=url),
        colour=CANCELLED_COLOUR,
    )
