"""The answer buttons as persistent ``DynamicItem``s: a click on any announcement, also one
posted before a restart, is parsed from its custom id and answered by the inscriptions cog,
which re-reads everything from the database (STYLE.md rule 10)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.interactions import cog_of, run_safely
from cogs.inscriptions.buttons import (
    ANSWER_TEMPLATE,
    LINK_TEMPLATE,
    SERIE_TEMPLATE,
    serie_custom_id,
)
from db.models import Reponse

Button = discord.ui.Button[Any]


class AnswerButton(discord.ui.DynamicItem[Button], template=ANSWER_TEMPLATE):
    """« Oui », « Peut-être », « Non »: ``rsvp:<atelier_id>:<reponse>``."""

    def __init__(self, atelier_id: int, reponse: Reponse) -> None:
        super().__init__(discord.ui.Button(custom_id=f"rsvp:{atelier_id}:{reponse.value}"))
        self.atelier_id = atelier_id
        self.reponse = reponse

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> AnswerButton:
        return cls(int(match["atelier"]), Reponse(match["reponse"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        from cogs.inscriptions.cog import InscriptionsCog

        cog = cog_of(interaction.client, InscriptionsCog)
        await run_safely(interaction, cog.answer(interaction, self.atelier_id, self.reponse))


class SerieButton(discord.ui.DynamicItem[Button], template=SERIE_TEMPLATE):
    """« Toute la série »: « oui » to this atelier and the later ones of its series, saved as
    one intent before it is acknowledged, like the other answers (``InscriptionsCog``)."""

    def __init__(self, atelier_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=serie_custom_id(atelier_id)))
        self.atelier_id = atelier_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> SerieButton:
        return cls(int(match["atelier"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        from cogs.inscriptions.cog import InscriptionsCog

        cog = cog_of(interaction.client, InscriptionsCog)
        await run_safely(interaction, cog.answer_series(interaction, self.atelier_id))


class LinkButton(discord.ui.DynamicItem[Button], template=LINK_TEMPLATE):
    """« Lien de la réunion »: the link, ephemerally, to registered members only."""

    def __init__(self, atelier_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=f"lien:{atelier_id}"))
        self.atelier_id = atelier_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> LinkButton:
        return cls(int(match["atelier"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        from cogs.inscriptions.cog import InscriptionsCog

        cog = cog_of(interaction.client, InscriptionsCog)
        await run_safely(interaction, cog.show_link(interaction, self.atelier_id))
