"""Questions between the ateliers: personnes-ressources of a chantier, a question's routing to
up to three of them, its bump, its resolution, and the FAQ of solved questions. No Discord here.

Routing (``choose``): personnes-ressources of the question's chantier whose profile expertise
shares a French stem with the question (accents and case ignored), never the asker, never one
already mentioned ``weekly_cap`` times in the last seven days; colleagues of other
municipalities first, then the least recently asked, then the best match.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import QuestionsConfig
from bot.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from bot.shown_text import check_shown
from cogs.membres.queries import profil_of
from cogs.membres.service import CONSENT_FIRST, ConsentRequired
from cogs.questions.mots import expertise_stems, stems
from cogs.questions.relance import QUESTION_TOPIC, BumpSteps, question_topic
from db import repositories as repo
from db.models import (
    Chantier,
    EtatQuestion,
    Membre,
    MembreDepart,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    PersonneRessource,
    Profil,
    Question,
    QuestionMention,
    Relance,
)
from db.outbox import enqueue

log = logging.getLogger(__name__)

MENTIONS_MAX = 3
WEEK = timedelta(days=7)
TITLE_MAX = 100  # a forum post's name
TEXT_MAX = 1500  # leaves room for the context and the mentions in one message
CONTEXT_MAX = 300
PAGE_SIZE = 5
#: A question still without its post this long after it was asked, and whose outbox row is
#: no longer waiting (it failed for good or expired), was never posted.
UNPOSTED_AFTER = timedelta(minutes=15)
#: How long the outbox tries to post a question (Discord down longer: it is dropped).
POST_TTL = timedelta(hours=1)


NOT_A_QUESTION = N_(
    "Cette commande s'utilise dans le fil d'une question posée avec /question poser."
)


# --- data returned ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ressource:
    membre_id: int
    user_id: int
    municipalite_cle: str | None
    last_asked: datetime | None
    score: int


@dataclass(frozen=True)
class RessourceResult:
    participe: bool
    chantier_nom: str
    expertise: tuple[str, ...]


@dataclass(frozen=True)
class QuestionPost:
    """What to post: the question's forum, and whom to mention (Discord ids)."""

    question_id: int
    guild_id: int
    chantier_id: int
    chantier_nom: str
    forum_id: int
    asker_user_id: int
    mention_user_ids: tuple[int, ...]


@dataclass(frozen=True)
class Resolved:
    question_id: int
    thread_id: int
    forum_id: int | None
    already: bool


@dataclass(frozen=True)
class FaqItem:
    question_id: int
    thread_id: int
    chantier_id: int | None
    resolved_at: datetime | None
    asker_user_id: int | None = None


@dataclass(frozen=True)
class FaqPage:
    items: tuple[FaqItem, ...]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


# --- the service --------------------------------------------------------------------------------


class QuestionService(BumpSteps):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        config: QuestionsConfig | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.config = config or QuestionsConfig()

    # -- personnes-ressources --

    async def set_ressource(
        self, guild_id: int, user_id: int, slug: str, participer: bool
    ) -> RessourceResult:
        """Opt in (needs a profile, hence consent: the expertise comes from it) or out."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            chantier = await _chantier(session, guild_id, slug)
            membre = await repo.find_membre(session, guild_id, user_id)
            profil = await profil_of(session, membre.id) if membre is not None else None
            if not participer:
                if membre is not None:
                    await session.execute(
                        delete(PersonneRessource).where(
                            PersonneRessource.membre_id == membre.id,
                            PersonneRessource.chantier_id == chantier.id,
                        )
                    )
                    log.info(
                        "guild %s: membre %s no longer a personne-ressource of chantier %s",
                        guild_id,
                        membre.id,
                        chantier.id,
                    )
                return RessourceResult(False, chantier.nom, ())
            if membre is None or profil is None:
                raise ConsentRequired(CONSENT_FIRST)
            found = (
                await session.execute(
                    select(PersonneRessource.id).where(
                        PersonneRessource.membre_id == membre.id,
                        PersonneRessource.chantier_id == chantier.id,
                    )
                )
            ).scalar_one_or_none()
            if found is None:
                session.add(
                    PersonneRessource(
                        guild_id=guild_id,
                        membre_id=membre.id,
                        chantier_id=chantier.id,
                        consent_at=now,
                    )
                )
                log.info(
                    "guild %s: membre %s is a personne-ressource of chantier %s",
                    guild_id,
                    membre.id,
                    chantier.id,
                )
            return RessourceResult(True, chantier.nom, tuple(profil.expertise or ()))

    # -- asking --

    async def askable_chantier(self, guild_id: int, slug: str) -> tuple[str, str]:
        """The slug and name of a chantier one may ask a question on (``/question poser``
        checks before its form opens; ``ask`` checks again)."""
        async with self.sessions() as session:
            chantier = await _askable(session, guild_id, slug)
            return chantier.slug, chantier.nom

    async def ask(
        self,
        guild_id: int,
        user_id: int,
        slug: str,
        titre: str,
        texte: str,
        contexte: str | None = None,
        *,
        display_name: str | None = None,
        locale: str = "fr",
    ) -> QuestionPost:
        """Record a question, choose whom to mention, and write its post to the outbox in the
        same transaction (the delivery creates the forum post, then calls ``set_thread``; or
        ``discard`` if Discord refuses it for good)."""
        titre, texte, contexte = titre.strip(), texte.strip(), (contexte or "").strip()
        if not titre or not texte:
            raise InvalidInput(N_("Il faut un titre et une question."))
        if len(titre) > TITLE_MAX or len(texte) > TEXT_MAX or len(contexte) > CONTEXT_MAX:
            raise InvalidInput(
                N_("Le titre a au plus {titre} caractères et la question au plus {texte}."),
                titre=TITLE_MAX,
                texte=TEXT_MAX,
            )
        check_shown(titre, texte, contexte)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            chantier = await _askable(session, guild_id, slug)
            asker = await repo.upsert_membre(
                session, guild_id, user_id, now, display_name=display_name, locale=locale
            )
            words = stems(titre, texte)
            question = Question(
                guild_id=guild_id,
                chantier_id=chantier.id,
                asker_membre_id=asker.id,
                etat=EtatQuestion.OUVERTE,
                mots_cles=words,
                locale=locale,
                asked_at=now,
            )
            session.add(question)
            await session.flush()
            chosen = await self.choose(session, chantier.id, asker.id, set(words), MENTIONS_MAX)
            for ressource in chosen:
                session.add(
                    QuestionMention(question_id=question.id, membre_id=ressource.membre_id, at=now)
                )
            # Whom it mentions is read at delivery (an erasure meanwhile takes them out).
            enqueue(
                session,
                OutboxKind.QUESTION,
                {
                    "question_id": question.id,
                    "forum_id": chantier.forum_id,
                    "titre": titre,
                    "texte": texte,
                    "contexte": contexte,
                    "locale": locale,
                },
                now=now,
                guild_id=guild_id,
                topic=question_topic(question.id),
                user_id=user_id,  # the asker's words: an erasure removes a row not yet sent
                ttl=POST_TTL,
            )
            log.info(
                "guild %s: question %s in chantier %s, %d personnes-ressources mentioned",
                guild_id,
                question.id,
                chantier.id,
                len(chosen),
            )
            return QuestionPost(
                question_id=question.id,
                guild_id=guild_id,
                chantier_id=chantier.id,
                chantier_nom=chantier.nom,
                forum_id=chantier.forum_id,
                asker_user_id=user_id,
                mention_user_ids=tuple(r.user_id for r in chosen),
            )

    async def choose(
        self,
        session: AsyncSession,
        chantier_id: int,
        asker_membre_id: int | None,
        question_stems: set[str],
        n: int,
        *,
        exclude: set[int] | None = None,
    ) -> list[Ressource]:
        """Up to ``n`` personnes-ressources for a question (see the module's docstring)."""
        now = self.clock.now()
        exclude = set(exclude or ())
        if asker_membre_id is not None:
            exclude.add(asker_membre_id)
        asker_town = None
        if asker_membre_id is not None:
            asker_profil = await profil_of(session, asker_membre_id)
            asker_town = asker_profil.municipalite_cle if asker_profil else None
        recent = (
            select(QuestionMention.membre_id, func.count().label("n"))
            .where(QuestionMention.at > now - WEEK)
            .group_by(QuestionMention.membre_id)
            .subquery()
        )
        last = (
            select(QuestionMention.membre_id, func.max(QuestionMention.at).label("last"))
            .group_by(QuestionMention.membre_id)
            .subquery()
        )
        rows = await session.execute(
            select(
                Membre.id,
                Membre.user_id,
                Profil.municipalite_cle,
                Profil.expertise,
                func.coalesce(recent.c.n, 0),
                last.c.last,
            )
            .join(PersonneRessource, PersonneRessource.membre_id == Membre.id)
            .join(Profil, Profil.membre_id == Membre.id)
            .outerjoin(recent, recent.c.membre_id == Membre.id)
            .outerjoin(last, last.c.membre_id == Membre.id)
            .where(
                PersonneRessource.chantier_id == chantier_id,
                Membre.user_id.is_not(None),
                ~select(MembreDepart.id).where(MembreDepart.membre_id == Membre.id).exists(),
            )
        )
        candidates = []
        for membre_id, user_id, town, expertise, count, last_at in rows.tuples():
            if membre_id in exclude or count >= self.config.weekly_cap:
                continue
            score = len(question_stems & expertise_stems(expertise or ()))
            if score == 0:
                continue
            candidates.append(Ressource(membre_id, user_id, town, last_at, score))
        epoch = datetime.min.replace(tzinfo=now.tzinfo)

        def order(r: Ressource) -> tuple[bool, datetime, int, int]:
            same_town = asker_town is not None and r.municipalite_cle == asker_town
            return (same_town, r.last_asked or epoch, -r.score, r.membre_id)

        return sorted(candidates, key=order)[:n]

    async def set_thread(self, question_id: int, thread_id: int) -> None:
        async with self.sessions.begin() as session:
            question = await session.get(Question, question_id)
            if question is None:
                raise NotFound(N_("Question n° {id} introuvable."), id=question_id)
            question.thread_id = thread_id

    async def thread_of(self, question_id: int) -> int | None:
        """The question's forum post once delivered (None: not yet, or dropped)."""
        async with self.sessions() as session:
            return await session.scalar(
                select(Question.thread_id).where(Question.id == question_id)
            )

    async def who_of(self, question_id: int) -> tuple[int | None, list[int]]:
        """The asker's Discord id and those of the personnes-ressources the question mentions
        (as recorded now: someone erased since is not mentioned)."""
        async with self.sessions() as session:
            asker = await session.scalar(
                select(Membre.user_id)
                .join(Question, Question.asker_membre_id == Membre.id)
                .where(Question.id == question_id)
            )
            rows = await session.execute(
                select(Membre.user_id)
                .join(QuestionMention, QuestionMention.membre_id == Membre.id)
                .where(QuestionMention.question_id == question_id, Membre.user_id.is_not(None))
                .order_by(QuestionMention.id)
            )
            return asker, [u for u in rows.scalars() if u is not None]

    async def thread_recorded(self, thread_id: int) -> bool:
        """Whether a question is recorded on this forum post."""
        async with self.sessions() as session:
            found = await session.scalar(select(Question.id).where(Question.thread_id == thread_id))
            return found is not None

    async def still_asked(self, question_id: int) -> bool:
        """Whether the question is still to post (not erased, not dropped)."""
        async with self.sessions() as session:
            return await session.get(Question, question_id) is not None

    async def discard(self, question_id: int) -> None:
        """Discord refused the post: forget the question (and its mentions)."""
        async with self.sessions.begin() as session:
            await session.execute(delete(Question).where(Question.id == question_id))
        log.info("question %s discarded: its post was refused", question_id)

    async def drop_unposted(self, older_than: timedelta = UNPOSTED_AFTER) -> int:
        """Questions never posted (their outbox row failed for good or expired): they are
        forgotten, and their mentions no longer count against anyone's weekly cap. A question
        whose post is still waiting in the outbox is left alone."""
        cutoff = self.clock.now() - older_than
        waiting = select(OutboxMessage.id).where(
            OutboxMessage.kind == OutboxKind.QUESTION,
            OutboxMessage.topic == literal(QUESTION_TOPIC) + cast(Question.id, String),
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
        )
        async with self.sessions.begin() as session:
            result = await session.execute(
                delete(Question).where(
                    Question.thread_id.is_(None),
                    Question.asked_at < cutoff,
                    ~waiting.exists(),
                )
            )
        dropped = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if dropped:
            log.warning("%d questions never posted were dropped", dropped)
        return dropped

    # -- resolving --

    async def resolve(
        self, guild_id: int, thread_id: int, user_id: int, *, staff: bool
    ) -> Resolved:
        """Mark the question of this thread solved: by its asker or by staff."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            question = (
                await session.execute(
                    select(Question).where(
                        Question.guild_id == guild_id, Question.thread_id == thread_id
                    )
                )
            ).scalar_one_or_none()
            if question is None:
                raise NotFound(NOT_A_QUESTION)
            asker = (
                await session.get(Membre, question.asker_membre_id)
                if question.asker_membre_id is not None
                else None
            )
            if not staff and (asker is None or asker.user_id != user_id):
                raise Forbidden(
                    N_("Seule la personne qui a posé la question, ou l'équipe, peut la résoudre.")
                )
            forum_id = None
            if question.chantier_id is not None:
                chantier = await session.get(Chantier, question.chantier_id)
                forum_id = chantier.forum_id if chantier else None
            already = question.etat == EtatQuestion.RESOLUE
            if not already:
                question.etat, question.resolved_at = EtatQuestion.RESOLUE, now
                log.info("guild %s: question %s resolved by %s", guild_id, question.id, user_id)
            return Resolved(question.id, thread_id, forum_id, already)

    # -- the FAQ --

    async def faq(self, guild_id: int, mot_cle: str, page: int = 0) -> FaqPage:
        """Solved questions whose words contain every stem of ``mot_cle``, newest first."""
        wanted = set(stems(mot_cle))
        if not wanted:
            raise InvalidInput(N_("Indiquez un mot-clé d'au moins trois lettres."))
        async with self.sessions() as session:
            rows = await session.execute(
                select(
                    Question.id,
                    Question.thread_id,
                    Question.chantier_id,
                    Question.resolved_at,
                    Question.mots_cles,
                    Membre.user_id,
                )
                .outerjoin(Membre, Membre.id == Question.asker_membre_id)
                .where(
                    Question.guild_id == guild_id,
                    Question.etat == EtatQuestion.RESOLUE,
                    Question.thread_id.is_not(None),
                )
                .order_by(Question.resolved_at.desc(), Question.id.desc())
            )
            found = [
                FaqItem(qid, thread_id, chantier_id, at, asker)
                for qid, thread_id, chantier_id, at, words, asker in rows.tuples()
                if wanted <= set(words or ())
            ]
        page = max(0, min(page, max(0, (len(found) - 1) // PAGE_SIZE)))
        start = page * PAGE_SIZE
        return FaqPage(tuple(found[start : start + PAGE_SIZE]), len(found), page)


async def _askable(session: AsyncSession, guild_id: int, slug: str) -> Chantier:
    """A chantier one may ask a question on: known, not archived, with its forum."""
    chantier = await _chantier(session, guild_id, slug)
    if chantier.forum_id is None:
        raise Conflict(N_("Le chantier « {nom} » n'a pas de forum de questions."), nom=chantier.nom)
    return chantier


async def _chantier(session: AsyncSession, guild_id: int, slug: str) -> Chantier:
    chantier = await repo.chantier_by_slug(session, guild_id, slug.strip())
    if chantier is None or chantier.archived:
        raise NotFound(N_("Chantier « {slug} » introuvable."), slug=slug[:40])
    return chantier


async def erase_membre(session: AsyncSession, membre_id: int) -> None:
    """A member's erasure (privacy): they are no longer a personne-ressource, the record of
    who was asked and nudged goes, and their questions lose their author (the posts are theirs,
    in Discord; the FAQ keeps the question's id, keywords and state)."""
    await session.execute(delete(PersonneRessource).where(PersonneRessource.membre_id == membre_id))
    await session.execute(delete(QuestionMention).where(QuestionMention.membre_id == membre_id))
    await session.execute(delete(Relance).where(Relance.membre_id == membre_id))
    await session.execute(
        update(Question).where(Question.asker_membre_id == membre_id).values(asker_membre_id=None)
    )


async def purge_before(session: AsyncSession, cutoff: datetime) -> None:
    """Retention (privacy): who was asked and nudged before ``cutoff`` is forgotten, and
    questions asked before it lose their author (the FAQ keeps them)."""
    await session.execute(delete(QuestionMention).where(QuestionMention.at < cutoff))
    await session.execute(delete(Relance).where(Relance.sent_at < cutoff))
    await session.execute(
        update(Question).where(Question.asked_at < cutoff).values(asker_membre_id=None)
    )
