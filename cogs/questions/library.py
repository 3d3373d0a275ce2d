"""The library on Discord: /referentiels, and /atelier documents (added to the ateliers'
group when this cog loads: one feature's adapter never imports another's). A file is re-posted
in the atelier's thread: Discord keeps it, Partage keeps its message id."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import atelier_choices, chantier_choices, parse_atelier_id
from bot.cohosts import staff_or_cohost
from bot.command_text import command, p_
from bot.errors import N_, InvalidInput
from bot.interactions import NO_MENTIONS, cog_of, commit_then_defer, reply, tr_of
from bot.threads import MESSAGE_MAX
from cogs.questions.views import Pager

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

FILE_MAX = 25 * 1024 * 1024  # what a bot may upload on any server


class BibliothequeCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.library = bot.services.bibliotheque
        self._documents: app_commands.Command[Any, Any, None] | None = None

    async def cog_load(self) -> None:
        self._documents = documents_command()
        atelier = self.bot.tree.get_command("atelier")
        if isinstance(atelier, app_commands.Group):
            atelier.add_command(self._documents)
        else:
            log.warning("no /atelier group: /atelier documents is not available")

    async def cog_unload(self) -> None:
        atelier = self.bot.tree.get_command("atelier")
        if isinstance(atelier, app_commands.Group) and self._documents is not None:
            atelier.remove_command(self._documents.name)

    # --- /referentiels -------------------------------------------------------------------------

    @app_commands.command(
        name=p_("command-name", "referentiels"),
        description=p_(
            "command-description", "Chercher dans les référentiels et les documents des ateliers"
        ),
    )
    @app_commands.describe(
        mot_cle=p_("option-description", "Un mot du titre"),
        chantier=p_("option-description", "Le chantier"),
    )
    @app_commands.rename(mot_cle="mot-cle")
    @app_commands.guild_only()
    async def referentiels(
        self,
        interaction: discord.Interaction,
        mot_cle: str | None = None,
        chantier: str | None = None,
    ) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id or 0

        async def render(page: int) -> tuple[str, int, int]:
            found = await self.library.search(guild_id, mot_cle, chantier, page)
            if not found.total:
                return tr._("Aucun document ne correspond."), 0, 1
            lines = [
                tr.n_(
                    "Un document :",
                    "{n} documents (page {page} sur {pages}) :",
                    found.total,
                    n=found.total,
                    page=found.page + 1,
                    pages=found.pages,
                )
            ]
            for doc in found.items:
                where = doc.url or (
                    f"https://discord.com/channels/{guild_id}/{doc.channel_id}/{doc.message_id}"
                    if doc.message_id
                    else ""
                )
                lines.append(
                    tr._(
                        "**{titre}** — atelier « {atelier} »\n{lien}",
                        titre=doc.titre,
                        atelier=doc.atelier_titre,
                        lien=where,
                    )
                )
            return "\n\n".join(lines)[:MESSAGE_MAX], found.page, found.pages

        content, page, pages = await render(0)
        view = Pager(tr, render, page, pages) if pages > 1 else None
        await reply(interaction, content, **({"view": view} if view else {}))

    @referentiels.autocomplete("chantier")
    async def _referentiels_chantier(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await chantier_choices(interaction, current)

    # --- /atelier documents (attached to the ateliers' group) ---------------------------------

    async def add_document(
        self,
        interaction: discord.Interaction,
        atelier: str,
        titre: str,
        lien: str | None,
        fichier: discord.Attachment | None,
    ) -> None:
        """Staff, or a co-host of the atelier (``staff_or_cohost`` in ``documents_command``)."""
        tr = tr_of(interaction)
        guild_id = interaction.guild_id or 0
        atelier_id = parse_atelier_id(atelier)
        if fichier is not None and fichier.size > FILE_MAX:
            raise InvalidInput(N_("Le fichier dépasse 25 Mo."))
        doc = await commit_then_defer(
            interaction,
            self.library.add(
                guild_id,
                atelier_id,
                titre,
                url=lien,
                filename=fichier.filename if fichier is not None else None,
                by_user_id=interaction.user.id,
            ),
        )
        fr = self.bot.i18n.for_locale("fr")
        announced = None
        if doc.thread_id is not None:
            thread = self.bot.get_partial_messageable(doc.thread_id, guild_id=guild_id)
            text = fr._("Nouveau document pour cet atelier : **{titre}**", titre=doc.titre)
            if doc.url:
                text += f"\n{doc.url}"
            try:
                if fichier is not None:
                    announced = await thread.send(
                        text, file=await fichier.to_file(), allowed_mentions=NO_MENTIONS
                    )
                else:
                    announced = await thread.send(text, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.warning(
                    "document %s: not announced in thread %s: %s", doc.id, doc.thread_id, exc
                )
        if fichier is not None and announced is None:
            await self.library.discard(doc.id)
            await reply(
                interaction,
                tr._(
                    "Le fichier n'a pas pu être publié dans le fil de l'atelier : rien n'a été "
                    "ajouté."
                ),
            )
            return
        if announced is not None:
            await self.library.set_message(doc.id, announced.channel.id, announced.id)
        await reply(
            interaction,
            tr._(
                "Document « {titre} » ajouté à l'atelier « {atelier} » ; on le trouve avec "
                "{commande}.",
                titre=doc.titre,
                atelier=doc.atelier_titre,
                commande=command(tr, "referentiels"),
            ),
        )


def documents_command() -> app_commands.Command[Any, Any, None]:
    """``/atelier documents``, added to the ateliers' group when this cog loads."""

    @app_commands.describe(
        atelier=p_("option-description", "L'atelier"),
        titre=p_("option-description", "Le titre du document"),
        lien=p_("option-description", "Un lien (https://…)"),
        fichier=p_("option-description", "Ou un fichier"),
    )
    @staff_or_cohost()
    async def documents(
        interaction: discord.Interaction,
        atelier: str,
        titre: str,
        lien: str | None = None,
        fichier: discord.Attachment | None = None,
    ) -> None:
        cog = cog_of(interaction.client, BibliothequeCog)
        await cog.add_document(interaction, atelier, titre, lien, fichier)

    cmd: app_commands.Command[Any, Any, None] = app_commands.Command(
        name=p_("command-name", "documents"),
        description=p_("command-description", "Joindre un document ou un lien à un atelier"),
        callback=documents,
    )

    @cmd.autocomplete("atelier")
    async def _atelier(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await atelier_choices(interaction, current, upcoming_only=False)

    return cmd
