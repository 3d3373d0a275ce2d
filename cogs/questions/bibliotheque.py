"""The library of référentiels: documents and links attached to ateliers, searched by keyword
(accents and case ignored) and chantier. A file is re-posted in the atelier's thread: Discord
keeps it, Partage keeps only the message's id (and its name). No Discord here."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, InvalidInput, NotFound
from bot.shown_text import check_shown
from cogs.membres.noms import fold
from cogs.questions.mots import words
from db import repositories as repo
from db.models import Atelier, Chantier, Document

log = logging.getLogger(__name__)

PAGE_SIZE = 5
TITLE_MAX = 200
URL_MAX = 1024
_URL = re.compile(r"https?://[^\s<>]+", re.IGNORECASE)


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    atelier_id: int
    atelier_titre: str
    chantier_id: int | None
    titre: str
    url: str | None
    filename: str | None
    channel_id: int | None
    message_id: int | None
    thread_id: int | None
    added_at: datetime


@dataclass(frozen=True)
class LibraryPage:
    items: tuple[DocumentInfo, ...]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


class BibliothequeService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def add(
        self,
        guild_id: int,
        atelier_id: int,
        titre: str,
        *,
        url: str | None = None,
        filename: str | None = None,
        by_user_id: int | None = None,
    ) -> DocumentInfo:
        """Attach a link or a file (exactly one) to an atelier. A file's message is recorded
        afterwards with ``set_message``."""
        titre = " ".join(titre.split())
        if not titre or len(titre) > TITLE_MAX:
            raise InvalidInput(N_("Le titre a de 1 à {max} caractères."), max=TITLE_MAX)
        if (url is None) == (filename is None):
            raise InvalidInput(N_("Joignez soit un lien, soit un fichier."))
        if url is not None:
            url = url.strip()
            if len(url) > URL_MAX or not _URL.fullmatch(url):
                raise InvalidInput(
                    N_("« {lien} » n'est pas une adresse web (https://…)."), lien=url[:80]
                )
        check_shown(titre)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None or atelier.guild_id != guild_id:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            document = Document(
                guild_id=guild_id,
                atelier_id=atelier_id,
                titre=titre,
                url=url,
                filename=filename[:200] if filename else None,
                recherche_cle=fold(" ".join([titre, atelier.titre, filename or ""])),
                added_by_user_id=by_user_id,
                added_at=now,
            )
            session.add(document)
            await session.flush()
            await repo.audit(
                session,
                guild_id=guild_id,
                actor_user_id=by_user_id,
                action="document.add",
                atelier_id=atelier_id,
                details={"document_id": document.id, "titre": titre},
                at=now,
            )
            log.info("guild %s: document %s added to atelier %s", guild_id, document.id, atelier_id)
            return _info(document, atelier)

    async def set_message(self, document_id: int, channel_id: int, message_id: int) -> None:
        async with self.sessions.begin() as session:
            document = await session.get(Document, document_id)
            if document is not None:
                document.channel_id, document.message_id = channel_id, message_id

    async def discard(self, document_id: int) -> None:
        async with self.sessions.begin() as session:
            document = await session.get(Document, document_id)
            if document is not None:
                await session.delete(document)

    async def of_atelier(self, atelier_id: int) -> list[DocumentInfo]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(Document, Atelier)
                .join(Atelier, Atelier.id == Document.atelier_id)
                .where(Document.atelier_id == atelier_id)
                .order_by(Document.added_at, Document.id)
            )
            return [_info(d, a) for d, a in rows.tuples()]

    async def search(
        self,
        guild_id: int,
        mot_cle: str | None = None,
        chantier_slug: str | None = None,
        page: int = 0,
    ) -> LibraryPage:
        """Documents whose title, file name or atelier title contain every word of
        ``mot_cle`` (accents and case ignored), in ``chantier_slug`` if given, newest first."""
        wanted = words(mot_cle or "") or [w for w in fold(mot_cle or "").split() if w]
        async with self.sessions() as session:
            query = (
                select(Document, Atelier)
                .join(Atelier, Atelier.id == Document.atelier_id)
                .where(Document.guild_id == guild_id)
                .order_by(Document.added_at.desc(), Document.id.desc())
            )
            if chantier_slug:
                chantier = await repo.chantier_by_slug(session, guild_id, chantier_slug.strip())
                if chantier is None:
                    raise NotFound(N_("Chantier « {slug} » introuvable."), slug=chantier_slug[:40])
                query = query.join(Chantier, Chantier.id == Atelier.chantier_id).where(
                    Chantier.id == chantier.id
                )
            for w in wanted:  # ``recherche_cle`` is folded as ``wanted`` is
                query = query.where(Document.recherche_cle.contains(w, autoescape=True))
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            page = max(0, min(page, max(0, ((total or 0) - 1) // PAGE_SIZE)))
            rows = await session.execute(query.limit(PAGE_SIZE).offset(page * PAGE_SIZE))
            found = tuple(_info(d, a) for d, a in rows.tuples())
        return LibraryPage(found, total or 0, page)


def _info(d: Document, a: Atelier) -> DocumentInfo:
    return DocumentInfo(
        id=d.id,
        atelier_id=a.id,
        atelier_titre=a.titre,
        chantier_id=a.chantier_id,
        titre=d.titre,
        url=d.url,
        filename=d.filename,
        channel_id=d.channel_id,
        message_id=d.message_id,
        thread_id=a.thread_id,
        added_at=d.added_at,
    )
