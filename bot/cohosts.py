"""Who may manage one atelier: staff, or a member the staff named co-host of that atelier
(``/atelier coanimer``). One check for the commands whose ``atelier`` option names it, one
call for buttons that carry the atelier or séance in their custom id."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.choices import parse_atelier_id
from bot.errors import N_, UserError
from bot.interactions import bot_of, is_staff


class NotStaffOrCohost(app_commands.CheckFailure, UserError):
    """The caller is neither staff nor a co-host of the atelier."""

    def __init__(self) -> None:
        UserError.__init__(
            self,
            N_("Réservé à l'équipe d'animation et aux personnes qui coaniment cet atelier."),
        )


async def may_manage(interaction: discord.Interaction, atelier_id: int) -> bool:
    """Staff (the configured role or Manage Server), or a co-host of this atelier."""
    bot = bot_of(interaction)
    if interaction.guild_id is None:
        return False
    if is_staff(interaction.user, bot.settings.discord.staff_role):
        return True
    return bool(
        await bot.services.presences.is_cohost(
            interaction.guild_id, atelier_id, interaction.user.id
        )
    )


async def require_manager(interaction: discord.Interaction, atelier_id: int) -> None:
    if not await may_manage(interaction, atelier_id):
        raise NotStaffOrCohost()


def staff_or_cohost(option: str = "atelier") -> Any:
    """An ``app_commands.check``: staff, or a co-host of the atelier named by ``option``."""

    async def predicate(interaction: discord.Interaction) -> bool:
        raw = str(getattr(interaction.namespace, option, "") or "")
        try:
            atelier_id = parse_atelier_id(raw)
        except UserError:
            atelier_id = 0
        await require_manager(interaction, atelier_id)
        return True

    predicate.partage_staff_only = True  # type: ignore[attr-defined]  # /aide lists it for staff
    return app_commands.check(predicate)
