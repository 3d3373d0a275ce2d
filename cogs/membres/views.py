"""Buttons of profiles and the directory.

Every button is a ``DynamicItem`` whose custom id carries what it needs (the consent version, a
page and the search filters, a member, a proposal), so it keeps working after a restart; each
click re-reads the state from the database through the cogs. The profile form is in
``form.py``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import Translations
from bot.interactions import cog_of, run_safely
from cogs.membres.annuaire import AnnuairePage
from cogs.membres.service import CONSENT_VERSION

CUSTOM_ID_MAX = 100

if TYPE_CHECKING:
    from cogs.membres.annuaire_cog import AnnuaireCog
    from cogs.membres.cog import ProfilCog

Button = discord.ui.Button[Any]


def _profil(interaction: discord.Interaction) -> ProfilCog:
    from cogs.membres.cog import ProfilCog

    return cog_of(interaction.client, ProfilCog)


def _annuaire(interaction: discord.Interaction) -> AnnuaireCog:
    from cogs.membres.annuaire_cog import AnnuaireCog

    return cog_of(interaction.client, AnnuaireCog)


# --- profile ------------------------------------------------------------------------------------


class ConsentButton(
    discord.ui.DynamicItem[Button],
    template=r"profil:consentement:(?P<version>[\w.-]{1,20}):(?P<choix>oui|non)",
):
    """« J'accepte » / « Non merci ». The version shown travels with the button: if the text
    changed since, the new one is shown again before anything is stored."""

    def __init__(self, version: str, accepted: bool, label: str = "-") -> None:
        choix = "oui" if accepted else "non"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.success if accepted else discord.ButtonStyle.secondary,
                custom_id=f"profil:consentement:{version}:{choix}",
            )
        )
        self.version = version
        self.accepted = accepted

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> ConsentButton:
        return cls(match["version"], match["choix"] == "oui")

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = _profil(interaction)
        await run_safely(interaction, cog.on_consent(interaction, self.version, self.accepted))


class EditButton(discord.ui.DynamicItem[Button], template=r"profil:modifier"):
    def __init__(self, label: str = "-") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id="profil:modifier"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> EditButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        await run_safely(interaction, _profil(interaction).open_form(interaction))


class VisibilityButton(
    discord.ui.DynamicItem[Button], template=r"profil:annuaire:(?P<visible>oui|non)"
):
    def __init__(self, visible: bool, label: str = "-") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.success if visible else discord.ButtonStyle.secondary,
                custom_id=f"profil:annuaire:{'oui' if visible else 'non'}",
            )
        )
        self.visible = visible

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> VisibilityButton:
        return cls(match["visible"] == "oui")

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = _profil(interaction)
        await run_safely(interaction, cog.set_visibility(interaction, self.visible))


class EraseButton(
    discord.ui.DynamicItem[Button], template=r"profil:supprimer:(?P<choix>confirmer|annuler)"
):
    def __init__(self, confirmed: bool, label: str = "-") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.danger if confirmed else discord.ButtonStyle.secondary,
                custom_id=f"profil:supprimer:{'confirmer' if confirmed else 'annuler'}",
            )
        )
        self.confirmed = confirmed

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> EraseButton:
        return cls(match["choix"] == "confirmer")

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = _profil(interaction)
        await run_safely(interaction, cog.on_erase(interaction, self.confirmed))


def consent_view(tr: Translations) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConsentButton(CONSENT_VERSION, True, tr._("J'accepte")))
    view.add_item(ConsentButton(CONSENT_VERSION, False, tr._("Non merci")))
    return view


def profile_view(tr: Translations, visible: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(EditButton(tr._("Modifier mon profil")))
    if visible:
        view.add_item(VisibilityButton(False, tr._("Ne plus paraître dans l'annuaire")))
    else:
        view.add_item(VisibilityButton(True, tr._("Paraître dans l'annuaire")))
    return view


def erase_view(tr: Translations) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(EraseButton(True, tr._("Tout effacer")))
    view.add_item(EraseButton(False, tr._("Annuler")))
    return view


# --- the directory ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """A directory search, carried by the page buttons' custom ids (the municipality as its
    matching key, the keyword last: it may hold anything)."""

    region: str = ""
    chantier_id: int | None = None
    municipalite: str = ""
    mot_cle: str = ""

    def custom_id(self, page: int) -> str:
        chantier = self.chantier_id if self.chantier_id is not None else ""
        muni = self.municipalite.replace(":", " ")
        head = f"annuaire:page:{page}:{self.region}:{chantier}:{muni}:"
        # A 40-character keyword with a very long municipality may not fit: the keyword is
        # shortened (the search then finds a little more, never less).
        return (head + self.mot_cle)[:CUSTOM_ID_MAX]


class PageButton(
    discord.ui.DynamicItem[Button],
    template=(
        r"annuaire:page:(?P<page>\d{1,4}):(?P<region>\d{0,2}):(?P<chantier>\d{0,19}):"
        r"(?P<muni>[^:]*):(?P<mot>.*)"
    ),
):
    def __init__(
        self, filters: Filters, page: int, label: str = "-", *, disabled: bool = False
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=filters.custom_id(page),
                disabled=disabled,
                row=4,
            )
        )
        self.filters = filters
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> PageButton:
        filters = Filters(
            region=match["region"],
            chantier_id=int(match["chantier"]) if match["chantier"] else None,
            municipalite=match["muni"],
            mot_cle=match["mot"],
        )
        return cls(filters, int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = _annuaire(interaction)
        await run_safely(interaction, cog.show_page(interaction, self.filters, self.page))


class ProposeButton(discord.ui.DynamicItem[Button], template=r"annuaire:proposer:(?P<user>\d+)"):
    def __init__(self, user_id: int, label: str = "-", *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=discord.ButtonStyle.primary,
                custom_id=f"annuaire:proposer:{user_id}",
                row=row,
            )
        )
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> ProposeButton:
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = _annuaire(interaction)
        await run_safely(interaction, cog.propose(interaction, self.user_id))


class AnswerButton(
    discord.ui.DynamicItem[Button],
    template=r"conversation:(?P<id>\d+):(?P<choix>accepter|decliner)",
):
    """Accept or decline a proposed conversation (in a DM, or in a channel when DMs are
    closed: the service lets only the invited member answer)."""

    def __init__(self, proposal_id: int, accepted: bool, label: str = "-") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.success if accepted else discord.ButtonStyle.secondary,
                custom_id=f"conversation:{proposal_id}:{'accepter' if accepted else 'decliner'}",
            )
        )
        self.proposal_id = proposal_id
        self.accepted = accepted

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> AnswerButton:
        return cls(int(match["id"]), match["choix"] == "accepter")

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = _annuaire(interaction)
        await run_safely(interaction, cog.answer(interaction, self.proposal_id, self.accepted))


def annuaire_view(
    tr: Translations, page: AnnuairePage, names: Sequence[str], filters: Filters
) -> discord.ui.View:
    """One « propose » button per entry (a row each), then the page buttons."""
    view = discord.ui.View(timeout=None)
    for row, (entry, name) in enumerate(zip(page.entries, names, strict=True)):
        label = tr._("Proposer une conversation à {nom}", nom=name[:40])
        view.add_item(ProposeButton(entry.user_id, label, row=row))
    if page.pages > 1:
        view.add_item(
            PageButton(
                filters,
                max(page.page - 1, 0),
                "◀ " + tr._("Précédente"),
                disabled=page.page == 0,
            )
        )
        view.add_item(
            PageButton(
                filters,
                page.page + 1,
                tr._("Suivante") + " ▶",
                disabled=page.page >= page.pages - 1,
            )
        )
    return view


def answer_view(tr: Translations, proposal_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AnswerButton(proposal_id, True, tr._("Accepter")))
    view.add_item(AnswerButton(proposal_id, False, tr._("Décliner")))
    return view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ConsentButton,
    EditButton,
    VisibilityButton,
    EraseButton,
    PageButton,
    ProposeButton,
    AnswerButton,
)
