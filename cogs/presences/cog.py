"""Attendance on Discord: « Je suis là » (posted in the atelier's thread when a séance starts,
by the reminders' plan) and ``/atelier presences`` for staff or the atelier's co-hosts: a paged
checklist of those registered, plus those who came without registering. The command joins the
``/atelier`` group of the ateliers feature when this cog loads."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import CHOICE_MAX, CHOICES_MAX, atelier_choices, parse_atelier_id, parse_seance_id
from bot.cohosts import require_manager, staff_or_cohost
from bot.command_text import p_
from bot.errors import UserError
from bot.interactions import bot_of, locale_of, reply, tr_of
from cogs.presences.views import (
    HereButton,
    PageButton,
    PageSelect,
    WalkInSelect,
    checklist_message,
)

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

DYNAMIC_ITEMS = (HereButton, PageSelect, PageButton, WalkInSelect)


def build_command() -> app_commands.Command[Any, Any, Any]:
    """``/atelier presences``, built for each bot (a command belongs to one group)."""

    @app_commands.command(
        name=p_("command-name", "presences"),
        description=p_(
            "command-description", "Noter qui est venu à une séance (équipe ou coanimation)"
        ),
    )
    @app_commands.describe(
        atelier=p_("option-description", "L'atelier"),
        seance=p_("option-description", "La séance (par défaut celle en cours, sinon la dernière)"),
    )
    @staff_or_cohost()
    async def presences_command(
        interaction: discord.Interaction, atelier: str, seance: str | None = None
    ) -> None:
        """``/atelier presences atelier [seance]``: the checklist, privately."""
        bot = bot_of(interaction)
        checklist = await bot.services.presences.checklist(
            interaction.guild_id or 0,
            parse_atelier_id(atelier),
            parse_seance_id(seance) if seance else None,
        )
        await reply(interaction, **checklist_message(tr_of(interaction), checklist))

    @presences_command.autocomplete("atelier")
    async def _atelier_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await atelier_choices(interaction, current, upcoming_only=False)

    @presences_command.autocomplete("seance")
    async def _seance_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Every séance of the chosen atelier, begun or not."""
        tr, bot = tr_of(interaction), bot_of(interaction)
        try:
            atelier_id = parse_atelier_id(str(interaction.namespace.atelier or ""))
            info = await bot.services.ateliers.get(atelier_id, guild_id=interaction.guild_id)
        except UserError:
            return []
        wanted = current.strip().casefold()
        choices = []
        for n, s in enumerate(info.seances, 1):
            when = (
                tr.format_datetime(s.starts_at, s.zone)
                if s.local_time is not None
                else tr.format_date(s.local_date)
            )
            name = f"{n}. {when}"
            if wanted in name.casefold():
                choices.append(app_commands.Choice(name=name[:CHOICE_MAX], value=str(s.id)))
        return choices[:CHOICES_MAX]

    return presences_command


class PresencesCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.service = bot.services.presences
        self.atelier_command = build_command()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        group = self.bot.tree.get_command("atelier")
        if not isinstance(group, app_commands.Group):
            raise RuntimeError("the presences feature needs the ateliers feature (/atelier)")
        group.add_command(self.atelier_command)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        group = self.bot.tree.get_command("atelier")
        if isinstance(group, app_commands.Group):
            group.remove_command(self.atelier_command.name)

    async def here(self, interaction: discord.Interaction, seance_id: int) -> None:
        """« Je suis là »: recorded (once), answered privately."""
        tr = tr_of(interaction)
        result = await self.service.mark_self(
            interaction.guild_id or 0,
            seance_id,
            interaction.user.id,
            display_name=getattr(interaction.user, "display_name", None),
            locale=locale_of(interaction),
        )
        if result.already:
            text = tr._(
                "Votre présence à « {titre} » était déjà notée. Merci !", titre=result.titre
            )
        elif result.inscrit:
            text = tr._("Présence notée pour « {titre} ». Bonne séance !", titre=result.titre)
        else:
            text = tr._(
                "Présence notée pour « {titre} », sans inscription préalable. Bonne séance !",
                titre=result.titre,
            )
        await reply(interaction, text)

    async def _manager(self, interaction: discord.Interaction, seance_id: int) -> None:
        atelier_id = await self.service.atelier_of_seance(interaction.guild_id or 0, seance_id)
        await require_manager(interaction, atelier_id)

    async def record(
        self,
        interaction: discord.Interaction,
        seance_id: int,
        page: int,
        shown: list[int],
        present: list[int],
    ) -> None:
        await self._manager(interaction, seance_id)
        checklist = await self.service.record_page(
            interaction.guild_id or 0,
            seance_id,
            shown,
            present,
            actor_user_id=interaction.user.id,
            page=page,
        )
        await self._show(interaction, checklist)

    async def turn(self, interaction: discord.Interaction, seance_id: int, page: int) -> None:
        await self._manager(interaction, seance_id)
        atelier_id = await self.service.atelier_of_seance(interaction.guild_id or 0, seance_id)
        checklist = await self.service.checklist(
            interaction.guild_id or 0, atelier_id, seance_id, page
        )
        await self._show(interaction, checklist)

    async def walk_ins(
        self, interaction: discord.Interaction, seance_id: int, people: list[tuple[int, Any]]
    ) -> None:
        await self._manager(interaction, seance_id)
        checklist = await self.service.add_walk_ins(
            interaction.guild_id or 0, seance_id, people, actor_user_id=interaction.user.id
        )
        await self._show(interaction, checklist)

    async def _show(self, interaction: discord.Interaction, checklist: Any) -> None:
        await interaction.response.edit_message(**checklist_message(tr_of(interaction), checklist))
