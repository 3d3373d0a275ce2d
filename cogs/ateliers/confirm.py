"""« Enregistrer quand même »: a staff command whose séances fall on a Québec holiday or overlap
another atelier of the chantier answers with the warnings and this button, and saves nothing.

The pending action lives in the view, in this process's memory, not in the database: it is
the command's own continuation (the draft or the changes already read and checked), kept for
``CONFIRM_MINUTES`` (less than the 15 minutes an interaction's token lives). A restart or the
timeout drops it, and nothing was saved: staff run the command again. One click saves once."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.i18n import Translations
from bot.interactions import PartageView, reply, tr_of
from cogs.ateliers.calendar_checks import PlanningWarning, warning_lines

log = logging.getLogger(__name__)

CONFIRM_MINUTES = 14
CUSTOM_ID_PREFIX = "atelier-confirmer:"

Action = Callable[[discord.Interaction], Awaitable[None]]


class ConfirmView(PartageView):
    def __init__(self, tr: Translations, origin: discord.Interaction, action: Action) -> None:
        super().__init__(timeout=CONFIRM_MINUTES * 60)
        self.origin = origin
        self.action = action
        self.done = False
        button = discord.ui.Button[Any](
            label=tr.p_("bouton", "Enregistrer quand même"),
            style=discord.ButtonStyle.danger,
            custom_id=CUSTOM_ID_PREFIX + secrets.token_hex(8),
        )
        button.callback = self._confirm  # type: ignore[method-assign]
        self.add_item(button)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.origin.user.id

    async def _confirm(self, interaction: discord.Interaction) -> None:
        if self.done:
            await reply(interaction, tr_of(interaction)._("C'est déjà enregistré."))
            return
        self.done = True
        log.info(
            "interaction %s: user %s confirmed despite the warnings",
            self.origin.id,
            interaction.user.id,
        )
        try:
            await self.action(interaction)
        except BaseException:
            self.done = False  # nothing saved: the button may be clicked again
            raise
        # Stopped only now: a stopped view leaves the store, and a click it no longer holds
        # would be answered « Ce bouton n'est plus valide » meanwhile.
        self.stop()
        try:
            await self.origin.edit_original_response(view=None)
        except discord.HTTPException:
            log.info("interaction %s: the warning's button could not be removed", self.origin.id)


def warnings_text(tr: Translations, warnings: list[PlanningWarning]) -> str:
    lines = [tr._("À vérifier avant d'enregistrer :")]
    lines += [f"- {line}" for line in warning_lines(tr, warnings)]
    lines.append(
        tr._(
            "Rien n'est enregistré pour l'instant. Cliquez « Enregistrer quand même » pour "
            "confirmer, ou relancez la commande avec d'autres dates."
        )
    )
    return "\n".join(lines)


async def ask(
    interaction: discord.Interaction,
    tr: Translations,
    warnings: list[PlanningWarning],
    action: Action,
) -> None:
    """Show the warnings with the button; ``action`` runs on the click."""
    await reply(interaction, warnings_text(tr, warnings), view=ConfirmView(tr, interaction, action))
