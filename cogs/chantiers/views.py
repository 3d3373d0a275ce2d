"""The select menu of /chantiers: join or leave several chantiers at once."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import discord

from bot.i18n import Translations
from bot.interactions import cog_of, run_safely
from cogs.chantiers.service import ChantierInfo

SELECT_ID = "chantiers:select"


def chantier_select(
    tr: Translations, chantiers: Sequence[ChantierInfo], member_role_ids: set[int]
) -> discord.ui.View:
    """A view holding the persistent select; each option's default says whether you're in."""
    view = discord.ui.View(timeout=None)
    view.add_item(ChantierSelect(tr, chantiers, member_role_ids))
    return view


class ChantierSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"chantiers:select"):
    def __init__(
        self,
        tr: Translations | None = None,
        chantiers: Sequence[ChantierInfo] = (),
        member_role_ids: set[int] | None = None,
    ) -> None:
        options = [
            discord.SelectOption(
                label=c.nom[:100],
                value=c.slug,
                emoji=c.emoji or None,
                description=(c.description or None) and c.description[:100],
                default=c.role_id in (member_role_ids or set()),
            )
            for c in chantiers[:25]
        ] or [discord.SelectOption(label="—", value="-")]
        super().__init__(
            discord.ui.Select(
                custom_id=SELECT_ID,
                placeholder=(tr._("Vos chantiers") if tr else None),
                min_values=0,
                max_values=len(options),
                options=options,
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Select[Any],
        match: re.Match[str],
        /,
    ) -> ChantierSelect:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        from cogs.chantiers.cog import ChantiersCog

        cog = cog_of(interaction.client, ChantiersCog)
        values = list((interaction.data or {}).get("values", []))
        await run_safely(interaction, cog.apply_selection(interaction, values))
