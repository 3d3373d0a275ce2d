"""« Toute la série » (``rsvp:<atelier_id>:serie``), the fourth button of an announcement whose
atelier belongs to a series: « oui » to this atelier and to every later one of the series,
each by the rules of its own places and waiting list. A persistent ``DynamicItem``: it works on
announcements posted before a restart, and re-reads everything from the database."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.errors import UserError
from bot.i18n import Translations
from bot.interactions import bot_of, locale_of, reply, run_safely, tr_of
from cogs.ateliers.text import seance_when, short_status
from db.models import Reponse

log = logging.getLogger(__name__)

SERIE_TEMPLATE = r"rsvp:(?P<atelier>[0-9]{1,20}):serie"

Button = discord.ui.Button[Any]


def serie_custom_id(atelier_id: int) -> str:
    return f"rsvp:{atelier_id}:serie"


def serie_label(tr: Translations) -> str:
    return tr.p_("bouton", "Toute la série")


class SerieButton(discord.ui.DynamicItem[Button], template=SERIE_TEMPLATE):
    def __init__(self, atelier_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=serie_custom_id(atelier_id)))
        self.atelier_id = atelier_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> SerieButton:
        return cls(int(match["atelier"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await run_safely(interaction, answer_series(interaction, self.atelier_id))


async def answer_series(interaction: discord.Interaction, atelier_id: int) -> None:
    """« Oui » to this atelier and the later ones of its series; one line per atelier."""
    bot = bot_of(interaction)
    tr = tr_of(interaction)
    guild_id = interaction.guild_id or 0
    ids = await bot.services.ateliers.series_rest(guild_id, atelier_id)
    await interaction.response.defer(ephemeral=True, thinking=True)
    lines = [tr._("Votre réponse « oui » à toute la série :")]
    for other in ids:
        try:
            result = await bot.services.inscriptions.answer(
                guild_id,
                other,
                interaction.user.id,
                Reponse.OUI,
                display_name=interaction.user.display_name,
                locale=locale_of(interaction),
            )
        except UserError as exc:
            info = await bot.services.ateliers.get(other)
            status = tr.user_error(exc)
        else:
            info = result.atelier
            status = short_status(tr, result.etat, result.position)
        when = seance_when(tr, info.seances[0]) if info.seances else info.titre
        lines.append(tr._("- {date} : {statut}", date=when, statut=status))
    log.info(
        "atelier %s: user %s answered oui to the series (%d ateliers)",
        atelier_id,
        interaction.user.id,
        len(ids),
    )
    await reply(interaction, "\n".join(lines))
