"""The question form, the pages of /faq and /referentiels, and the persistent « Je veux
continuer » button posted after an atelier's last séance."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.i18n import Translations
from bot.interactions import PartageModal, PartageView, cog_of, run_safely
from cogs.questions.service import CONTEXT_MAX, TEXT_MAX, TITLE_MAX

QUESTIONS_COG = "QuestionsCog"
MODAL_TIMEOUT = 1800.0
PAGER_TIMEOUT = 600.0

Button = discord.ui.Button[Any]


class QuestionModal(PartageModal):
    """Title, question, and the municipality's context (optional)."""

    def __init__(self, tr: Translations, slug: str, chantier_nom: str) -> None:
        super().__init__(title=tr._("Votre question")[:45], timeout=MODAL_TIMEOUT)
        self.slug = slug
        self.titre = discord.ui.TextInput(
            custom_id="question:titre",
            max_length=TITLE_MAX,
            placeholder=tr._("ex. : Politique d'accueil : par où commencer ?"),
        )
        self.texte = discord.ui.TextInput(
            custom_id="question:texte",
            style=discord.TextStyle.paragraph,
            max_length=TEXT_MAX,
        )
        self.contexte = discord.ui.TextInput(
            custom_id="question:contexte",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=CONTEXT_MAX,
            placeholder=tr._("ex. : ville de 30 000 habitants, première politique"),
        )
        self.add_item(discord.ui.Label(text=tr._("Titre"), component=self.titre))
        self.add_item(
            discord.ui.Label(
                text=tr._("Question"),
                description=tr._("Chantier : {nom}", nom=chantier_nom)[:100],
                component=self.texte,
            )
        )
        self.add_item(
            discord.ui.Label(
                text=tr._("Contexte de votre municipalité"),
                description=tr._("Facultatif : taille, situation, ce qui a été essayé."),
                component=self.contexte,
            )
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        from cogs.questions.cog import QuestionsCog

        cog = cog_of(interaction.client, QuestionsCog)
        await cog.submit_question(
            interaction, self.slug, self.titre.value, self.texte.value, self.contexte.value
        )


#: Renders page ``n`` (content) for a pager.
PageRenderer = Callable[[int], Awaitable[tuple[str, int, int]]]


class Pager(PartageView):
    """Previous / next buttons under an ephemeral list; each click renders the page again."""

    def __init__(self, tr: Translations, render: PageRenderer, page: int, pages: int) -> None:
        super().__init__(timeout=PAGER_TIMEOUT)
        self.render = render
        self.page = page
        self.previous: Button = discord.ui.Button(
            label=tr._("Précédent"), style=discord.ButtonStyle.secondary
        )
        self.next: Button = discord.ui.Button(
            label=tr._("Suivant"), style=discord.ButtonStyle.secondary
        )
        self.previous.callback = self._previous  # type: ignore[method-assign]
        self.next.callback = self._next  # type: ignore[method-assign]
        self.add_item(self.previous)
        self.add_item(self.next)
        self._update(page, pages)

    def _update(self, page: int, pages: int) -> None:
        self.page = page
        self.previous.disabled = page <= 0
        self.next.disabled = page >= pages - 1

    async def _go(self, interaction: discord.Interaction, page: int) -> None:
        content, page, pages = await self.render(page)
        self._update(page, pages)
        await interaction.response.edit_message(content=content, view=self)

    async def _previous(self, interaction: discord.Interaction) -> None:
        await self._go(interaction, self.page - 1)

    async def _next(self, interaction: discord.Interaction) -> None:
        await self._go(interaction, self.page + 1)


class ContinuerButton(
    discord.ui.DynamicItem[Button],
    template=r"suivi:continuer:(?P<atelier>\d+)",
):
    """« Je veux continuer »: whoever clicks joins the atelier's gathering thread."""

    def __init__(self, atelier_id: int, label: str = "-") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"suivi:continuer:{atelier_id}",
            )
        )
        self.atelier_id = atelier_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Button, match: re.Match[str], /
    ) -> ContinuerButton:
        return cls(int(match["atelier"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        from cogs.questions.cog import QuestionsCog

        cog = cog_of(interaction.client, QuestionsCog)
        await run_safely(interaction, cog.on_continuer(interaction, self.atelier_id))


def continuer_view(tr: Translations, atelier_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ContinuerButton(atelier_id, tr._("Je veux continuer")))
    return view
