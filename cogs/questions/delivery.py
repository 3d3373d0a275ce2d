"""The questions' outbox handlers (STYLE.md rules 7 and 8): the rows the questions' use cases
write in their own transactions, delivered on Discord by the one sender, retried on a transient
failure and taken over after a crash.

* ``question``: the forum post of a question, with its « Ouverte » tag, mentioning exactly the
  personnes-ressources chosen (never anyone else); the thread is recorded on the question. A
  forum post carries no nonce: a row resent after a crash first looks for the post it made.
* ``bump``: the one gentle message in an unanswered question's thread (and one more
  personne-ressource, the only one it pings).
* ``nudge``: the « peut-être » DM two days before a séance; nothing public when DMs are closed.
* ``followup``: after an atelier's last séance, the poll, then the « Je veux continuer »
  button, one row each.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.command_text import command
from bot.delivery import DM_CLOSED_CODE, SendFailed, failure_of, one_attempt
from bot.errors import N_, NotFound
from bot.i18n import Translations, discord_timestamp
from bot.interactions import NO_MENTIONS
from bot.threads import MESSAGE_MAX, mentions, only_users
from cogs.questions.suivi import FOLLOWUP_POLL, POLL_HOURS
from cogs.questions.views import continuer_view
from db.models import OutboxKind
from db.outbox import OutboxItem

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

#: Forum tags of the questions' forums (the server's language: French).
TAG_OUVERTE = N_("Ouverte")
TAG_RESOLUE = N_("Résolue")
POLL_ANSWERS = (N_("Excellent"), N_("Bien"), N_("Moyen"), N_("Décevant"))
#: How far back a resent question's row looks for the post it may have made before a crash.
POSTED_SLACK = timedelta(minutes=1)


class QuestionsDelivery:
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.questions = bot.services.questions
        self.suivi = bot.services.suivi

    def register(self) -> None:
        outbox = self.bot.outbox
        outbox.register(OutboxKind.QUESTION, self.question)
        outbox.register(OutboxKind.BUMP, self.bump)
        outbox.register(OutboxKind.NUDGE, self.nudge)
        outbox.register(OutboxKind.FOLLOWUP, self.followup)

    @property
    def fr(self) -> Translations:
        return self.bot.i18n.for_locale("fr")

    # --- the question's post -------------------------------------------------------------------

    async def question(self, item: OutboxItem) -> int | None:
        p = item.payload
        question_id = int(p["question_id"])
        guild_id = item.guild_id or 0
        if not await self.questions.still_asked(question_id):
            log.info("question %s: erased or dropped before its post", question_id)
            return None
        posted = await self.questions.thread_of(question_id)
        if posted is not None:
            return posted
        forum = await self._forum(guild_id, int(p["forum_id"]))
        if forum is None:
            await self.questions.discard(question_id)
            raise SendFailed(f"forum {p['forum_id']} not found", permanent=True)
        titre = str(p["titre"]).strip()[:100]
        thread = await self._made_before(forum, titre, item.created_at)
        if thread is None:
            tr = self.bot.i18n.for_locale(str(p.get("locale") or "fr"))
            asker, users = await self.questions.who_of(question_id)
            tag = await forum_tag(forum, TAG_OUVERTE, self.fr)
            try:
                created = await forum.create_thread(
                    name=titre,
                    content=question_text(tr, p, asker, users),
                    applied_tags=[tag] if tag else [],
                    allowed_mentions=only_users(users),
                    reason=f"Partage: question {question_id}",
                )
            except discord.HTTPException as exc:
                if failure_of(exc).permanent:
                    await self.questions.discard(question_id)
                raise
            thread = created.thread
            log.info(
                "guild %s: question %s posted as thread %s, mentioning %s",
                guild_id,
                question_id,
                thread.id,
                users,
            )
        try:
            await self.questions.set_thread(question_id, thread.id)
        except NotFound:  # erased while it was being posted: the post stays, unrecorded
            log.info("question %s: erased while posted as thread %s", question_id, thread.id)
        return thread.id

    async def _forum(self, guild_id: int, forum_id: int) -> discord.ForumChannel | None:
        guild = self.bot.get_guild(guild_id)
        forum = guild.get_channel(forum_id) if guild is not None else None
        if forum is None:
            try:
                forum = await self.bot.fetch_channel(forum_id)
            except discord.NotFound:
                return None
        return forum if isinstance(forum, discord.ForumChannel) else None

    async def _made_before(
        self, forum: discord.ForumChannel, titre: str, since: datetime
    ) -> discord.Thread | None:
        """The post this row made before a crash or a timeout (the bot's, same title, made
        since the row was written, no question recorded on it), so it is not posted twice."""
        me = self.bot.user.id if self.bot.user else 0
        for thread in forum.threads:
            created = thread.created_at
            if (
                thread.owner_id == me
                and thread.name == titre
                and created is not None
                and created >= since - POSTED_SLACK
                and not await self.questions.thread_recorded(thread.id)
            ):
                return thread
        return None

    # --- the bump ------------------------------------------------------------------------------

    async def bump(self, item: OutboxItem) -> int | None:
        p = item.payload
        tr = self.bot.i18n.for_locale(str(p.get("locale") or "fr"))
        text = tr._(
            "Cette question attend encore une réponse. Une piste, une expérience, un document : "
            "tout aide."
        )
        users = [int(p["extra_user_id"])] if p.get("extra_user_id") else []
        if users:
            text = (
                mentions(users)
                + "\n"
                + text
                + "\n"
                + tr._("Votre expertise pourrait être utile ici : pouvez-vous jeter un œil ?")
            )
        thread = self.bot.get_partial_messageable(int(p["thread_id"]), guild_id=item.guild_id)
        message = await one_attempt(
            thread.send(text[:MESSAGE_MAX], allowed_mentions=only_users(users), nonce=item.nonce)
        )
        log.info(
            "guild %s: question %s bumped in thread %s",
            item.guild_id,
            p["question_id"],
            p["thread_id"],
        )
        return message.id

    # --- the « peut-être » nudge ---------------------------------------------------------------

    async def nudge(self, item: OutboxItem) -> int | None:
        p = item.payload
        tr = self.bot.i18n.for_locale(str(p.get("locale") or "fr"))
        starts_at = datetime.fromisoformat(str(p["starts_at"]))
        text = tr._(
            "L'atelier « {titre} » a lieu {quand} ({dans}). Vous avez répondu « peut-être » : "
            "si vous venez, confirmez avec {commande} pour qu'on vous garde une place. "
            "Sinon, rien à faire.",
            titre=p["titre"],
            quand=discord_timestamp(starts_at, "F"),
            dans=discord_timestamp(starts_at, "R"),
            commande=command(tr, "rsvp"),
        )
        user_id = int(p["user_id"])
        try:
            channel = await one_attempt(self.bot.create_dm(discord.Object(user_id)))
            message = await one_attempt(
                channel.send(text[:MESSAGE_MAX], allowed_mentions=NO_MENTIONS, nonce=item.nonce)
            )
        except discord.Forbidden as exc:
            if exc.code == DM_CLOSED_CODE:  # nothing public about who did not answer
                log.info("séance %s: user %s takes no DMs; no nudge", p["seance_id"], user_id)
                return None
            raise
        log.info(
            "guild %s: séance %s: membre %s nudged", item.guild_id, p["seance_id"], p["membre_id"]
        )
        return message.id

    # --- after the last séance -----------------------------------------------------------------

    async def followup(self, item: OutboxItem) -> int | None:
        p = item.payload
        atelier_id, thread_id = int(p["atelier_id"]), int(p["thread_id"])
        tr = self.fr
        thread = self.bot.get_partial_messageable(thread_id, guild_id=item.guild_id)
        if p.get("part") == FOLLOWUP_POLL:
            poll = discord.Poll(
                question=tr._("Comment avez-vous trouvé l'atelier ?"),
                duration=timedelta(hours=POLL_HOURS),
            )
            for answer in POLL_ANSWERS:
                poll.add_answer(text=tr._(answer))
            message = await one_attempt(
                thread.send(poll=poll, allowed_mentions=NO_MENTIONS, nonce=item.nonce)
            )
            await self.suivi.set_poll(atelier_id, thread_id, message.id)
            log.info("atelier %s: follow-up poll posted in thread %s", atelier_id, thread_id)
            return message.id
        text = tr._(
            "Merci d'avoir participé à « {titre} » ! Envie de poursuivre la réflexion ? "
            "Cliquez sur « Je veux continuer » : un fil privé réunira celles et ceux qui le "
            "souhaitent avec l'équipe qui a organisé l'atelier.",
            titre=p["titre"],
        )
        message = await one_attempt(
            thread.send(
                text,
                view=continuer_view(tr, atelier_id),
                allowed_mentions=NO_MENTIONS,
                nonce=item.nonce,
            )
        )
        log.info("atelier %s: « Je veux continuer » posted in thread %s", atelier_id, thread_id)
        return message.id


def question_text(
    tr: Translations, p: dict[str, object], asker: int | None, users: list[int]
) -> str:
    """The question's first message: its text, its context, who asks (named, not pinged),
    whom it asks."""
    lines = [str(p["texte"]).strip()]
    contexte = str(p.get("contexte") or "").strip()
    if contexte:
        lines.append(tr._("Contexte : {contexte}", contexte=contexte))
    if asker is not None:
        lines.append(tr._("Question de {membre}", membre=f"<@{asker}>"))
    if users:
        lines.append(
            tr._(
                "{personnes} : votre expertise rejoint cette question. Pouvez-vous aider ?",
                personnes=mentions(users),
            )
        )
    return "\n\n".join(lines)[:MESSAGE_MAX]


async def forum_tag(
    forum: discord.ForumChannel, name_id: str, fr: Translations
) -> discord.ForumTag | None:
    """The forum's tag of this name, created when missing (None if Discord refuses)."""
    name = fr._(name_id)[:20]
    tag = next((t for t in forum.available_tags if t.name == name), None)
    if tag is not None:
        return tag
    try:
        edited = await forum.edit(
            available_tags=[*forum.available_tags, discord.ForumTag(name=name)],
            reason="Partage: étiquettes des questions",
        )
    except discord.HTTPException as exc:
        log.warning("forum %s: tag %r not created: %s", forum.id, name, exc)
        return None
    return next((t for t in edited.available_tags if t.name == name), None)
