"""The announcement's persistent buttons. Each is a ``DynamicItem`` whose custom id carries the
atelier id, so a click works on any announcement, also one posted before a restart; the
callback re-reads everything from the database (STYLE.md rule 9)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.i18n import Translations
from bot.interactions import run_safely
from cogs.ateliers.service import AtelierInfo
from db.models import Reponse

ANSWER_TEMPLATE = r"rsvp:(?P<atelier>[0-9]{1,20}):(?P<reponse>oui|peut-etre|non)"
LINK_TEMPLATE = r"lien:(?P<atelier>[0-9]{1,20})"
RSVP_COG = "RsvpCog"

_STYLES = {
    Reponse.OUI: discord.ButtonStyle.success,
    Reponse.PEUT_ETRE: discord.ButtonStyle.secondary,
    Reponse.NON: discord.ButtonStyle.danger,
}


def answer_custom_id(atelier_id: int, reponse: Reponse) -> str:
    return f"rsvp:{atelier_id}:{reponse.value}"


def link_custom_id(atelier_id: int) -> str:
    return f"lien:{atelier_id}"


def answer_label(tr: Translations, reponse: Reponse) -> str:
    labels = {
        Reponse.OUI: tr.p_("bouton", "Oui"),
        Reponse.PEUT_ETRE: tr.p_("bouton", "Peut-être"),
        Reponse.NON: tr.p_("bouton", "Non"),
    }
    return labels[reponse]


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ANSWER_TEMPLATE):
    """« Oui », « Peut-être », « Non »: ``rsvp:<atelier_id>:<reponse>``."""

    def __init__(self, atelier_id: int, reponse: Reponse, label: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or reponse.value,
                style=_STYLES[reponse],
                custom_id=answer_custom_id(atelier_id, reponse),
            )
        )
        self.atelier_id = atelier_id
        self.reponse = reponse

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Button[Any],
        match: re.Match[str],
        /,
    ) -> AnswerButton:
        return cls(int(match["atelier"]), Reponse(match["reponse"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await run_safely(interaction, self._answer(interaction))

    async def _answer(self, interaction: discord.Interaction) -> None:
        cog: Any = interaction.client.get_cog(RSVP_COG)  # type: ignore[attr-defined]
        await cog.answer_from_button(interaction, self.atelier_id, self.reponse)


class LinkButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=LINK_TEMPLATE):
    """« Lien de la réunion »: shows the link, ephemerally, to registered members only."""

    def __init__(self, atelier_id: int, label: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or "lien",
                style=discord.ButtonStyle.primary,
                custom_id=link_custom_id(atelier_id),
            )
        )
        self.atelier_id = atelier_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Button[Any],
        match: re.Match[str],
        /,
    ) -> LinkButton:
        return cls(int(match["atelier"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await run_safely(interaction, self._show(interaction))

    async def _show(self, interaction: discord.Interaction) -> None:
        cog: Any = interaction.client.get_cog(RSVP_COG)  # type: ignore[attr-defined]
        await cog.show_link(interaction, self.atelier_id)


def announcement_view(tr: Translations, info: AtelierInfo) -> discord.ui.View:
    """The three answer buttons, and the meeting-link button while there is a link. A cancelled
    atelier keeps its answer buttons: a click says it is cancelled."""
    view = discord.ui.View(timeout=None)
    for reponse in (Reponse.OUI, Reponse.PEUT_ETRE, Reponse.NON):
        view.add_item(AnswerButton(info.id, reponse, answer_label(tr, reponse)))
    if info.lien and not info.cancelled:
        view.add_item(LinkButton(info.id, tr.p_("bouton", "Lien de la réunion")))
    return view
