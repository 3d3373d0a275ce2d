"""Chantiers: the standing work streams of a server, and what was provisioned for them."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, Conflict, InvalidInput, NotFound
from bot.shown_text import check_shown
from db import repositories as repo
from db.models import Chantier

log = logging.getLogger(__name__)

NOM_MAX = 90
DESCRIPTION_MAX = 1000
EMOJI_MAX = 16
SLUG_MAX = 40


class ChantierSpec(Protocol):
    """A chantier as the configuration describes it."""

    slug: str
    nom: str
    description: str
    emoji: str


@dataclass(frozen=True)
class ChantierInfo:
    id: int
    guild_id: int
    slug: str
    nom: str
    description: str
    emoji: str
    archived: bool
    category_id: int | None
    channel_id: int | None
    forum_id: int | None
    role_id: int | None

    @property
    def label(self) -> str:
        return f"{self.emoji} {self.nom}".strip()


def slugify(text: str) -> str:
    """``Accueil et intégration`` → ``accueil-et-integration``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:SLUG_MAX].strip("-")


def info(c: Chantier) -> ChantierInfo:
    return ChantierInfo(
        id=c.id,
        guild_id=c.guild_id,
        slug=c.slug,
        nom=c.nom,
        description=c.description,
        emoji=c.emoji,
        archived=c.archived,
        category_id=c.category_id,
        channel_id=c.channel_id,
        forum_id=c.forum_id,
        role_id=c.role_id,
    )


def validate(nom: str, description: str, emoji: str) -> None:
    check_shown(nom, description)
    if not nom.strip() or len(nom) > NOM_MAX:
        raise InvalidInput(
            N_("Le nom du chantier doit compter de 1 à {max} caractères."), max=NOM_MAX
        )
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(
            N_("La description dépasse {max} caractères ({n})."),
            max=DESCRIPTION_MAX,
            n=len(description),
        )
    if len(emoji) > EMOJI_MAX:
        raise InvalidInput(N_("L'emoji « {emoji} » est trop long."), emoji=emoji[:20])


#: How long another process's change to a guild's chantiers may take to show here (only this
#: service writes chantiers, and it clears this process's copy at once; the command line, or a
#: second process serving the same guild during a take-over, are seen after this delay).
CACHE_SECONDS = 30.0


class ChantierService:
    """The chantiers, and the owner of the per-guild copy that every command reads (``/aide``,
    ``/chantiers``, choices): cleared by each write below, refreshed after ``CACHE_SECONDS``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock
        self._cache: dict[int, tuple[float, tuple[ChantierInfo, ...]]] = {}
        #: Reads served from the database (tests and benchmarks).
        self.loads = 0

    async def _all(self, guild_id: int) -> tuple[ChantierInfo, ...]:
        """Every chantier of a guild, archived ones included, in order."""
        cached = self._cache.get(guild_id)
        if cached is not None and self.clock.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        async with self.sessions() as session:
            found = tuple(info(c) for c in await repo.chantiers_of(session, guild_id))
        self.loads += 1
        self._cache[guild_id] = (self.clock.monotonic(), found)
        return found

    def _changed(self, guild_id: int | None = None) -> None:
        """A write: the copy goes (all of it when the guild is not known)."""
        if guild_id is None:
            self._cache.clear()
        else:
            self._cache.pop(guild_id, None)

    async def sync_config(
        self, guild_id: int, specs: Sequence[ChantierSpec], *, guild_name: str = ""
    ) -> list[ChantierInfo]:
        """Make sure every configured chantier exists for this server (by slug); the name,
        description and emoji follow the configuration. Returns all active chantiers."""
        now = self.clock.now()
        try:
            async with self.sessions.begin() as session:
                await repo.ensure_guild(session, guild_id, now, guild_name)
                for spec in specs:
                    chantier = await repo.chantier_by_slug(session, guild_id, spec.slug)
                    if chantier is None:
                        session.add(
                            Chantier(
                                guild_id=guild_id,
                                slug=spec.slug,
                                nom=spec.nom,
                                description=spec.description,
                                emoji=spec.emoji,
                                archived=False,
                                from_config=True,
                                created_at=now,
                            )
                        )
                        log.info(
                            "guild %s: chantier %s added from the configuration",
                            guild_id,
                            spec.slug,
                        )
                    else:
                        chantier.nom, chantier.description, chantier.emoji = (
                            spec.nom,
                            spec.description,
                            spec.emoji,
                        )
                await session.flush()
                return [
                    info(c) for c in await repo.chantiers_of(session, guild_id) if not c.archived
                ]
        finally:
            # After the commit (or the rollback): never a copy older than the database.
            self._changed(guild_id)

    async def create(
        self,
        guild_id: int,
        nom: str,
        *,
        description: str = "",
        emoji: str = "",
        slug: str | None = None,
        actor_user_id: int | None = None,
    ) -> ChantierInfo:
        validate(nom, description, emoji)
        slug = slugify(slug or nom)
        if not slug:
            raise InvalidInput(N_("Le nom du chantier doit contenir des lettres ou des chiffres."))
        now = self.clock.now()
        try:
            async with self.sessions.begin() as session:
                await repo.ensure_guild(session, guild_id, now)
                if await repo.chantier_by_slug(session, guild_id, slug) is not None:
                    raise Conflict(N_("Un chantier « {slug} » existe déjà."), slug=slug)
                chantier = Chantier(
                    guild_id=guild_id,
                    slug=slug,
                    nom=nom.strip(),
                    description=description.strip(),
                    emoji=emoji.strip(),
                    archived=False,
                    from_config=False,
                    created_at=now,
                )
                session.add(chantier)
                await session.flush()
                await repo.audit(
                    session,
                    guild_id=guild_id,
                    actor_user_id=actor_user_id,
                    action="chantier.create",
                    details={"slug": slug},
                    at=now,
                )
                return info(chantier)
        finally:
            # After the commit (or the rollback): never a copy older than the database.
            self._changed(guild_id)

    async def archive(
        self, guild_id: int, chantier_id: int, *, actor_user_id: int | None = None
    ) -> ChantierInfo:
        now = self.clock.now()
        try:
            async with self.sessions.begin() as session:
                chantier = await self._get(session, guild_id, chantier_id)
                if chantier.archived:
                    raise Conflict(N_("Le chantier « {nom} » est déjà archivé."), nom=chantier.nom)
                chantier.archived = True
                chantier.archived_at = now
                await repo.audit(
                    session,
                    guild_id=guild_id,
                    actor_user_id=actor_user_id,
                    action="chantier.archive",
                    details={"slug": chantier.slug},
                    at=now,
                )
                return info(chantier)
        finally:
            # After the commit (or the rollback): never a copy older than the database.
            self._changed(guild_id)

    async def chantiers(
        self, guild_id: int, *, include_archived: bool = False
    ) -> list[ChantierInfo]:
        return [c for c in await self._all(guild_id) if include_archived or not c.archived]

    async def get(self, guild_id: int, chantier_id: int) -> ChantierInfo:
        for c in await self._all(guild_id):
            if c.id == chantier_id:
                return c
        raise NotFound(N_("Chantier introuvable."))

    async def by_slug(self, guild_id: int, slug: str) -> ChantierInfo | None:
        return next((c for c in await self._all(guild_id) if c.slug == slug), None)

    async def set_discord_ids(self, chantier_id: int, **ids: int | None) -> ChantierInfo:
        """Record the ids of the category, channel, forum and role made for a chantier."""
        allowed = {"category_id", "channel_id", "forum_id", "role_id"}
        if not set(ids) <= allowed:
            raise ValueError(f"unknown fields: {set(ids) - allowed}")
        try:
            async with self.sessions.begin() as session:
                chantier = await session.get(Chantier, chantier_id)
                if chantier is None:
                    raise NotFound(N_("Chantier introuvable."))
                for key, value in ids.items():
                    setattr(chantier, key, value)
                return info(chantier)
        finally:
            # After the commit (or the rollback): never a copy older than the database.
            self._changed()

    async def _get(self, session: AsyncSession, guild_id: int, chantier_id: int) -> Chantier:
        chantier = await session.get(Chantier, chantier_id)
        if chantier is None or chantier.guild_id != guild_id:
            raise NotFound(N_("Chantier introuvable."))
        return chantier
