"""The directory of listed members and the conversations proposed through it.

Only members who consented and chose to be listed appear (``queries.listed``); a proposal is
answered by the invited member only, and the cog opens a private thread with both once it is
accepted. No Discord here (STYLE.md rule 2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from cogs.membres.noms import fold, like_pattern, municipalite_cle, parse_region
from cogs.membres.queries import chantier_ids_of, listed, lock_membre
from cogs.membres.service import MOT_CLE_MAX
from db import repositories as repo
from db.models import (
    ConversationProposal,
    Membre,
    Profil,
    ProfilChantier,
    ProposalStatus,
    Region,
)

log = logging.getLogger(__name__)

PER_PAGE_MAX = 25
PENDING_PROPOSALS_MAX = 5
DECLINE_COOLDOWN = timedelta(days=90)


# --- data returned ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnuaireEntry:
    membre_id: int
    user_id: int
    display_name: str | None
    municipalite: str | None
    region: Region | None
    fonction: str | None
    chantier_ids: tuple[int, ...]
    expertise: tuple[str, ...]


@dataclass(frozen=True)
class AnnuairePage:
    entries: tuple[AnnuaireEntry, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class ProposalInfo:
    id: int
    guild_id: int
    from_membre_id: int
    to_membre_id: int
    from_user_id: int
    to_user_id: int
    status: ProposalStatus
    created_at: datetime
    answered_at: datetime | None = None
    thread_id: int | None = field(default=None)
    from_locale: str = "fr"
    to_locale: str = "fr"


# --- the service --------------------------------------------------------------------------------


class AnnuaireService:
    """The directory of listed members and the conversations proposed through it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def search(
        self,
        guild_id: int,
        *,
        region: Region | str | None = None,
        chantier_id: int | None = None,
        municipalite: str | None = None,
        mot_cle: str | None = None,
        page: int = 0,
        per_page: int = 5,
        exclude_user_id: int | None = None,
    ) -> AnnuairePage:
        """Listed members matching every filter given (municipality and keyword ignore case
        and accents; the keyword is searched in the role and the expertise), by municipality.
        A page past the end gives the last page."""
        per_page = min(max(per_page, 1), PER_PAGE_MAX)
        stmt = (
            select(Profil, Membre)
            .join(Membre, Membre.id == Profil.membre_id)
            .where(Profil.guild_id == guild_id, listed())
        )
        if region:
            stmt = stmt.where(Profil.region == parse_region(region))
        if chantier_id is not None:
            stmt = stmt.where(
                exists().where(
                    ProfilChantier.profil_id == Profil.id,
                    ProfilChantier.chantier_id == chantier_id,
                )
            )
        if municipalite and municipalite.strip():
            stmt = stmt.where(Profil.municipalite_cle == municipalite_cle(municipalite))
        if mot_cle and mot_cle.strip():
            needle = fold(mot_cle)
            if len(needle) > MOT_CLE_MAX:
                raise InvalidInput(
                    N_("Le mot-clé « {mot} » dépasse {max} caractères."),
                    mot=mot_cle[:MOT_CLE_MAX] + "…",
                    max=MOT_CLE_MAX,
                )
            stmt = stmt.where(Profil.recherche_cle.like(like_pattern(needle), escape="\\"))
        if exclude_user_id is not None:
            stmt = stmt.where(Membre.user_id != exclude_user_id)
        async with self.sessions() as session:
            total = (
                await session.execute(select(func.count()).select_from(stmt.subquery()))
            ).scalar_one()
            last = max(0, -(-total // per_page) - 1)
            page = min(max(page, 0), last)
            rows = (
                await session.execute(
                    stmt.order_by(Profil.municipalite_cle.is_(None), Profil.municipalite_cle)
                    .order_by(Profil.id)
                    .offset(page * per_page)
                    .limit(per_page)
                )
            ).all()
            chantiers = await chantier_ids_of(session, [p.id for p, _ in rows])
        entries = tuple(
            AnnuaireEntry(
                membre_id=m.id,
                user_id=m.user_id,
                display_name=m.display_name,
                municipalite=p.municipalite,
                region=Region(p.region) if p.region else None,
                fonction=p.fonction,
                chantier_ids=tuple(chantiers[p.id]),
                expertise=tuple(p.expertise or ()),
            )
            for p, m in rows
        )
        return AnnuairePage(entries=entries, total=total, page=page, per_page=per_page)

    async def propose(
        self,
        guild_id: int,
        from_user: int,
        to_user: int,
        *,
        display_name: str | None = None,
        locale: str | None = None,
    ) -> ProposalInfo:
        """Propose a conversation to a listed member. Refused to oneself, to someone not
        listed, when one is already pending between the two, within 90 days of a refusal, and
        beyond five pending proposals."""
        if from_user == to_user:
            raise InvalidInput(N_("Vous ne pouvez pas vous proposer une conversation à vous-même."))
        now = self.clock.now()
        async with self.sessions.begin() as session:
            target = (
                await session.execute(
                    select(Membre)
                    .join(Profil, Profil.membre_id == Membre.id)
                    .where(Membre.guild_id == guild_id, Membre.user_id == to_user, listed())
                )
            ).scalar_one_or_none()
            if target is None:
                raise NotFound(N_("Cette personne n'est pas dans l'annuaire."))
            sender = await repo.upsert_membre(
                session, guild_id, from_user, now, display_name=display_name, locale=locale
            )
            for membre_id in sorted((sender.id, target.id)):
                await lock_membre(session, membre_id)
            between = (
                (
                    await session.execute(
                        select(ConversationProposal).where(
                            or_(
                                (ConversationProposal.from_membre_id == sender.id)
                                & (ConversationProposal.to_membre_id == target.id),
                                (ConversationProposal.from_membre_id == target.id)
                                & (ConversationProposal.to_membre_id == sender.id),
                            )
                        )
                    )
                )
                .scalars()
                .all()
            )
            if any(p.status == ProposalStatus.PENDING for p in between):
                raise Conflict(
                    N_("Une proposition de conversation entre vous deux est déjà en attente.")
                )
            if any(
                p.status == ProposalStatus.DECLINED
                and p.from_membre_id == sender.id
                and p.answered_at is not None
                and p.answered_at > now - DECLINE_COOLDOWN
                for p in between
            ):
                raise Conflict(
                    N_(
                        "Cette personne a décliné votre dernière proposition ; vous pourrez en "
                        "refaire une dans quelques mois."
                    )
                )
            pending = (
                await session.execute(
                    select(func.count()).where(
                        ConversationProposal.from_membre_id == sender.id,
                        ConversationProposal.status == ProposalStatus.PENDING,
                    )
                )
            ).scalar_one()
            if pending >= PENDING_PROPOSALS_MAX:
                raise Conflict(
                    N_(
                        "Vous avez déjà {max} propositions en attente : attendez une réponse "
                        "avant d'en faire d'autres."
                    ),
                    max=PENDING_PROPOSALS_MAX,
                )
            proposal = ConversationProposal(
                guild_id=guild_id,
                from_membre_id=sender.id,
                to_membre_id=target.id,
                status=ProposalStatus.PENDING,
                created_at=now,
            )
            session.add(proposal)
            await session.flush()
            info = await self._info(session, proposal)
        log.info(
            "guild %s: proposal %s from membre %s to membre %s",
            guild_id,
            info.id,
            info.from_membre_id,
            info.to_membre_id,
        )
        return info

    async def accept(self, proposal_id: int, by_user: int) -> ProposalInfo:
        """The invited member accepts; the cog then opens a private thread with both."""
        return await self._answer(proposal_id, by_user, ProposalStatus.ACCEPTED)

    async def decline(self, proposal_id: int, by_user: int) -> ProposalInfo:
        return await self._answer(proposal_id, by_user, ProposalStatus.DECLINED)

    async def get_proposal(self, proposal_id: int) -> ProposalInfo:
        async with self.sessions() as session:
            proposal = await session.get(ConversationProposal, proposal_id)
            if proposal is None:
                raise NotFound(N_("Proposition n° {id} introuvable."), id=proposal_id)
            return await self._info(session, proposal)

    async def set_thread(self, proposal_id: int, thread_id: int) -> None:
        """Remember the private thread opened for an accepted proposal."""
        async with self.sessions.begin() as session:
            proposal = await session.get(ConversationProposal, proposal_id)
            if proposal is None:
                raise NotFound(N_("Proposition n° {id} introuvable."), id=proposal_id)
            if proposal.status != ProposalStatus.ACCEPTED:
                raise Conflict(N_("Cette proposition n'a pas été acceptée."))
            proposal.thread_id = thread_id

    async def _answer(self, proposal_id: int, by_user: int, status: ProposalStatus) -> ProposalInfo:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            proposal = (
                await session.execute(
                    select(ConversationProposal)
                    .where(ConversationProposal.id == proposal_id)
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if proposal is None:
                raise NotFound(N_("Proposition n° {id} introuvable."), id=proposal_id)
            invited = await session.get(Membre, proposal.to_membre_id)
            if invited is None or invited.user_id != by_user:
                raise Forbidden(N_("Seule la personne invitée peut répondre à cette proposition."))
            if proposal.status != ProposalStatus.PENDING:
                raise Conflict(N_("Cette proposition a déjà reçu une réponse."))
            proposal.status = status
            proposal.answered_at = now
            await session.flush()
            info = await self._info(session, proposal)
        log.info("proposal %s %s", proposal_id, status.value)
        return info

    @staticmethod
    async def _info(session: AsyncSession, proposal: ConversationProposal) -> ProposalInfo:
        sender = await session.get(Membre, proposal.from_membre_id)
        invited = await session.get(Membre, proposal.to_membre_id)
        if sender is None or invited is None or None in (sender.user_id, invited.user_id):
            raise NotFound(N_("Proposition n° {id} introuvable."), id=proposal.id)
        assert sender.user_id is not None and invited.user_id is not None
        return ProposalInfo(
            id=proposal.id,
            guild_id=proposal.guild_id,
            from_membre_id=sender.id,
            to_membre_id=invited.id,
            from_user_id=sender.user_id,
            to_user_id=invited.user_id,
            status=ProposalStatus(proposal.status),
            created_at=proposal.created_at,
            answered_at=proposal.answered_at,
            thread_id=proposal.thread_id,
            from_locale=sender.locale,
            to_locale=invited.locale,
        )
