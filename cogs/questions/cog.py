"""Between the ateliers on Discord: /ressource, /question poser and /question resolue, /faq,
and the periodic job (``followup.py``) that bumps unanswered questions, nudges the « peut-être »
and follows an atelier up after its last séance. The library's commands are in ``library.py``.

Discord cannot make a command group invocable: COMMANDS.md's ``/question`` is ``/question
poser`` (« ask »), beside ``/question resolue``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import chantier_choices
from bot.command_text import command, p_
from bot.interactions import (
    commit_then_defer,
    is_staff,
    locale_of,
    reply,
    tr_of,
)
from bot.ports import ConsentPrompt
from bot.threads import MESSAGE_MAX
from cogs.membres.service import ConsentRequired
from cogs.questions.delivery import TAG_OUVERTE, TAG_RESOLUE, QuestionsDelivery, forum_tag
from cogs.questions.followup import Followups
from cogs.questions.views import QUESTIONS_COG, ContinuerButton, Pager, QuestionModal

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

TICK_JOB = "questions:tick"
TICK_SECONDS = 300.0  # bumps are due after hours, nudges days ahead: every 5 minutes is plenty
#: How long /question poser waits for its post before answering (the outbox posts it right
#: after the commit; a slow or failing Discord only delays it).
POSTED_WAIT = 3.0


class QuestionsCog(commands.Cog, name=QUESTIONS_COG):
    question = app_commands.Group(
        name=p_("command-name", "question"),
        description=p_("command-description", "Les questions aux collègues d'un chantier"),
        guild_only=True,
    )

    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.service = bot.services.questions
        self.followups = Followups(bot)
        self.delivery = QuestionsDelivery(bot)
        self._lock = asyncio.Lock()

    async def cog_load(self) -> None:
        self.delivery.register()
        self.bot.add_dynamic_items(ContinuerButton)
        self.bot.scheduler.every(TICK_JOB, TICK_SECONDS, self.tick)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ContinuerButton)
        self.bot.scheduler.cancel(TICK_JOB)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self.bot.tasks.spawn(self.tick(), name=TICK_JOB)

    async def tick(self) -> None:
        """Bumps, nudges, follow-ups and poll counts that are due (every few minutes, and at
        start-up); each is claimed in the database with its outbox row in one transaction, so
        several processes send it once, and a crash loses none."""
        async with self._lock:
            await self.followups.run()

    # --- /ressource ----------------------------------------------------------------------------

    @app_commands.command(
        name=p_("command-name", "ressource"),
        description=p_(
            "command-description", "Devenir ou ne plus être personne-ressource d'un chantier"
        ),
    )
    @app_commands.describe(
        chantier=p_("option-description", "Le chantier"),
        participer=p_("option-description", "Accepter d'être mentionné·e sur ses questions"),
    )
    @app_commands.guild_only()
    async def ressource(
        self, interaction: discord.Interaction, chantier: str, participer: bool
    ) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id or 0
        try:
            result = await commit_then_defer(
                interaction,
                self.service.set_ressource(guild_id, interaction.user.id, chantier, participer),
            )
        except ConsentRequired:
            lead = tr._(
                "Les questions vous sont proposées selon l'expertise de votre profil : il faut "
                "d'abord votre consentement, puis quelques mots-clés d'expertise."
            )
            await self.bot.ports.get(ConsentPrompt).ask_consent(interaction, lead)
            return
        if not result.participe:
            text = tr._(
                "Vous n'êtes plus personne-ressource du chantier « {nom} ».",
                nom=result.chantier_nom,
            )
        else:
            text = tr._(
                "Vous êtes personne-ressource du chantier « {nom} » : les questions qui "
                "touchent votre expertise pourront vous mentionner, {n} fois par semaine au "
                "plus. Pour arrêter : {commande}.",
                nom=result.chantier_nom,
                n=self.bot.settings.questions.weekly_cap,
                commande=command(tr, "ressource"),
            )
            if result.expertise:
                text += "\n" + tr._("Votre expertise : {mots}", mots=", ".join(result.expertise))
            else:
                text += "\n" + tr._(
                    "Votre profil n'indique aucune expertise : ajoutez-en avec {commande}, sans "
                    "quoi aucune question ne vous sera proposée.",
                    commande=command(tr, "profil modifier"),
                )
        await reply(interaction, text)

    @ressource.autocomplete("chantier")
    async def _ressource_chantier(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await chantier_choices(interaction, current)

    # --- /question poser and /question resolue ------------------------------------------------

    @question.command(
        name=p_("command-name", "poser"),
        description=p_(
            "command-description", "Poser une question aux personnes-ressources d'un chantier"
        ),
    )
    @app_commands.describe(chantier=p_("option-description", "Le chantier de la question"))
    async def poser(self, interaction: discord.Interaction, chantier: str) -> None:
        slug, nom = await self.service.askable_chantier(interaction.guild_id or 0, chantier)
        await interaction.response.send_modal(QuestionModal(tr_of(interaction), slug, nom))

    @poser.autocomplete("chantier")
    async def _poser_chantier(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await chantier_choices(interaction, current)

    async def submit_question(
        self,
        interaction: discord.Interaction,
        slug: str,
        titre: str,
        texte: str,
        contexte: str | None,
    ) -> None:
        """The form was sent: record the question, whom to ask and its post (an outbox row)
        in one transaction, then say where it appeared (or that it will)."""
        tr = tr_of(interaction)
        user = interaction.user
        post = await commit_then_defer(
            interaction,
            self.service.ask(
                interaction.guild_id or 0,
                user.id,
                slug,
                titre,
                texte,
                contexte,
                display_name=getattr(user, "display_name", None),
                locale=locale_of(interaction),
            ),
        )
        thread_id = await self._posted(post.question_id)
        if thread_id is None and not await self.service.still_asked(post.question_id):
            await reply(
                interaction,
                tr._("Discord a refusé la publication : votre question n'a pas été posée."),
            )
            return
        if thread_id is None:
            log.info("question %s: not posted yet; the outbox keeps trying", post.question_id)
            said = tr._(
                "Votre question est enregistrée : Discord ne l'a pas encore publiée dans le "
                "forum du chantier « {nom} ». Elle y paraîtra dès que possible.",
                nom=post.chantier_nom,
            )
        elif post.mention_user_ids:
            said = tr.n_(
                "Votre question est publiée : {fil}. Une personne-ressource est mentionnée.",
                "Votre question est publiée : {fil}. {n} personnes-ressources sont mentionnées.",
                len(post.mention_user_ids),
                fil=f"<#{thread_id}>",
                n=len(post.mention_user_ids),
            )
        else:
            said = tr._(
                "Votre question est publiée : {fil}. Aucune personne-ressource ne correspond "
                "pour l'instant ; les membres du chantier peuvent y répondre.",
                fil=f"<#{thread_id}>",
            )
        await reply(interaction, said)

    async def _posted(self, question_id: int) -> int | None:
        """The question's thread once the outbox posted it, within ``POSTED_WAIT`` seconds of
        the event loop (a pause in Discord's answer, not domain time: tests may hold the
        domain clock still)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(POSTED_WAIT):
                while await self.service.still_asked(question_id):
                    thread_id = await self.service.thread_of(question_id)
                    if thread_id is not None:
                        return thread_id
                    await asyncio.sleep(0.05)
        return await self.service.thread_of(question_id)

    @question.command(
        name=p_("command-name", "resolue"),
        description=p_("command-description", "Marquer comme résolue la question de ce fil"),
    )
    async def resolue(self, interaction: discord.Interaction) -> None:
        tr = tr_of(interaction)
        staff = is_staff(interaction.user, self.bot.settings.discord.staff_role)
        resolved = await commit_then_defer(
            interaction,
            self.service.resolve(
                interaction.guild_id or 0,
                interaction.channel_id or 0,
                interaction.user.id,
                staff=staff,
            ),
        )
        thread = interaction.channel
        if isinstance(thread, discord.Thread) and isinstance(thread.parent, discord.ForumChannel):
            fr = self.bot.i18n.for_locale("fr")
            solved = await forum_tag(thread.parent, TAG_RESOLUE, fr)
            forum = thread.parent
            opened = next((t for t in forum.available_tags if t.name == fr._(TAG_OUVERTE)), None)
            tags = [t for t in thread.applied_tags if opened is None or t.id != opened.id]
            if solved is not None and all(t.id != solved.id for t in tags):
                tags.append(solved)
            try:
                await thread.edit(applied_tags=tags[:5], reason="Partage: question résolue")
            except discord.HTTPException as exc:
                log.warning("question %s: tags not applied: %s", resolved.question_id, exc)
        if resolved.already:
            text = tr._("Cette question était déjà résolue.")
        else:
            text = tr._(
                "Question marquée comme résolue : elle rejoint la FAQ ({commande}).",
                commande=command(tr, "faq"),
            )
        await reply(interaction, text)

    # --- /faq ----------------------------------------------------------------------------------

    @app_commands.command(
        name=p_("command-name", "faq"),
        description=p_("command-description", "Chercher dans les questions résolues"),
    )
    @app_commands.describe(mot_cle=p_("option-description", "Un mot de la question"))
    @app_commands.rename(mot_cle="mot-cle")
    @app_commands.guild_only()
    async def faq(self, interaction: discord.Interaction, mot_cle: str) -> None:
        tr = tr_of(interaction)
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)

        async def render(page: int) -> tuple[str, int, int]:
            found = await self.service.faq(guild.id, mot_cle, page)
            if not found.total:
                return (
                    tr._("Aucune question résolue ne correspond à « {mot} ».", mot=mot_cle[:50]),
                    0,
                    1,
                )
            lines = [
                tr.n_(
                    "Une question résolue pour « {mot} » :",
                    "{n} questions résolues pour « {mot} » (page {page} sur {pages}) :",
                    found.total,
                    n=found.total,
                    mot=mot_cle[:50],
                    page=found.page + 1,
                    pages=found.pages,
                )
            ]
            # Each line reads its thread on Discord (the bot keeps no message): all at once.
            lines += await asyncio.gather(
                *(self.followups.faq_line(guild, item, tr) for item in found.items)
            )
            return "\n\n".join(lines)[:MESSAGE_MAX], found.page, found.pages

        content, page, pages = await render(0)
        view = Pager(tr, render, page, pages) if pages > 1 else None
        await reply(interaction, content, **({"view": view} if view else {}))

    # --- the « Je veux continuer » button -----------------------------------------------------

    async def on_continuer(self, interaction: discord.Interaction, atelier_id: int) -> None:
        await self.followups.join_gathering(interaction, atelier_id)
