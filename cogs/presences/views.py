"""Attendance's components, as persistent ``DynamicItem``s whose custom ids carry the séance
(STYLE.md rule 10): « Je suis là » (``presence:<seance_id>``), and the staff's checklist: the
select of a page (``presences:<seance_id>:<page>``), its page buttons
(``presences:<seance_id>:page:<page>``) and the walk-ins' user select
(``presences:<seance_id>:ajout``). Every click re-reads the database."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.i18n import Translations, discord_timestamp
from bot.interactions import cog_of, run_safely
from cogs.presences.service import Checklist

Button = discord.ui.Button[Any]
Select = discord.ui.Select[Any]
UserSelect = discord.ui.UserSelect[Any]

HERE_TEMPLATE = r"presence:(?P<seance>[0-9]{1,18})"
PAGE_SELECT_TEMPLATE = r"presences:(?P<seance>[0-9]{1,18}):(?P<page>[0-9]{1,4})"
PAGE_BUTTON_TEMPLATE = r"presences:(?P<seance>[0-9]{1,18}):page:(?P<page>[0-9]{1,4})"
WALK_IN_TEMPLATE = r"presences:(?P<seance>[0-9]{1,18}):ajout"
WALK_INS_MAX = 10
EMBED_COLOUR = discord.Colour(0x2E8B57)


def _cog(interaction: discord.Interaction) -> Any:
    from cogs.presences.cog import PresencesCog

    return cog_of(interaction.client, PresencesCog)


class HereButton(discord.ui.DynamicItem[Button], template=HERE_TEMPLATE):
    """« Je suis là », posted in the atelier's thread when a séance starts."""

    def __init__(self, seance_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=f"presence:{seance_id}"))
        self.seance_id = seance_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> HereButton:
        return cls(int(match["seance"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await run_safely(interaction, _cog(interaction).here(interaction, self.seance_id))


class PageSelect(discord.ui.DynamicItem[Select], template=PAGE_SELECT_TEMPLATE):
    """The members of one page of the checklist; those selected were there."""

    def __init__(self, seance_id: int, page: int, item: Select | None = None) -> None:
        super().__init__(item or discord.ui.Select(custom_id=f"presences:{seance_id}:{page}"))
        self.seance_id = seance_id
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Select, match: re.Match[str], /
    ) -> PageSelect:
        return cls(int(match["seance"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        values = [int(v) for v in (interaction.data or {}).get("values", []) if str(v).isdigit()]
        shown = _shown_options(interaction, self.custom_id)
        await run_safely(
            interaction,
            _cog(interaction).record(interaction, self.seance_id, self.page, shown, values),
        )


class PageButton(discord.ui.DynamicItem[Button], template=PAGE_BUTTON_TEMPLATE):
    def __init__(self, seance_id: int, page: int, item: Button | None = None) -> None:
        super().__init__(item or discord.ui.Button(custom_id=f"presences:{seance_id}:page:{page}"))
        self.seance_id = seance_id
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> PageButton:
        return cls(int(match["seance"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await run_safely(
            interaction, _cog(interaction).turn(interaction, self.seance_id, self.page)
        )


class WalkInSelect(discord.ui.DynamicItem[UserSelect], template=WALK_IN_TEMPLATE):
    """Members who came without being on the list (or anyone staff want to add)."""

    def __init__(self, seance_id: int, item: UserSelect | None = None) -> None:
        super().__init__(item or discord.ui.UserSelect(custom_id=f"presences:{seance_id}:ajout"))
        self.seance_id = seance_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: UserSelect, match: re.Match[str], /
    ) -> WalkInSelect:
        return cls(int(match["seance"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        people = [(u.id, getattr(u, "display_name", None)) for u in self.item.values if not u.bot]
        await run_safely(
            interaction, _cog(interaction).walk_ins(interaction, self.seance_id, people)
        )


def _shown_options(interaction: discord.Interaction, custom_id: str) -> list[int]:
    """The member ids the page's select offered (read from the message clicked)."""
    message = interaction.message
    if message is None:
        return []
    for row in message.components:
        for child in getattr(row, "children", []):
            if getattr(child, "custom_id", None) == custom_id:
                return [int(o.value) for o in getattr(child, "options", []) if o.value.isdigit()]
    return []


def checklist_message(tr: Translations, checklist: Checklist) -> dict[str, Any]:
    """The checklist's embed and components (``send``/``edit_message`` keyword arguments)."""
    atelier, seance = checklist.atelier, checklist.seance
    when = (
        discord_timestamp(seance.starts_at, "F")
        if seance.local_time is not None
        else tr.format_date(seance.local_date)
    )
    lines = [
        tr._(
            "Séance {n} sur {total} : {quand}",
            n=checklist.number,
            total=len(atelier.seances),
            quand=when,
        ),
        tr.n_(
            "{n} présence notée",
            "{n} présences notées",
            checklist.present,
        )
        + " · "
        + tr.n_("{n} personne attendue", "{n} personnes attendues", checklist.expected)
        + " · "
        + tr.n_("{n} venue sans inscription", "{n} venues sans inscription", checklist.walk_ins),
        "",
    ]
    for row in checklist.rows:
        mark = "✅" if row.present else "⬜"
        name = row.name or (f"<@{row.user_id}>" if row.user_id else "—")
        suffix = "" if row.expected else " " + tr._("(sans inscription)")
        lines.append(f"{mark} {discord.utils.escape_markdown(name)}{suffix}")
    if not checklist.rows:
        lines.append(tr._("Personne n'est inscrit à cette séance pour l'instant."))
    embed = discord.Embed(
        title=tr._("Présences : {titre}", titre=atelier.titre)[:256],
        description="\n".join(lines)[:4000],
        colour=EMBED_COLOUR,
    )
    if checklist.pages > 1:
        embed.set_footer(
            text=tr._("Page {page} sur {pages}", page=checklist.page + 1, pages=checklist.pages)
        )
    view = discord.ui.View(timeout=None)
    seance_id = seance.id
    if checklist.rows:
        options = [
            discord.SelectOption(
                label=(row.name or str(row.user_id or row.membre_id))[:100],
                value=str(row.membre_id),
                description=(tr._("inscrit·e") if row.expected else tr._("sans inscription")),
                default=row.present,
            )
            for row in checklist.rows
        ]
        view.add_item(
            PageSelect(
                seance_id,
                checklist.page,
                discord.ui.Select(
                    custom_id=f"presences:{seance_id}:{checklist.page}",
                    placeholder=tr._("Cochez les personnes présentes"),
                    min_values=0,
                    max_values=len(options),
                    options=options,
                ),
            )
        )
    view.add_item(
        WalkInSelect(
            seance_id,
            discord.ui.UserSelect(
                custom_id=f"presences:{seance_id}:ajout",
                placeholder=tr._("Ajouter des personnes venues sans inscription"),
                min_values=1,
                max_values=WALK_INS_MAX,
            ),
        )
    )
    if checklist.pages > 1:
        for label, page, disabled in (
            (tr.p_("bouton", "Précédente"), checklist.page - 1, checklist.page == 0),
            (
                tr.p_("bouton", "Suivante"),
                checklist.page + 1,
                checklist.page >= checklist.pages - 1,
            ),
        ):
            view.add_item(
                PageButton(
                    seance_id,
                    max(page, 0),
                    discord.ui.Button(
                        label=label,
                        custom_id=f"presences:{seance_id}:page:{max(page, 0)}",
                        disabled=disabled,
                        style=discord.ButtonStyle.secondary,
                    ),
                )
            )
    return {"embed": embed, "view": view}
