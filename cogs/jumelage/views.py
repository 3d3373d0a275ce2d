"""The jumelage's buttons: join, pause, resume, leave. Persistent (``DynamicItem``): the custom
id carries the server, so they work in a DM and after a restart; each applies to whoever
clicks (in a pair's thread, each member pauses or leaves for themself)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.i18n import Translations
from bot.interactions import cog_of, run_safely
from cogs.jumelage.service import Participation

JUMELAGE_COG = "JumelageCog"
ACTIONS = ("participer", "pause", "reprendre", "quitter")

Button = discord.ui.Button[Any]


class JumelageButton(
    discord.ui.DynamicItem[Button],
    template=r"jumelage:(?P<action>participer|pause|reprendre|quitter):(?P<guild>\d+)",
):
    def __init__(self, action: str, guild_id: int, label: str = "-") -> None:
        style = {
            "participer": discord.ButtonStyle.success,
            "reprendre": discord.ButtonStyle.success,
            "quitter": discord.ButtonStyle.danger,
        }.get(action, discord.ButtonStyle.secondary)
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=f"jumelage:{action}:{guild_id}")
        )
        self.action = action
        self.guild_id = guild_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> JumelageButton:
        return cls(match["action"], int(match["guild"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        from cogs.jumelage.cog import JumelageCog

        cog = cog_of(interaction.client, JumelageCog)
        await run_safely(interaction, cog.on_button(interaction, self.guild_id, self.action))


def labels(tr: Translations) -> dict[str, str]:
    return {
        "participer": tr._("Participer au jumelage"),
        "pause": tr._("Pause de quatre semaines"),
        "reprendre": tr._("Reprendre"),
        "quitter": tr._("Quitter le jumelage"),
    }


def jumelage_view(
    tr: Translations, guild_id: int, participation: Participation | None
) -> discord.ui.View:
    """The buttons that make sense now; ``None`` for a message to several members (pause and
    leave)."""
    if participation is None:
        actions = ["pause", "quitter"]
    elif not participation.participe:
        actions = ["participer"]
    elif participation.snoozed_until is not None:
        actions = ["reprendre", "quitter"]
    else:
        actions = ["pause", "quitter"]
    view = discord.ui.View(timeout=None)
    text = labels(tr)
    for action in actions:
        view.add_item(JumelageButton(action, guild_id, text[action]))
    return view
