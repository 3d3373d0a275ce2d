"""The follow-up loop around ateliers: the one « peut-être » nudge two days before a séance, and
after an atelier's last séance its poll, the « Je veux continuer » gathering and the poll's
results. Each is claimed in the database before it is sent (claim, then send). No Discord here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, Conflict, NotFound
from db import repositories as repo
from db.models import (
    Atelier,
    AtelierSuivi,
    EtatAtelier,
    EtatInscription,
    Inscription,
    Membre,
    OutboxKind,
    Relance,
    Reponse,
    Seance,
    SeanceReponse,
)
from db.outbox import enqueue

log = logging.getLogger(__name__)

NUDGE_BEFORE = timedelta(days=2)
#: An atelier whose last séance ended longer ago than this gets no follow-up (history, imports).
FOLLOWUP_WINDOW = timedelta(days=3)
POLL_HOURS = 48
#: How long after a poll closed its final results are still read (the bot may have been down).
POLL_READ_DAYS = 7
#: The follow-up's messages, one outbox row each (each posted once with its own nonce).
FOLLOWUP_POLL = "poll"
FOLLOWUP_CONTINUER = "continuer"
FOLLOWUP_PARTS = (FOLLOWUP_POLL, FOLLOWUP_CONTINUER)


@dataclass(frozen=True)
class Nudge:
    seance_id: int
    atelier_id: int
    guild_id: int
    membre_id: int
    user_id: int
    locale: str
    titre: str
    starts_at: datetime


@dataclass(frozen=True)
class Followup:
    atelier_id: int
    guild_id: int
    thread_id: int
    titre: str
    organizer_user_id: int | None


@dataclass(frozen=True)
class Gathering:
    atelier_id: int
    guild_id: int
    titre: str
    thread_id: int | None  # the atelier's thread
    organizer_user_id: int | None
    gathering_thread_id: int | None


@dataclass(frozen=True)
class PollRef:
    atelier_id: int
    guild_id: int
    channel_id: int
    message_id: int


@dataclass(frozen=True)
class PollResult:
    titre: str
    counts: dict[str, int]
    final: bool


class SuiviService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    # -- nudges --

    async def due_nudges(self, now: datetime | None = None) -> list[Nudge]:
        """Members who answered « peut-être » (for the atelier, or for that séance) to a séance
        starting within two days, with DM reminders on, not nudged yet for it."""
        now = now or self.clock.now()
        async with self.sessions() as session:
            seance_answer = (
                select(SeanceReponse.reponse)
                .where(
                    SeanceReponse.seance_id == Seance.id,
                    SeanceReponse.membre_id == Membre.id,
                )
                .scalar_subquery()
            )
            maybe = or_(
                seance_answer == Reponse.PEUT_ETRE,
                and_(Inscription.etat == EtatInscription.PEUT_ETRE, seance_answer.is_(None)),
            )
            nudged = select(Relance.id).where(
                Relance.seance_id == Seance.id, Relance.membre_id == Membre.id
            )
            rows = await session.execute(
                select(
                    Seance.id,
                    Atelier.id,
                    Atelier.guild_id,
                    Membre.id,
                    Membre.user_id,
                    Membre.locale,
                    Atelier.titre,
                    Seance.starts_at,
                )
                .join(Atelier, Atelier.id == Seance.atelier_id)
                .join(Membre, Membre.guild_id == Atelier.guild_id)
                .outerjoin(
                    Inscription,
                    and_(Inscription.atelier_id == Atelier.id, Inscription.membre_id == Membre.id),
                )
                .where(
                    Seance.starts_at > now,
                    Seance.starts_at <= now + NUDGE_BEFORE,
                    Atelier.etat == EtatAtelier.PLANIFIE,
                    Membre.dm_reminders.is_(True),
                    Membre.user_id.is_not(None),
                    or_(Inscription.id.is_not(None), seance_answer.is_not(None)),
                    maybe,
                    ~nudged.exists(),
                )
                .order_by(Seance.starts_at, Membre.id)
            )
            return [Nudge(*row) for row in rows.tuples()]

    async def claim_nudge(self, seance_id: int, membre_id: int) -> bool:
        """The nudge's row is its claim: False if it exists already (sent, or being sent).
        The DM itself is an outbox row of the same transaction."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            stmt = (
                repo.insert_for(session, Relance)
                .values(seance_id=seance_id, membre_id=membre_id, sent_at=now)
                .on_conflict_do_nothing(index_elements=["seance_id", "membre_id"])
                .returning(Relance.id)
            )
            if (await session.execute(stmt)).scalar_one_or_none() is None:
                return False
            row = (
                await session.execute(
                    select(
                        Atelier.id,
                        Atelier.guild_id,
                        Atelier.titre,
                        Seance.starts_at,
                        Membre.user_id,
                        Membre.locale,
                    )
                    .join(Seance, Seance.atelier_id == Atelier.id)
                    .join(Membre, Membre.id == membre_id)
                    .where(Seance.id == seance_id)
                )
            ).one_or_none()
            if row is None or row.user_id is None:
                return True  # claimed, nobody to tell
            enqueue(
                session,
                OutboxKind.NUDGE,
                {
                    "seance_id": seance_id,
                    "atelier_id": row.id,
                    "membre_id": membre_id,
                    "user_id": row.user_id,
                    "locale": row.locale,
                    "titre": row.titre,
                    "starts_at": row.starts_at.isoformat(),
                },
                now=now,
                guild_id=row.guild_id,
                user_id=row.user_id,
                # A nudge after its séance began is no use.
                ttl=max(row.starts_at - now, timedelta(minutes=1)),
            )
            return True

    # -- the follow-up after the last séance --

    async def due_followups(self, now: datetime | None = None) -> list[Followup]:
        now = now or self.clock.now()
        async with self.sessions() as session:
            end = func.max(func.coalesce(Seance.ends_at, Seance.starts_at))
            last = (
                select(Seance.atelier_id, end.label("last_end"))
                .group_by(Seance.atelier_id)
                .subquery()
            )
            rows = await session.execute(
                select(
                    Atelier.id,
                    Atelier.guild_id,
                    Atelier.thread_id,
                    Atelier.titre,
                    Atelier.organizer_user_id,
                    last.c.last_end,
                )
                .join(last, last.c.atelier_id == Atelier.id)
                .outerjoin(AtelierSuivi, AtelierSuivi.atelier_id == Atelier.id)
                .where(
                    Atelier.etat == EtatAtelier.PLANIFIE,
                    Atelier.thread_id.is_not(None),
                    AtelierSuivi.atelier_id.is_(None),
                    last.c.last_end <= now,
                    # Older ateliers never get one: the scan stays as short as the window.
                    last.c.last_end >= now - FOLLOWUP_WINDOW,
                )
                .order_by(Atelier.id)
            )
            return [
                Followup(atelier_id, guild_id, thread_id, titre, organizer)
                for atelier_id, guild_id, thread_id, titre, organizer, _ in rows.tuples()
            ]

    async def claim_followup(self, atelier_id: int) -> bool:
        """Claim the follow-up of an atelier (False: claimed before); its two messages, the
        poll and the « Je veux continuer » button, are outbox rows of the same transaction."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            stmt = (
                repo.insert_for(session, AtelierSuivi)
                .values(atelier_id=atelier_id, claimed_at=now)
                .on_conflict_do_nothing(index_elements=["atelier_id"])
                .returning(AtelierSuivi.atelier_id)
            )
            if (await session.execute(stmt)).scalar_one_or_none() is None:
                return False
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None or atelier.thread_id is None:
                return True
            for part in FOLLOWUP_PARTS:
                enqueue(
                    session,
                    OutboxKind.FOLLOWUP,
                    {
                        "atelier_id": atelier_id,
                        "thread_id": atelier.thread_id,
                        "titre": atelier.titre,
                        "part": part,
                    },
                    now=now,
                    guild_id=atelier.guild_id,
                    topic=f"suivi:{atelier_id}",  # one after the other, the poll first
                )
            return True

    async def set_poll(self, atelier_id: int, channel_id: int, message_id: int) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(AtelierSuivi)
                .where(AtelierSuivi.atelier_id == atelier_id)
                .values(poll_channel_id=channel_id, poll_message_id=message_id)
            )

    async def gathering(self, atelier_id: int, guild_id: int) -> Gathering:
        async with self.sessions() as session:
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None or atelier.guild_id != guild_id:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            suivi = await session.get(AtelierSuivi, atelier_id)
            if suivi is None:
                raise Conflict(N_("Le suivi de cet atelier n'a pas commencé."))
            return Gathering(
                atelier.id,
                atelier.guild_id,
                atelier.titre,
                atelier.thread_id,
                atelier.organizer_user_id,
                suivi.gathering_thread_id,
            )

    async def set_gathering_thread(self, atelier_id: int, thread_id: int) -> bool:
        """Record the gathering thread; False if another was recorded first."""
        async with self.sessions.begin() as session:
            done = await session.execute(
                update(AtelierSuivi)
                .where(
                    AtelierSuivi.atelier_id == atelier_id,
                    AtelierSuivi.gathering_thread_id.is_(None),
                )
                .values(gathering_thread_id=thread_id)
                .returning(AtelierSuivi.atelier_id)
            )
            return done.scalar_one_or_none() is not None

    # -- poll results --

    async def polls_to_read(self) -> list[PollRef]:
        """Polls, on every server, whose final results are not read yet; only the recent ones
        (a poll lasts ``POLL_HOURS``; ``POLL_READ_DAYS`` more allow for a bot stopped
        meanwhile), so the job does not re-read every poll ever posted."""
        since = self.clock.now() - timedelta(hours=POLL_HOURS, days=POLL_READ_DAYS)
        async with self.sessions() as session:
            rows = await session.execute(
                select(
                    AtelierSuivi.atelier_id,
                    Atelier.guild_id,
                    AtelierSuivi.poll_channel_id,
                    AtelierSuivi.poll_message_id,
                    AtelierSuivi.resultats,
                )
                .join(Atelier, Atelier.id == AtelierSuivi.atelier_id)
                .where(AtelierSuivi.poll_message_id.is_not(None), AtelierSuivi.claimed_at >= since)
                .order_by(AtelierSuivi.atelier_id)
            )
            return [
                PollRef(a, g, c, m)
                for a, g, c, m, r in rows.tuples()
                if c is not None and m is not None and not (r or {}).get("final")
            ]

    async def set_results(self, atelier_id: int, counts: dict[str, int], *, final: bool) -> None:
        """The poll's counts by answer (its French text), as read; ``final`` once closed."""
        async with self.sessions.begin() as session:
            suivi = await session.get(AtelierSuivi, atelier_id)
            if suivi is not None:
                suivi.resultats = {"counts": dict(counts), "final": final}

    async def results(self, guild_id: int) -> list[PollResult]:
        """Each atelier's poll counts as last read, oldest atelier first."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(Atelier.titre, AtelierSuivi.resultats)
                .join(Atelier, Atelier.id == AtelierSuivi.atelier_id)
                .where(Atelier.guild_id == guild_id, AtelierSuivi.resultats.is_not(None))
                .order_by(AtelierSuivi.claimed_at, AtelierSuivi.atelier_id)
            )
            return [
                PollResult(t, dict((r or {}).get("counts") or {}), bool((r or {}).get("final")))
                for t, r in rows.tuples()
            ]
