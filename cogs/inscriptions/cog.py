"""Answers on Discord: the announcement's buttons, /rsvp and /mes-inscriptions.

**Saved, then told.** A click is first saved (the ``intake`` table), then acknowledged (an
ephemeral "thinking…"), then applied, then answered by editing that acknowledgement.
A member is never told anything about an answer that is not committed; an acknowledged answer
is never lost: if the process dies after the acknowledgement, the next start applies the saved
click (in the order clicks came) and edits the acknowledgement, while Discord keeps the
interaction's token (15 minutes). Editing is idempotent, so an answer told just before a crash
and told again after it shows once.

Three rules keep a burst of clicks in order (measured with ``benchmarks/rsvp_burst.py``):
acknowledgements go first (answers wait while any click is still unacknowledged); at most
``ACKS_IN_FLIGHT`` acknowledgements are in flight; answers to one atelier queue in the order of
the clicks.

Every step is a group commit (``bot.groupcommit``): clicks arriving together are saved in one
transaction, applied in one transaction per atelier (``batch.py``: each member still gets their
own place or rank), and marked answered in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import REPONSES, atelier_choices, parse_atelier_id, parse_seance_id, seance_choices
from bot.command_text import p_
from bot.errors import UserError
from bot.groupcommit import GroupCommit
from bot.i18n import Translations
from bot.interactions import NO_MENTIONS, edit_original, locale_of, reply, tr_of
from bot.ports import calendar_file
from cogs.ateliers.text import (
    compact_line,
    jump_url,
    seance_answer_text,
    seance_when,
    short_status,
    status_text,
)
from cogs.inscriptions.service import (
    AnswerQueues,
    AnswerResult,
    Click,
    SavedClick,
    SeriesAnswers,
)
from cogs.inscriptions.views import AnswerButton, LinkButton, SerieButton
from db.models import EtatInscription, Reponse

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

#: Acknowledgements sent at once. Past a few dozen, more in flight only share the CPU and the
#: connections: all of a burst's acknowledgements would then finish late together, while
#: a bounded number finishes in arrival order over a handful of reused connections.
ACKS_IN_FLIGHT = 16
#: Clicks saved in one transaction, and marked answered in one.
INTAKE_BATCH = 200
#: An interaction's token lives 15 minutes; a saved click older than this is not answered.
TOKEN_LIFE = timedelta(minutes=14)

#: Tells the member the outcome, with the atelier's ``.ics`` when they now hold a place.
Tell = Callable[[str, discord.File | None], Awaitable[None]]


class InscriptionsCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.service = bot.services.inscriptions
        self.intake: GroupCommit[Click, int] = GroupCommit(
            self.service.receive, batch_max=INTAKE_BATCH, name="inscriptions:intake"
        )
        self._told: GroupCommit[tuple[int, bool], None] = GroupCommit(
            self.service.answered_many, batch_max=INTAKE_BATCH, name="inscriptions:answered"
        )
        #: Answers to one atelier wait until every click received so far is acknowledged
        #: (acknowledgements have a deadline), then go in a batch per transaction.
        self.queues = AnswerQueues(self.service, before=self._wait_for_acks)
        self.series = SeriesAnswers(self.service)
        self._ack_slots = asyncio.Semaphore(ACKS_IN_FLIGHT)
        self._unacked = 0
        self._all_acked = asyncio.Event()
        self._all_acked.set()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AnswerButton, LinkButton, SerieButton)
        self.bot.tasks.spawn(self.recover(), name="inscriptions:recover")

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AnswerButton, LinkButton, SerieButton)

    # --- an answer: saved, acknowledged, applied, told -----------------------------------------

    async def answer(
        self,
        interaction: discord.Interaction,
        atelier_id: int,
        reponse: Reponse,
        seance_id: int | None = None,
    ) -> None:
        click = Click(
            interaction_id=interaction.id,
            application_id=interaction.application_id,
            token=interaction.token,
            guild_id=interaction.guild_id or 0,
            user_id=interaction.user.id,
            atelier_id=atelier_id,
            seance_id=seance_id,
            reponse=reponse,
            display_name=interaction.user.display_name,
            locale=locale_of(interaction),
        )
        intake_id = await self._save_then_acknowledge(interaction, click)
        if intake_id is None:
            return

        async def tell(text: str, file: discord.File | None) -> None:
            if file is None:
                await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.edit_original_response(
                    content=text, attachments=[file], allowed_mentions=NO_MENTIONS
                )

        await self._apply(click, intake_id, tell)

    async def _save_then_acknowledge(
        self, interaction: discord.Interaction, click: Click
    ) -> int | None:
        """Save the click, then acknowledge it: its intake id, or None when Discord no longer
        takes an acknowledgement (the saved click is then marked expired)."""
        self._unacked += 1
        self._all_acked.clear()
        try:
            intake_id = await self.intake.submit(click)
            acknowledged = await self._acknowledge(interaction)
        finally:
            self._unacked -= 1
            if self._unacked == 0:
                self._all_acked.set()
        if not acknowledged:
            await self._told.submit((intake_id, True))
            return None
        return intake_id

    async def answer_series(self, interaction: discord.Interaction, atelier_id: int) -> None:
        """« Toute la série »: « oui » to this atelier and the later ones of its series, saved
        as one click (the list of ateliers fixed now) before it is acknowledged, then applied
        atelier by atelier (``SeriesAnswers``: a stop midway resumes at the next start), then
        told in one message, a line per atelier."""
        ids = await self.bot.services.ateliers.series_rest(interaction.guild_id or 0, atelier_id)
        click = Click(
            interaction_id=interaction.id,
            application_id=interaction.application_id,
            token=interaction.token,
            guild_id=interaction.guild_id or 0,
            user_id=interaction.user.id,
            atelier_id=atelier_id,
            seance_id=None,
            reponse=Reponse.OUI,
            display_name=interaction.user.display_name,
            locale=locale_of(interaction),
            serie=tuple(ids),
        )
        intake_id = await self._save_then_acknowledge(interaction, click)
        if intake_id is None:
            return

        async def tell(text: str) -> None:
            await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)

        await self._apply_series(click, intake_id, tell)

    async def _apply_series(
        self, click: Click, intake_id: int, tell: Callable[[str], Awaitable[None]]
    ) -> None:
        await self._wait_for_acks()
        outcomes = await self.series.apply(intake_id)
        log.info(
            "atelier %s: user %s answered oui to the series (%d ateliers)",
            click.atelier_id,
            click.user_id,
            len(outcomes),
        )
        tr = self.bot.i18n.for_locale(click.locale)
        lines = [tr._("Votre réponse « oui » à toute la série :")]
        for atelier_id, outcome in outcomes:
            info = await self.bot.services.ateliers.get(atelier_id)
            if "error" in outcome:
                values = dict(outcome.get("values") or {})  # type: ignore[call-overload]
                status = tr.user_error(UserError(str(outcome["error"]), **values))
            else:
                etat, position = outcome.get("etat"), outcome.get("position")
                status = short_status(
                    tr,
                    EtatInscription(str(etat)) if etat else None,
                    int(str(position)) if position is not None else None,
                )
            when = seance_when(tr, info.seances[0]) if info.seances else info.titre
            lines.append(tr._("- {date} : {statut}", date=when, statut=status))
        await tell("\n".join(lines))
        await self._told.submit((intake_id, False))

    async def _wait_for_acks(self) -> None:
        await self._all_acked.wait()

    async def _acknowledge(self, interaction: discord.Interaction) -> bool:
        """Defer (an ephemeral "thinking…"). False when Discord already dropped the interaction
        (acknowledged too late, under overload): its member saw "interaction failed", so the
        saved click is closed unapplied and the load is shed."""
        try:
            async with self._ack_slots:
                await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.NotFound:
            log.warning(
                "interaction %s by user %s: acknowledged too late, dropped",
                interaction.id,
                interaction.user.id,
            )
            return False
        return True

    async def _apply(self, click: Click, intake_id: int, tell: Tell) -> None:
        """Apply a saved click (with the others queued for its atelier), then tell the member."""
        tr = self.bot.i18n.for_locale(click.locale)
        result = await self.queues.submit(click.atelier_id, click.as_answer(intake_id))
        text = tr.user_error(result) if isinstance(result, UserError) else self._text(tr, result)
        await tell(text, await self._calendar_file(click, result))
        await self._told.submit((intake_id, False))

    async def _calendar_file(
        self, click: Click, result: AnswerResult | UserError
    ) -> discord.File | None:
        """« Ajouter à mon calendrier »: the atelier's ``.ics``, with its meeting link, when
        this answer gave the member a place (not for one séance, not on the waiting list)."""
        if (
            isinstance(result, UserError)
            or result.seance_id is not None
            or result.etat != EtatInscription.INSCRIT
        ):
            return None
        return await calendar_file(
            self.bot.ports,
            click.guild_id,
            click.atelier_id,
            click.locale,
            user_id=click.user_id,
            version=result.atelier.version,
        )

    def _text(self, tr: Translations, result: AnswerResult) -> str:
        info = result.atelier
        if result.seance_id is not None and result.seance_reponse is not None:
            seance = next(s for s in info.seances if s.id == result.seance_id)
            return seance_answer_text(tr, info, seance, result.seance_reponse)
        return status_text(tr, info, result.etat, result.position)

    async def recover(self) -> None:
        """At start-up: saved clicks not yet answered (the process stopped between the
        acknowledgement and the answer) are applied in order, then answered."""
        await self.bot.wait_until_ready()
        since = self.bot.clock.now() - TOKEN_LIFE
        for saved in await self.service.unfinished(since):
            try:
                await self._resume(saved)
            except Exception:
                log.exception("intake %s: not recovered", saved.intake_id)

    async def _resume(self, saved: SavedClick) -> None:
        click = saved.click

        async def tell(text: str, file: discord.File | None = None) -> None:
            try:
                await edit_original(self.bot, click.application_id, click.token, text)
            except discord.NotFound:  # the token died meanwhile
                log.info("intake %s: interaction %s expired", saved.intake_id, click.interaction_id)

        if click.serie:
            log.info("intake %s: finishing a series answer saved before a stop", saved.intake_id)
            await self._apply_series(click, saved.intake_id, tell)
            return
        if not saved.applied:
            log.info("intake %s: applying a click saved before a stop", saved.intake_id)
            await self._apply(click, saved.intake_id, tell)
            return
        tr = self.bot.i18n.for_locale(click.locale)
        log.info("intake %s: telling an answer applied before a stop", saved.intake_id)
        await tell(await self._as_applied(tr, click, saved.result), None)
        await self._told.submit((saved.intake_id, False))

    async def _as_applied(self, tr: Translations, click: Click, result: dict[str, object]) -> str:
        """The answer as it was applied before the stop."""
        if "error" in result:
            values = dict(result.get("values") or {})  # type: ignore[call-overload]
            return tr.user_error(UserError(str(result["error"]), **values))
        info = await self.bot.services.ateliers.get(click.atelier_id)
        if click.seance_id is not None:
            seance = next((s for s in info.seances if s.id == click.seance_id), None)
            if seance is not None:
                return seance_answer_text(tr, info, seance, click.reponse)
        etat = result.get("etat")
        position = result.get("position")
        return status_text(
            tr,
            info,
            EtatInscription(str(etat)) if etat else None,
            int(str(position)) if position is not None else None,
        )

    # --- the meeting link ----------------------------------------------------------------------

    async def show_link(self, interaction: discord.Interaction, atelier_id: int) -> None:
        """The meeting link, to registered members, and to those who hold a place at one
        séance (« oui » to that séance alone) until it is over."""
        tr = tr_of(interaction)
        status = await self.service.member_status(
            interaction.guild_id or 0, atelier_id, interaction.user.id
        )
        info = status.atelier
        if info.cancelled:
            text = tr._("L'atelier « {titre} » est annulé.", titre=info.titre)
        elif status.seances_oui and status.etat != EtatInscription.INSCRIT and info.lien:
            text = tr._("Lien de la réunion : {lien}", lien=info.lien)
        elif status.etat == EtatInscription.ATTENTE:
            text = tr._(
                "Vous êtes n° {position} sur la liste d'attente : le lien vous sera donné "
                "quand une place vous reviendra.",
                position=status.position,
            )
        elif status.etat != EtatInscription.INSCRIT:
            text = tr._(
                "Le lien de la réunion est réservé aux personnes inscrites : répondez « Oui » "
                "pour réserver votre place."
            )
        elif not info.lien:
            text = tr._("Cet atelier n'a pas de lien de réunion.")
        else:
            text = tr._("Lien de la réunion : {lien}", lien=info.lien)
        log.info(
            "atelier %s: user %s asked for the link (%s)",
            atelier_id,
            interaction.user.id,
            status.etat,
        )
        await reply(interaction, text)

    # --- commands ------------------------------------------------------------------------------

    @app_commands.command(
        name=p_("command-name", "rsvp"),
        description=p_("command-description", "Répondre oui, peut-être ou non à un atelier"),
    )
    @app_commands.describe(
        atelier=p_("option-description", "L'atelier"),
        reponse=p_("option-description", "Votre réponse"),
        seance=p_(
            "option-description", "Une seule séance de l'atelier (sinon, toutes ses séances)"
        ),
    )
    @app_commands.choices(reponse=REPONSES)
    @app_commands.guild_only()
    async def rsvp(
        self,
        interaction: discord.Interaction,
        atelier: str,
        reponse: str,
        seance: str | None = None,
    ) -> None:
        atelier_id = parse_atelier_id(atelier)
        seance_id = parse_seance_id(seance) if seance is not None else None
        await self.answer(interaction, atelier_id, Reponse(reponse), seance_id)

    @rsvp.autocomplete("atelier")
    async def _rsvp_atelier(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await atelier_choices(interaction, current)

    @rsvp.autocomplete("seance")
    async def _rsvp_seance(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await seance_choices(interaction, current)

    @app_commands.command(
        name=p_("command-name", "mes-inscriptions"),
        description=p_(
            "command-description", "Vos prochains ateliers et vos places en liste d'attente"
        ),
    )
    @app_commands.guild_only()
    async def mes_inscriptions(self, interaction: discord.Interaction) -> None:
        tr = tr_of(interaction)
        items = await self.service.of_member(interaction.guild_id or 0, interaction.user.id)
        if not items:
            await reply(
                interaction,
                tr._("Vous n'avez aucun atelier à venir. Voyez /ateliers pour vous inscrire."),
            )
            return
        embed = discord.Embed(title=tr._("Vos inscriptions"))
        for item in items[:25]:
            info = item.atelier
            lines = [short_status(tr, item.etat, item.position)]
            for s in info.seances:
                line = compact_line(tr, s)
                exception = item.seance_reponses.get(s.id)
                if exception == Reponse.NON:
                    line += " — " + tr._("vous n'y serez pas")
                elif exception == Reponse.PEUT_ETRE:
                    line += " — " + tr._("peut-être")
                elif exception == Reponse.OUI and item.etat != EtatInscription.INSCRIT:
                    line += " — " + tr._("vous y serez")
                lines.append(line)
            if url := jump_url(info):
                lines.append(url)
            name = tr._("{titre} (n° {id})", titre=info.titre, id=info.id)
            embed.add_field(name=name[:256], value="\n".join(lines)[:1024], inline=False)
        await reply(interaction, embed=embed)
