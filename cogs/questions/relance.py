"""Questions, the bump and the digest: open questions due for their one bump (claimed with one
more personne-ressource chosen in the same transaction), and the lists of the weekly digest.
Mixed into ``QuestionService``. No Discord here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import QuestionsConfig
from db.models import EtatQuestion, Membre, OutboxKind, Question, QuestionMention
from db.outbox import enqueue

#: The outbox topic of a question's post and bump rows.
QUESTION_TOPIC = "question:"


def question_topic(question_id: int) -> str:
    """``question:42``: the outbox topic of question 42's rows."""
    return f"{QUESTION_TOPIC}{question_id}"


if TYPE_CHECKING:
    from cogs.questions.service import Ressource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueBump:
    question_id: int
    guild_id: int
    thread_id: int
    asker_user_id: int | None


@dataclass(frozen=True)
class BumpPlan:
    question_id: int
    guild_id: int
    thread_id: int
    locale: str
    extra_user_id: int | None


@dataclass(frozen=True)
class DigestQuestions:
    """For the weekly digest: open questions without an answer, and those solved lately."""

    unanswered: tuple[int, ...]  # thread ids
    solved: tuple[int, ...]


class BumpSteps:
    """The bump and the digest half of ``QuestionService``."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    config: QuestionsConfig

    #: ``QuestionService.choose``: up to n personnes-ressources for a question.
    choose: Callable[..., Awaitable[list[Ressource]]]

    # -- the bump --

    async def due_bumps(self, now: datetime | None = None) -> list[DueBump]:
        """Open questions asked ``bump_hours`` ago or more, not bumped, not known answered."""
        now = now or self.clock.now()
        cutoff = now - timedelta(hours=self.config.bump_hours)
        async with self.sessions() as session:
            rows = await session.execute(
                select(Question.id, Question.guild_id, Question.thread_id, Membre.user_id)
                .outerjoin(Membre, Membre.id == Question.asker_membre_id)
                .where(
                    Question.etat == EtatQuestion.OUVERTE,
                    Question.thread_id.is_not(None),
                    Question.bumped_at.is_(None),
                    Question.answered_at.is_(None),
                    Question.asked_at <= cutoff,
                )
                .order_by(Question.asked_at, Question.id)
            )
            return [DueBump(*row) for row in rows.tuples()]

    async def mark_answered(self, question_id: int) -> None:
        """Someone other than the asker answered: no bump."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            await session.execute(
                update(Question)
                .where(Question.id == question_id, Question.answered_at.is_(None))
                .values(answered_at=now)
            )

    async def claim_bump(self, question_id: int) -> BumpPlan | None:
        """Claim the one bump of a question (None: done already, answered or solved) and
        choose one more personne-ressource, recorded with the claim; the bump's message is an
        outbox row of the same transaction (delivered once, even across a crash)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                update(Question)
                .where(
                    Question.id == question_id,
                    Question.bumped_at.is_(None),
                    Question.answered_at.is_(None),
                    Question.etat == EtatQuestion.OUVERTE,
                )
                .values(bumped_at=now)
                .returning(Question.id)
            )
            if claimed.scalar_one_or_none() is None:
                return None
            question = await session.get(Question, question_id)
            assert question is not None and question.thread_id is not None
            asked = set(
                (
                    await session.execute(
                        select(QuestionMention.membre_id).where(
                            QuestionMention.question_id == question_id
                        )
                    )
                ).scalars()
            )
            extra = None
            if question.chantier_id is not None:
                chosen = await self.choose(
                    session,
                    question.chantier_id,
                    question.asker_membre_id,
                    set(question.mots_cles or ()),
                    1,
                    exclude=asked,
                )
                if chosen:
                    extra = chosen[0]
                    session.add(
                        QuestionMention(question_id=question_id, membre_id=extra.membre_id, at=now)
                    )
            enqueue(
                session,
                OutboxKind.BUMP,
                {
                    "question_id": question_id,
                    "thread_id": question.thread_id,
                    "locale": question.locale,
                    "extra_user_id": extra.user_id if extra else None,
                },
                now=now,
                guild_id=question.guild_id,
                topic=question_topic(question_id),
                user_id=extra.user_id if extra else None,
            )
            log.info(
                "guild %s: question %s bumped (%s)",
                question.guild_id,
                question_id,
                f"membre {extra.membre_id} added" if extra else "nobody more to ask",
            )
            return BumpPlan(
                question_id,
                question.guild_id,
                question.thread_id,
                question.locale,
                extra.user_id if extra else None,
            )

    # -- the digest --

    async def digest(self, guild_id: int, since: datetime) -> DigestQuestions:
        async with self.sessions() as session:
            unanswered = await session.execute(
                select(Question.thread_id)
                .where(
                    Question.guild_id == guild_id,
                    Question.etat == EtatQuestion.OUVERTE,
                    Question.answered_at.is_(None),
                    Question.thread_id.is_not(None),
                )
                .order_by(Question.asked_at)
            )
            solved = await session.execute(
                select(Question.thread_id)
                .where(
                    Question.guild_id == guild_id,
                    Question.etat == EtatQuestion.RESOLUE,
                    Question.resolved_at >= since,
                    Question.thread_id.is_not(None),
                )
                .order_by(Question.resolved_at)
            )
            return DigestQuestions(
                tuple(t for t in unanswered.scalars() if t is not None),
                tuple(t for t in solved.scalars() if t is not None),
            )
