"""Calendars and the web agenda: read models of the ateliers (public pages, ``.ics`` feeds) and
members' private feed addresses. No Discord here; nothing here writes to the database except
the token use cases (``address``, ``renew``)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from cogs.ateliers.info import Counts, counts_of
from db import repositories as repo
from db.models import (
    Atelier,
    CalendrierJeton,
    Chantier,
    EtatAtelier,
    EtatInscription,
    Guild,
    Inscription,
    Membre,
    Reponse,
    SeanceReponse,
    SeanceRetiree,
)

log = logging.getLogger(__name__)

#: Feeds carry the séances that began at most this long ago (and every later one).
FEED_PAST = timedelta(days=180)
#: Bytes of randomness in a private feed token (``secrets.token_urlsafe``: 43 characters).
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- what the pages and the feeds read ---------------------------------------------------------


@dataclass(frozen=True)
class FeedSeance:
    """One séance as a calendar shows it. ``cancelled``: the atelier was cancelled, a change
    removed this séance, or (private feed) the member said they will not come to it."""

    id: int
    atelier_id: int
    starts_at: datetime
    ends_at: datetime | None
    local_date: date
    local_time: time | None
    zone: str
    cancelled: bool = False


@dataclass(frozen=True)
class FeedAtelier:
    id: int
    titre: str
    description: str
    lieu: str
    genre: str
    chantier_slug: str | None
    chantier_nom: str | None
    cancelled: bool
    raison_annulation: str | None
    duree_minutes: int
    #: Starts at 1 and rises with every change (iCalendar's SEQUENCE is ``version - 1``).
    version: int
    updated_at: datetime
    #: Only in a member's private feed, never on a public page or feed.
    lien: str | None
    seances: tuple[FeedSeance, ...]
    counts: Counts | None = None

    @property
    def sequence(self) -> int:
        return self.version - 1

    @property
    def live_seances(self) -> tuple[FeedSeance, ...]:
        return tuple(s for s in self.seances if not s.cancelled)


@dataclass(frozen=True)
class ChantierPage:
    slug: str
    nom: str
    description: str
    emoji: str


@dataclass(frozen=True)
class Feed:
    """The content of one ``.ics`` file."""

    name: str
    ateliers: tuple[FeedAtelier, ...]


@dataclass(frozen=True)
class Stamp:
    """What a conditional GET compares: an opaque version and the last change."""

    version: str
    last_modified: datetime | None


@dataclass(frozen=True)
class Address:
    """A member's private feed token: ``token`` is None when one already exists (only its
    hash is kept, so it cannot be shown again)."""

    token: str | None
    created_at: datetime
    renewed: bool = False


class CalendrierService:
    """Read models for the site and the feeds, and the private feed tokens."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        guild_id: int | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.configured_guild = guild_id

    # --- which server a path serves -----------------------------------------------------

    async def default_guild(self) -> int | None:
        """``discord.guild_id``, else the only server Partage knows; None when ambiguous."""
        if self.configured_guild is not None:
            return self.configured_guild
        async with self.sessions() as session:
            ids = (await session.execute(select(Guild.id).limit(2))).scalars().all()
        return ids[0] if len(ids) == 1 else None

    async def known_guild(self, guild_id: int) -> bool:
        async with self.sessions() as session:
            return await session.get(Guild, guild_id) is not None

    def _window(self) -> datetime:
        """Séances that started before this are left out of feeds (a whole-day granularity,
        so that a feed's version changes at most once a day because of it)."""
        now = self.clock.now()
        day = datetime(now.year, now.month, now.day, tzinfo=now.tzinfo)
        return day - FEED_PAST

    # --- pages --------------------------------------------------------------------------

    async def chantiers(self, guild_id: int) -> list[ChantierPage]:
        async with self.sessions() as session:
            return [
                ChantierPage(c.slug, c.nom, c.description, c.emoji)
                for c in await repo.chantiers_of(session, guild_id)
                if not c.archived
            ]

    async def chantier(self, guild_id: int, slug: str) -> ChantierPage | None:
        async with self.sessions() as session:
            c = await repo.chantier_by_slug(session, guild_id, slug)
        return None if c is None else ChantierPage(c.slug, c.nom, c.description, c.emoji)

    async def upcoming(self, guild_id: int, *, slug: str | None = None) -> list[FeedAtelier]:
        """Planned ateliers with a séance not over, soonest first, with their counts."""
        now = self.clock.now()
        async with self.sessions() as session:
            chantier_id = None
            if slug is not None:
                chantier = await repo.chantier_by_slug(session, guild_id, slug)
                if chantier is None:
                    return []
                chantier_id = chantier.id
            ateliers = await repo.upcoming_ateliers(session, guild_id, now, chantier_id=chantier_id)
            return await self._read(session, ateliers, counts=True, since=None)

    async def atelier(
        self, guild_id: int, atelier_id: int, *, private: bool = False, counts: bool = True
    ) -> FeedAtelier | None:
        """One atelier with all its séances (for its page and its file); ``private``: with
        the meeting link, for a member who holds a place; ``counts``: with its places (the
        page shows them, a file does not, and without them the file's events stay cached
        while answers come in)."""
        async with self.sessions() as session:
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None or atelier.guild_id != guild_id:
                return None
            [found] = await self._read(
                session, [atelier], counts=counts, since=None, private=private
            )
            return found

    # --- feeds --------------------------------------------------------------------------

    async def chantier_feed(self, guild_id: int, slug: str) -> Feed | None:
        since = self._window()
        async with self.sessions() as session:
            chantier = await repo.chantier_by_slug(session, guild_id, slug)
            if chantier is None:
                return None
            ateliers = (
                (
                    await session.execute(
                        select(Atelier)
                        .where(Atelier.guild_id == guild_id, Atelier.chantier_id == chantier.id)
                        .order_by(Atelier.id)
                    )
                )
                .scalars()
                .all()
            )
            read = await self._read(session, ateliers, counts=False, since=since)
            return Feed(chantier.nom, tuple(a for a in read if a.seances))

    async def chantier_stamp(self, guild_id: int, slug: str) -> Stamp | None:
        """The version of a chantier's feed in one light query (a poll that changes nothing
        costs this and no rendering)."""
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(
                        Chantier.id,
                        Chantier.nom,
                        func.count(Atelier.id),
                        func.max(Atelier.updated_at),
                        func.coalesce(func.sum(Atelier.version), 0),
                        func.coalesce(func.max(Atelier.id), 0),
                    )
                    .select_from(Chantier)
                    .outerjoin(Atelier, Atelier.chantier_id == Chantier.id)
                    .where(Chantier.guild_id == guild_id, Chantier.slug == slug)
                    .group_by(Chantier.id, Chantier.nom)
                )
            ).one_or_none()
        if row is None:
            return None
        chantier_id, nom, count, last, versions, top = row
        return _stamp(
            ("chantier", chantier_id, nom, count, last, versions, top, self._window()), last
        )

    async def atelier_stamp(self, guild_id: int, atelier_id: int) -> Stamp | None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(Atelier.version, Atelier.updated_at).where(
                        Atelier.id == atelier_id, Atelier.guild_id == guild_id
                    )
                )
            ).one_or_none()
        if row is None:
            return None
        return _stamp(("atelier", atelier_id, row[0], row[1]), row[1])

    async def member_feed(self, guild_id: int, token: str) -> Feed | None:
        """The ateliers where the member holds a place, with the meeting link; a séance they
        said they will skip is marked cancelled. None for an unknown token."""
        since = self._window()
        async with self.sessions() as session:
            membre = await self._membre_of(session, guild_id, token)
            if membre is None:
                return None
            ateliers = (
                (
                    await session.execute(
                        select(Atelier)
                        .join(Inscription, Inscription.atelier_id == Atelier.id)
                        .where(
                            Inscription.membre_id == membre.id,
                            Inscription.etat == EtatInscription.INSCRIT,
                        )
                        .order_by(Atelier.id)
                    )
                )
                .scalars()
                .all()
            )
            skipped = set(
                (
                    await session.execute(
                        select(SeanceReponse.seance_id).where(
                            SeanceReponse.membre_id == membre.id,
                            SeanceReponse.reponse == Reponse.NON,
                        )
                    )
                ).scalars()
            )
            read = await self._read(
                session, ateliers, counts=False, since=since, private=True, skipped=skipped
            )
            return Feed("Partage", tuple(a for a in read if a.seances))

    async def member_stamp(self, guild_id: int, token: str) -> Stamp | None:
        async with self.sessions() as session:
            membre = await self._membre_of(session, guild_id, token)
            if membre is None:
                return None
            ateliers = (
                await session.execute(
                    select(
                        func.count(Atelier.id),
                        func.max(Atelier.updated_at),
                        func.coalesce(func.sum(Atelier.version), 0),
                        func.max(Inscription.updated_at),
                    )
                    .select_from(Inscription)
                    .join(Atelier, Atelier.id == Inscription.atelier_id)
                    .where(Inscription.membre_id == membre.id)
                )
            ).one()
            answers = (
                await session.execute(
                    select(func.count(), func.max(SeanceReponse.updated_at)).where(
                        SeanceReponse.membre_id == membre.id
                    )
                )
            ).one()
        moments = [m for m in (ateliers[1], ateliers[3], answers[1]) if m is not None]
        return _stamp(
            ("membre", membre.id, *ateliers, *answers, self._window()),
            max(moments) if moments else None,
        )

    async def _membre_of(self, session: AsyncSession, guild_id: int, token: str) -> Membre | None:
        """The member whose token this is. The lookup is by hash (an index), then the hashes
        are compared in constant time."""
        wanted = token_hash(token)
        row = (
            await session.execute(
                select(CalendrierJeton).where(
                    CalendrierJeton.token_hash == wanted, CalendrierJeton.guild_id == guild_id
                )
            )
        ).scalar_one_or_none()
        if row is None or not hmac.compare_digest(row.token_hash, wanted):
            return None
        membre = await session.get(Membre, row.membre_id)
        return membre if membre is not None and membre.user_id is not None else None

    async def _read(
        self,
        session: AsyncSession,
        ateliers: Sequence[Atelier],
        *,
        counts: bool,
        since: datetime | None,
        private: bool = False,
        skipped: set[int] | None = None,
    ) -> list[FeedAtelier]:
        ids = [a.id for a in ateliers]
        seances = await repo.seances_of_many(session, ids)
        removed: dict[int, list[SeanceRetiree]] = {i: [] for i in ids}
        if ids:
            rows = await session.execute(
                select(SeanceRetiree)
                .where(SeanceRetiree.atelier_id.in_(ids))
                .order_by(SeanceRetiree.id)
            )
            for r in rows.scalars():
                removed[r.atelier_id].append(r)
        all_counts = await repo.etat_counts_many(session, ids) if counts else {}
        chantier_ids = {a.chantier_id for a in ateliers if a.chantier_id is not None}
        chantiers: dict[int, Chantier] = {}
        if chantier_ids:
            rows = await session.execute(select(Chantier).where(Chantier.id.in_(chantier_ids)))
            chantiers = {c.id: c for c in rows.scalars()}
        skipped = skipped or set()
        out = []
        for a in ateliers:
            cancelled = a.etat == EtatAtelier.ANNULE
            live = [
                FeedSeance(
                    s.id,
                    a.id,
                    s.starts_at,
                    s.ends_at,
                    s.local_date,
                    s.local_time,
                    s.timezone,
                    cancelled or s.id in skipped,
                )
                for s in seances[a.id]
            ]
            live_ids = {s.id for s in live}
            gone: dict[int, FeedSeance] = {}
            for r in removed[a.id]:  # the latest removal of a séance id wins
                if r.seance_id not in live_ids:
                    gone[r.seance_id] = FeedSeance(
                        r.seance_id,
                        a.id,
                        r.starts_at,
                        r.ends_at,
                        r.local_date,
                        r.local_time,
                        r.timezone,
                        True,
                    )
            every = sorted([*live, *gone.values()], key=lambda s: (s.starts_at, s.id))
            if since is not None:
                every = [s for s in every if s.starts_at >= since]
            chantier = chantiers.get(a.chantier_id) if a.chantier_id is not None else None
            out.append(
                FeedAtelier(
                    id=a.id,
                    titre=a.titre,
                    description=a.description,
                    lieu=a.lieu,
                    genre=str(a.genre.value if hasattr(a.genre, "value") else a.genre),
                    chantier_slug=chantier.slug if chantier else None,
                    chantier_nom=chantier.nom if chantier else None,
                    cancelled=cancelled,
                    raison_annulation=a.raison_annulation,
                    duree_minutes=a.duree_minutes,
                    version=a.version,
                    updated_at=a.updated_at,
                    lien=a.lien if private else None,
                    seances=tuple(every),
                    counts=counts_of(all_counts[a.id], a.capacite) if counts else None,
                )
            )
        return out

    # --- private feed tokens ------------------------------------------------------------

    async def address(
        self,
        guild_id: int,
        user_id: int,
        *,
        display_name: str | None = None,
        locale: str = "fr",
        renew: bool = False,
    ) -> Address:
        """The member's private feed token: a new one when they have none or ``renew`` (the
        old address stops working in the same transaction); else only when it was made."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            await repo.ensure_guild(session, guild_id, now)
            membre = await repo.upsert_membre(
                session, guild_id, user_id, display_name=display_name, locale=locale, now=now
            )
            existing = (
                await session.execute(
                    select(CalendrierJeton).where(CalendrierJeton.membre_id == membre.id)
                )
            ).scalar_one_or_none()
            if existing is not None and not renew:
                return Address(None, existing.created_at)
            token = secrets.token_urlsafe(TOKEN_BYTES)
            if existing is None:
                session.add(
                    CalendrierJeton(
                        guild_id=guild_id,
                        membre_id=membre.id,
                        token_hash=token_hash(token),
                        created_at=now,
                    )
                )
            else:
                existing.token_hash = token_hash(token)
                existing.created_at = now
            await repo.audit(
                session,
                guild_id=guild_id,
                actor_user_id=user_id,
                action="calendrier.renew" if existing is not None else "calendrier.create",
                details={},
                at=now,
            )
        log.info(
            "guild %s: private feed address %s for user %s",
            guild_id,
            "renewed" if existing is not None else "created",
            user_id,
        )
        return Address(token, now, renewed=existing is not None)


def _stamp(key: tuple[object, ...], last: datetime | None) -> Stamp:
    return Stamp(hashlib.sha256(repr(key).encode()).hexdigest()[:32], last)
