"""The profile form (a modal): municipality, region, role, chantiers of interest, expertise.

Autocomplete does not exist in modals: the municipality is typed freely, normalized by the
service, and the card shown after saving says what was kept. Directory visibility is a button of
the card (a modal holds five fields)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.i18n import Translations
from bot.interactions import PartageModal, cog_of
from cogs.chantiers.service import ChantierInfo
from cogs.membres.service import ProfilChanges, ProfilInfo
from db.models import Region

MODAL_TIMEOUT = 1800.0
EXPERTISE_INPUT_MAX = 500


class ProfilModal(PartageModal):
    """The profile form: municipality, region, role, chantiers of interest, expertise.
    (Directory visibility is a button of the profile card: a modal holds five fields.)"""

    def __init__(
        self, tr: Translations, info: ProfilInfo | None, chantiers: Sequence[ChantierInfo]
    ) -> None:
        super().__init__(title=tr._("Votre profil"), timeout=MODAL_TIMEOUT)
        self.municipalite = discord.ui.TextInput(
            custom_id="profil:municipalite",
            required=False,
            max_length=100,
            default=info.municipalite if info else None,
            placeholder=tr._("ex. : Saint-Jean-sur-Richelieu"),
        )
        self.region = discord.ui.Select(
            custom_id="profil:region",
            min_values=0,
            max_values=1,
            required=False,
            placeholder=tr._("Votre région administrative"),
            options=[
                discord.SelectOption(
                    label=f"{r.code} – {r.nom}",
                    value=r.code,
                    default=info is not None and info.region == r,
                )
                for r in Region
            ],
        )
        self.fonction = discord.ui.TextInput(
            custom_id="profil:fonction",
            required=False,
            max_length=100,
            default=info.fonction if info else None,
            placeholder=tr._("ex. : conseillère en relations interculturelles"),
        )
        self.expertise = discord.ui.TextInput(
            custom_id="profil:expertise",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=EXPERTISE_INPUT_MAX,
            default=", ".join(info.expertise) if info else None,
            placeholder=tr._("ex. : francisation, logement, reconnaissance des acquis"),
        )
        self.chantiers: discord.ui.Select[Any] | None = None
        self.add_item(
            discord.ui.Label(
                text=tr._("Municipalité"),
                description=tr._("Où vous travaillez ; l'orthographe est normalisée."),
                component=self.municipalite,
            )
        )
        self.add_item(discord.ui.Label(text=tr._("Région"), component=self.region))
        self.add_item(discord.ui.Label(text=tr._("Fonction ou titre"), component=self.fonction))
        if chantiers:
            options = chantiers[:25]
            self.chantiers = discord.ui.Select(
                custom_id="profil:chantiers",
                min_values=0,
                max_values=len(options),
                required=False,
                placeholder=tr._("Les chantiers qui vous intéressent"),
                options=[
                    discord.SelectOption(
                        label=c.nom[:100],
                        value=str(c.id),
                        default=info is not None and c.id in info.chantier_ids,
                    )
                    for c in options
                ],
            )
            self.add_item(
                discord.ui.Label(text=tr._("Chantiers d'intérêt"), component=self.chantiers)
            )
        self.add_item(
            discord.ui.Label(
                text=tr._("Expertise"),
                description=tr._("Des mots-clés, séparés par des virgules (10 au plus)."),
                component=self.expertise,
            )
        )

    def changes(self) -> ProfilChanges:
        """Everything the form shows is saved; an emptied field is cleared."""
        return ProfilChanges(
            municipalite=self.municipalite.value or "",
            region=self.region.values[0] if self.region.values else "",
            fonction=self.fonction.value or "",
            chantier_ids=(
                [int(v) for v in self.chantiers.values] if self.chantiers is not None else None
            ),
            expertise=self.expertise.value or "",
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        typed = self.municipalite.value or ""
        from cogs.membres.cog import ProfilCog

        cog = cog_of(interaction.client, ProfilCog)
        await cog.save_form(interaction, self.changes(), typed)
