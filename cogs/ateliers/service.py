"""Ateliers: create, modify, cancel, list. No Discord here (STYLE.md rule 2)."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlparse

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.dates import SeanceSpec
from bot.errors import N_, Conflict, InvalidInput, NotFound, Quantity
from bot.shown_text import check_shown
from cogs.ateliers import calendar_checks, closing, notices
from cogs.ateliers import changes as changes_of
from cogs.ateliers.annonces import AnnonceSteps
from cogs.ateliers.info import (
    ATELIERS,
    AtelierChoice,
    AtelierInfo,
    CancelResult,
    ModifyResult,
    ParticipantRow,
    ParticipantsExport,
    Recipient,
    check_raison,
    load_info,
    load_infos,
)
from cogs.ateliers.series_steps import SeriesSteps
from cogs.inscriptions import waitlist
from cogs.presences.export import with_attendance
from db import repositories as repo
from db.models import (
    Atelier,
    Chantier,
    EtatAtelier,
    EtatInscription,
    Genre,
    Membre,
    Reponse,
    Seance,
    SeanceRetiree,
)
from db.session import notify_after_commit

log = logging.getLogger(__name__)

TITRE_MAX = 200
DESCRIPTION_MAX = 2000
LIEU_MAX = 200
LIEN_MAX = 512
CAPACITE_MAX = 10_000
DUREE_MIN, DUREE_MAX = 15, 720
SEANCES_MAX = 20
DEFAULT_LIEU = "visioconférence"


#: How long the next-atelier copy is trusted (a séance ending, another process's change).
NEXT_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class AtelierDraft:
    """What staff (or an import) gives to create an atelier."""

    titre: str
    seances: Sequence[SeanceSpec]
    chantier_id: int | None = None
    duree_minutes: int = 90
    lieu: str = DEFAULT_LIEU
    lien: str | None = None
    capacite: int | None = None
    genre: Genre = Genre.ATELIER
    description: str = ""
    organizer_user_id: int | None = None
    source_key: str | None = None
    #: Answers close then (``closing``); the announcement is due then (None: at once).
    cloture: datetime | None = None
    publie_le: datetime | None = None


@dataclass(frozen=True)
class AtelierChanges:
    """A modification: fields left at None are unchanged. ``clear_lien``/``clear_capacite`` remove
    the meeting link or the limit."""

    titre: str | None = None
    seances: Sequence[SeanceSpec] | None = None
    chantier_id: int | None = None
    duree_minutes: int | None = None
    lieu: str | None = None
    lien: str | None = None
    capacite: int | None = None
    genre: Genre | None = None
    description: str | None = None
    clear_lien: bool = False
    clear_capacite: bool = False
    cloture: datetime | None = None
    #: ``cloture`` as a delay before the atelier's first séance (each atelier of a series
    #: counts from its own).
    cloture_delay: timedelta | None = None
    clear_cloture: bool = False

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, False) for f in fields(self))


def validate_text(
    *, titre: str | None, description: str | None, lieu: str | None, lien: str | None
) -> None:
    """Refuse text that Discord could not show or that is not what it claims to be."""
    check_shown(titre, description, lieu)
    if titre is not None and not titre.strip():
        raise InvalidInput(N_("Le titre ne peut pas être vide."))
    if titre is not None and len(titre) > TITRE_MAX:
        raise InvalidInput(
            N_("Le titre dépasse {max} caractères ({n})."), max=TITRE_MAX, n=len(titre)
        )
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise InvalidInput(
            N_("La description dépasse {max} caractères ({n})."),
            max=DESCRIPTION_MAX,
            n=len(description),
        )
    if lieu is not None and not lieu.strip():
        raise InvalidInput(N_("Le lieu ne peut pas être vide."))
    if lieu is not None and len(lieu) > LIEU_MAX:
        raise InvalidInput(N_("Le lieu dépasse {max} caractères ({n})."), max=LIEU_MAX, n=len(lieu))
    if lien is not None:
        parsed = urlparse(lien.strip())
        if len(lien) > LIEN_MAX or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput(
                N_("Le lien « {lien} » n'est pas une adresse web (https://…)."), lien=lien[:100]
            )


def validate_numbers(*, duree_minutes: int | None, capacite: int | None) -> None:
    if duree_minutes is not None and not DUREE_MIN <= duree_minutes <= DUREE_MAX:
        raise InvalidInput(
            N_("La durée doit être entre {min} et {max} minutes (reçu : {n})."),
            min=DUREE_MIN,
            max=DUREE_MAX,
            n=duree_minutes,
        )
    if capacite is not None and not 1 <= capacite <= CAPACITE_MAX:
        raise InvalidInput(
            N_("La capacité doit être entre 1 et {max} (reçu : {n})."),
            max=Quantity(CAPACITE_MAX),
            n=Quantity(capacite),
        )


def validate_seances(seances: Sequence[SeanceSpec]) -> None:
    if not seances:
        raise InvalidInput(N_("Il faut au moins une séance."))
    if len(seances) > SEANCES_MAX:
        raise InvalidInput(N_("Au plus {max} séances par atelier."), max=SEANCES_MAX)


class ReminderPlan(Protocol):
    """The reminders feature, as the ateliers see it: the plan is written in the same
    transaction as the atelier's change (the composition root gives ``RappelService``)."""

    async def plan_in(self, session: AsyncSession, atelier: Atelier, now: datetime) -> None:
        """Bring the atelier's reminder rows to its plan (created, moved or withdrawn)."""
        ...

    async def withdraw_in(self, session: AsyncSession, atelier_id: int) -> None:
        """A cancelled atelier sends no more reminders."""
        ...


class AtelierService(SeriesSteps, AnnonceSteps):
    """The rules of ateliers, one transaction per use case (series: ``series_steps.py``;
    further announcements: ``annonces.py``)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        reminders: ReminderPlan,
        *,
        offer_hours: int = 0,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.reminders = reminders
        #: ``ateliers.offer_hours``: above 0, places freed by a change are offered.
        self.offer_hours = offer_hours
        #: Each guild's next atelier per chantier (``/chantiers``), cleared after every write
        #: of this service commits and re-read after ``NEXT_CACHE_SECONDS`` (a séance that
        #: ended, a change made by another process).
        self._next: dict[int, tuple[float, dict[int, tuple[str, datetime]]]] = {}
        self._generation = 0
        #: Reads of the next ateliers served from the database (tests).
        self.next_loads = 0
        on_commit = getattr(sessions, "on_commit", None)
        if on_commit is not None:
            on_commit(ATELIERS, self._changed)

    def _changed(self) -> None:
        self._generation += 1
        self._next.clear()

    async def _chantier(self, session: AsyncSession, guild_id: int, chantier_id: int) -> Chantier:
        chantier = await session.get(Chantier, chantier_id)
        if chantier is None or chantier.guild_id != guild_id:
            raise NotFound(N_("Chantier introuvable."))
        if chantier.archived:
            raise Conflict(
                N_("Le chantier « {nom} » est archivé : il n'accepte plus d'ateliers."),
                nom=chantier.nom,
            )
        return chantier

    async def create(
        self,
        guild_id: int,
        draft: AtelierDraft,
        *,
        actor_user_id: int | None = None,
        announce: bool = True,
        channel_id: int | None = None,
    ) -> AtelierInfo:
        """Save an atelier, plan its reminders and (``announce``) queue its announcement, in
        ``channel_id`` or its chantier's channel, with its séances as scheduled events."""
        (info,) = await self.create_many(
            guild_id, [draft], actor_user_id=actor_user_id, announce=announce, channel_id=channel_id
        )
        return info

    async def create_many(
        self,
        guild_id: int,
        drafts: Sequence[AtelierDraft],
        *,
        actor_user_id: int | None = None,
        announce: bool = True,
        channel_id: int | None = None,
        serie: bool = False,
    ) -> list[AtelierInfo]:
        """``create`` for several ateliers in one transaction; ``serie``: linked as a series
        (``serie_id``: the first one's id)."""
        for draft in drafts:
            validate_text(
                titre=draft.titre, description=draft.description, lieu=draft.lieu, lien=draft.lien
            )
            validate_numbers(duree_minutes=draft.duree_minutes, capacite=draft.capacite)
            validate_seances(draft.seances)
        now = self.clock.now()
        infos = []
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            await repo.ensure_guild(session, guild_id, now)
            serie_id: int | None = None
            for draft in drafts:
                atelier = await self._insert(session, guild_id, draft, now, actor_user_id)
                if serie:
                    serie_id = serie_id or atelier.id
                    atelier.serie_id = serie_id
                await session.flush()
                await self.reminders.plan_in(session, atelier, now)
                if announce:  # at once, or when it is due (publier-le)
                    notices.announce(
                        session, atelier, now, channel_id=channel_id, due_at=atelier.publie_le
                    )
                infos.append(await load_info(session, atelier))
        for info in infos:
            log.info(
                "atelier %s created in guild %s (%d séances, series %s)",
                info.id,
                guild_id,
                len(info.seances),
                info.serie_id,
            )
        return infos

    async def _insert(
        self,
        session: AsyncSession,
        guild_id: int,
        draft: AtelierDraft,
        now: datetime,
        actor_user_id: int | None,
    ) -> Atelier:
        if draft.chantier_id is not None:
            await self._chantier(session, guild_id, draft.chantier_id)
        atelier = Atelier(
            guild_id=guild_id,
            chantier_id=draft.chantier_id,
            genre=draft.genre,
            titre=draft.titre.strip(),
            description=draft.description.strip(),
            lieu=draft.lieu.strip(),
            lien=draft.lien.strip() if draft.lien else None,
            capacite=draft.capacite,
            duree_minutes=draft.duree_minutes,
            etat=EtatAtelier.PLANIFIE,
            organizer_user_id=draft.organizer_user_id,
            source_key=draft.source_key,
            cloture=draft.cloture,
            publie_le=draft.publie_le if draft.publie_le and draft.publie_le > now else None,
            version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(atelier)
        await session.flush()
        for spec in sorted(draft.seances, key=lambda s: s.starts_at):
            session.add(_seance_from_spec(atelier.id, spec))
        await repo.audit(
            session,
            guild_id=guild_id,
            actor_user_id=actor_user_id,
            action="atelier.create",
            atelier_id=atelier.id,
            details={"titre": atelier.titre, "seances": len(draft.seances)},
            at=now,
        )
        await session.flush()
        return atelier

    async def planning_warnings(
        self,
        guild_id: int,
        chantier_id: int | None,
        specs: Sequence[SeanceSpec],
        *,
        exclude: Sequence[int] = (),
    ) -> list[calendar_checks.PlanningWarning]:
        """Holidays and same-chantier overlaps of these séances (``calendar_checks``)."""
        async with self.sessions() as session:
            return await calendar_checks.planning_warnings(
                session, guild_id, chantier_id, specs, exclude=exclude
            )

    async def get(self, atelier_id: int, *, guild_id: int | None = None) -> AtelierInfo:
        async with self.sessions() as session:
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None or (guild_id is not None and atelier.guild_id != guild_id):
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            return await load_info(session, atelier)

    async def upcoming(
        self,
        guild_id: int,
        *,
        chantier_id: int | None = None,
        limit: int = 25,
        published_only: bool = False,
    ) -> list[AtelierInfo]:
        """``published_only``: leave out the ateliers whose publication is still ahead
        (``publier-le``: members do not see them yet)."""
        now = self.clock.now()
        async with self.sessions() as session:
            ateliers = await repo.upcoming_ateliers(
                session,
                guild_id,
                now,
                chantier_id=chantier_id,
                limit=limit,
                published_only=published_only,
            )
            return await load_infos(session, ateliers)

    async def next_by_chantier(self, guild_id: int) -> dict[int, tuple[str, datetime]]:
        """Each chantier's next planned atelier: its title and the start of its next séance
        (``/chantiers``), in one light query however many ateliers are planned."""
        cached = self._next.get(guild_id)
        if cached is not None and self.clock.monotonic() - cached[0] < NEXT_CACHE_SECONDS:
            return cached[1]
        generation = self._generation
        now = self.clock.now()
        first = (
            select(Seance.atelier_id, func.min(Seance.starts_at).label("first"))
            .where(repo.still_running(now))
            .group_by(Seance.atelier_id)
            .subquery()
        )
        async with self.sessions() as session:
            rows = await session.execute(
                select(Atelier.chantier_id, Atelier.titre, first.c.first)
                .join(first, first.c.atelier_id == Atelier.id)
                .where(
                    Atelier.guild_id == guild_id,
                    Atelier.etat == EtatAtelier.PLANIFIE,
                    Atelier.chantier_id.is_not(None),
                )
                .order_by(first.c.first, Atelier.id)
            )
            found: dict[int, tuple[str, datetime]] = {}
            for chantier_id, titre, starts in rows.tuples():
                found.setdefault(chantier_id, (titre, starts))
        if generation == self._generation:  # no write committed meanwhile
            self._next[guild_id] = (self.clock.monotonic(), found)
        self.next_loads += 1
        return found

    async def modify(
        self,
        guild_id: int,
        atelier_id: int,
        changes: AtelierChanges,
        *,
        actor_user_id: int | None = None,
    ) -> ModifyResult:
        if changes.is_empty():
            raise InvalidInput(N_("Rien à modifier : donnez au moins une option."))
        validate_text(
            titre=changes.titre,
            description=changes.description,
            lieu=changes.lieu,
            lien=changes.lien,
        )
        validate_numbers(duree_minutes=changes.duree_minutes, capacite=changes.capacite)
        if changes.seances is not None:
            validate_seances(changes.seances)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            result = await self._modify_in(
                session, guild_id, atelier_id, changes, actor_user_id, now
            )
        log.info("atelier %s modified: %s", atelier_id, ", ".join(result.changed))
        return result

    async def _modify_in(
        self,
        session: AsyncSession,
        guild_id: int,
        atelier_id: int,
        changes: AtelierChanges,
        actor_user_id: int | None,
        now: datetime,
    ) -> ModifyResult:
        atelier = await self._locked(session, guild_id, atelier_id)
        if atelier.etat == EtatAtelier.ANNULE:
            raise Conflict(N_("L'atelier « {titre} » est annulé."), titre=atelier.titre)
        changed: list[str] = []
        before = changes_of.fields_before(atelier, await self._nom(session, atelier))
        if changes.chantier_id is not None and changes.chantier_id != atelier.chantier_id:
            await self._chantier(session, guild_id, changes.chantier_id)
        counts = await repo.etat_counts(session, atelier.id)
        if changes.capacite is not None and changes.capacite < counts[EtatInscription.INSCRIT]:
            raise InvalidInput(
                N_("La capacité ({n}) est inférieure au nombre d'inscrits ({inscrits})."),
                n=changes.capacite,
                inscrits=counts[EtatInscription.INSCRIT],
            )
        for name in ("titre", "description", "lieu", "lien", "genre", "chantier_id"):
            value = getattr(changes, name)
            if isinstance(value, str):
                value = value.strip()
            if value is not None and value != getattr(atelier, name):
                setattr(atelier, name, value)
                changed.append(name)
        if changes.clear_lien and atelier.lien is not None:
            atelier.lien = None
            changed.append("lien")
        if changes.capacite is not None and changes.capacite != atelier.capacite:
            atelier.capacite = changes.capacite
            changed.append("capacite")
        if changes.clear_capacite and atelier.capacite is not None:
            atelier.capacite = None
            changed.append("capacite")
        if changes.duree_minutes is not None and changes.duree_minutes != atelier.duree_minutes:
            atelier.duree_minutes = changes.duree_minutes
            changed.append("duree")
        stale_events: list[int] = []
        match = None
        if changes.seances is not None:
            match = await self._replace_seances(session, atelier, changes.seances, stale_events)
            if match.changed:
                changed.append("dates")
        cloture = changes.cloture  # a delay counts from the séances as they now are
        if changes.cloture_delay is not None:
            first = min(s.starts_at for s in await repo.seances_of(session, atelier.id))
            cloture = first - changes.cloture_delay
        if cloture is not None and cloture != atelier.cloture:
            atelier.cloture = cloture
            changed.append("cloture")
        if changes.clear_cloture and atelier.cloture is not None:
            atelier.cloture = None
            changed.append("cloture")
        if not changed:
            raise InvalidInput(N_("Rien n'a changé : les valeurs données sont les mêmes."))
        atelier.version += 1
        atelier.updated_at = now
        promoted = await waitlist.promote(session, atelier, now, offer_hours=self.offer_hours)
        notify = await self._recipients(session, atelier.id)
        told = {p.user_id for p in promoted}
        others = [r for r in notify if r.user_id not in told]
        after = changes_of.fields_before(atelier, await self._nom(session, atelier))
        shown = changes_of.diff(before, after, changed, match)
        moves = await changes_of.moved_answers(session, match)
        notices.tell(
            session,
            atelier,
            others,
            notices.MODIFICATION,
            now,
            changed=changed,
            diff=shown,
            moves=moves,
        )
        await notices.tell_moved(session, atelier, moves, {r.membre_id for r in others}, now)
        notices.refresh(session, atelier, now)
        if not closing.unpublished(atelier.publie_le, now):  # its events come with it
            notices.sync_events(session, atelier, now, stale_events)
        await self.reminders.plan_in(session, atelier, now)
        await repo.audit(
            session,
            guild_id=guild_id,
            actor_user_id=actor_user_id,
            action="atelier.modify",
            atelier_id=atelier.id,
            details={"changed": changed},
            at=now,
        )
        await session.flush()
        info = await load_info(session, atelier)
        return ModifyResult(info, tuple(changed), tuple(promoted), tuple(notify))

    async def cancel(
        self,
        guild_id: int,
        atelier_id: int,
        *,
        raison: str | None = None,
        actor_user_id: int | None = None,
    ) -> CancelResult:
        check_raison(raison)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            result = await self._cancel_in(
                session, guild_id, atelier_id, raison, actor_user_id, now
            )
        log.info("atelier %s cancelled", atelier_id)
        return result

    async def _cancel_in(
        self,
        session: AsyncSession,
        guild_id: int,
        atelier_id: int,
        raison: str | None,
        actor_user_id: int | None,
        now: datetime,
    ) -> CancelResult:
        atelier = await self._locked(session, guild_id, atelier_id)
        if atelier.etat == EtatAtelier.ANNULE:
            raise Conflict(N_("L'atelier « {titre} » est déjà annulé."), titre=atelier.titre)
        atelier.etat = EtatAtelier.ANNULE
        atelier.raison_annulation = raison.strip() if raison else None
        atelier.version += 1
        atelier.updated_at = now
        notify = await self._recipients(session, atelier.id)
        notices.tell(session, atelier, notify, notices.ANNULATION, now)
        notices.refresh(session, atelier, now)
        notices.sync_events(session, atelier, now)
        await self.reminders.withdraw_in(session, atelier.id)
        await repo.audit(
            session,
            guild_id=guild_id,
            actor_user_id=actor_user_id,
            action="atelier.cancel",
            atelier_id=atelier.id,
            details={"raison": atelier.raison_annulation},
            at=now,
        )
        await session.flush()
        info = await load_info(session, atelier)
        return CancelResult(info, tuple(notify))

    async def announce(self, guild_id: int, atelier_id: int, channel_id: int) -> AtelierInfo:
        """Queue the announcement in ``channel_id``: posted again where it already is (the older
        one becomes a pointer to it), or a further live one in another channel."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            atelier = await self._locked(session, guild_id, atelier_id)
            if atelier.etat == EtatAtelier.ANNULE:
                raise Conflict(N_("L'atelier « {titre} » est annulé."), titre=atelier.titre)
            if closing.unpublished(atelier.publie_le, now):
                atelier.publie_le = None  # announced by hand: published now
            notices.announce(session, atelier, now, channel_id=channel_id)
            return await load_info(session, atelier)

    async def set_announcement(
        self,
        atelier_id: int,
        *,
        channel_id: int | None,
        message_id: int | None,
        thread_id: int | None = None,
        then: bool = False,
    ) -> None:
        """Remember where the announcement (and its thread) lives; ``then``: queue the scheduled
        events (they link to the announcement)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            atelier.announcement_channel_id = channel_id
            atelier.announcement_message_id = message_id
            if thread_id is not None:
                atelier.thread_id = thread_id
            if then:
                notices.sync_events(session, atelier, now)

    async def queue_events(self, atelier_id: int) -> None:
        """Queue the mirror of the atelier's séances as scheduled events."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            atelier = await session.get(Atelier, atelier_id)
            if atelier is not None:
                notices.sync_events(session, atelier, now)

    async def queue_refresh(self, atelier_id: int) -> None:
        """Queue an edit of the announcement (answers came in while it was being posted)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            atelier = await session.get(Atelier, atelier_id)
            if atelier is not None:
                notices.refresh(session, atelier, now)

    async def set_scheduled_event(self, seance_id: int, event_id: int | None) -> None:
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            seance = await session.get(Seance, seance_id)
            if seance is not None:
                seance.scheduled_event_id = event_id

    async def _locked(self, session: AsyncSession, guild_id: int, atelier_id: int) -> Atelier:
        atelier = await repo.lock_atelier(session, atelier_id)
        if atelier is None or atelier.guild_id != guild_id:
            raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
        return atelier

    async def _replace_seances(
        self,
        session: AsyncSession,
        atelier: Atelier,
        specs: Sequence[SeanceSpec],
        stale_events: list[int],
    ) -> changes_of.SeanceMatch:
        """Bring the séances to ``specs`` (``changes.match_seances``: a séance at an unchanged
        time keeps its row and its answers; the others move in order, their answers with
        them); extra ones are added or removed."""
        match = changes_of.match_seances(await repo.seances_of(session, atelier.id), specs)
        for seance, spec in match.kept:
            seance.local_date = spec.local_date
            seance.local_time = spec.local_time
            seance.timezone = spec.zone
            seance.starts_at = spec.starts_at
            seance.ends_at = spec.ends_at
        for seance in match.removed:
            if seance.scheduled_event_id is not None:
                stale_events.append(seance.scheduled_event_id)
            # Calendars that hold it learn it is cancelled (cogs/calendrier).
            session.add(
                SeanceRetiree(
                    seance_id=seance.id,
                    atelier_id=atelier.id,
                    local_date=seance.local_date,
                    local_time=seance.local_time,
                    timezone=seance.timezone,
                    starts_at=seance.starts_at,
                    ends_at=seance.ends_at,
                    removed_at=self.clock.now(),
                )
            )
            await session.delete(seance)
        for spec in match.added:
            session.add(_seance_from_spec(atelier.id, spec))
        await session.flush()
        return match

    async def _nom(self, session: AsyncSession, atelier: Atelier) -> str | None:
        """The name of the atelier's chantier (a notice says before → after)."""
        if atelier.chantier_id is None:
            return None
        chantier = await session.get(Chantier, atelier.chantier_id)
        return chantier.nom if chantier else None

    async def _recipients(self, session: AsyncSession, atelier_id: int) -> list[Recipient]:
        """Registered and waiting members, to tell of a change."""
        rows = await repo.members_with_etat(
            session, atelier_id, [EtatInscription.INSCRIT, EtatInscription.ATTENTE]
        )
        out = []
        for inscription, membre in rows:
            if membre.user_id is None:
                continue
            out.append(
                Recipient(
                    membre_id=membre.id,
                    user_id=membre.user_id,
                    locale=membre.locale,
                    etat=EtatInscription(inscription.etat),
                    position=await waitlist.position(session, inscription),
                )
            )
        return out

    # --- autocomplete and the participants export (the Discord adapter's needs) -----

    async def choices(
        self,
        guild_id: int,
        needle: str = "",
        *,
        upcoming_only: bool = True,
        limit: int = 25,
        published_only: bool = False,
    ) -> list[AtelierChoice]:
        """Ateliers whose title (accents ignored) or number contains ``needle``: the upcoming
        planned ones, soonest first; or (``upcoming_only=False``) every atelier, newest first."""
        wanted = _fold(needle.strip().lstrip("#"))
        now = self.clock.now()
        async with self.sessions() as session:
            if upcoming_only:
                ateliers = list(await repo.upcoming_ateliers(session, guild_id, now))
            else:
                ateliers = list(
                    (
                        await session.execute(
                            select(Atelier)
                            .where(Atelier.guild_id == guild_id)
                            .order_by(Atelier.id.desc())
                            .limit(500)
                        )
                    )
                    .scalars()
                    .all()
                )
            matching = [a for a in ateliers if wanted in _fold(a.titre) or wanted == str(a.id)]
            if published_only:  # publier-le: members do not see it yet
                matching = [a for a in matching if not closing.unpublished(a.publie_le, now)]
            matching = matching[:limit]
            rows = await session.execute(
                select(Seance.atelier_id, func.min(Seance.starts_at))
                .where(Seance.atelier_id.in_([a.id for a in matching]))
                .group_by(Seance.atelier_id)
            )
            starts = {atelier_id: first for atelier_id, first in rows.tuples()}
        return [
            AtelierChoice(a.id, a.titre, starts.get(a.id), a.etat == EtatAtelier.ANNULE)
            for a in matching
        ]

    async def participants(
        self, guild_id: int, atelier_id: int, *, actor_user_id: int | None
    ) -> ParticipantsExport:
        """Every member's answer to an atelier (waiting list in order, per-séance exceptions),
        written to the audit log as ``atelier.export`` in the same transaction."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            notify_after_commit(session, ATELIERS)
            atelier = await session.get(Atelier, atelier_id)
            if atelier is None or atelier.guild_id != guild_id:
                raise NotFound(N_("Atelier n° {id} introuvable."), id=atelier_id)
            info = await load_info(session, atelier)
            pairs = await repo.members_with_etat(session, atelier_id, list(EtatInscription))
            answers = await repo.seance_reponses(session, [s.id for s in info.seances])
            by_membre: dict[int, dict[int, Reponse]] = {}
            for answer in answers:
                by_membre.setdefault(answer.membre_id, {})[answer.seance_id] = Reponse(
                    answer.reponse
                )
            rows: list[ParticipantRow] = []
            position = 0
            for inscription, membre in pairs:
                etat = EtatInscription(inscription.etat)
                if etat == EtatInscription.ATTENTE:
                    position += 1
                rows.append(
                    ParticipantRow(
                        membre_id=membre.id,
                        user_id=membre.user_id,
                        display_name=membre.display_name,
                        etat=etat,
                        position=position if etat == EtatInscription.ATTENTE else None,
                        seance_reponses=by_membre.pop(membre.id, {}),
                        created_at=inscription.created_at,
                        updated_at=inscription.updated_at,
                        inscrit_at=inscription.inscrit_at,
                    )
                )
            for membre_id, seance_reponses in by_membre.items():  # one séance only, no inscription
                membre = await session.get(Membre, membre_id)
                rows.append(
                    ParticipantRow(
                        membre_id=membre_id,
                        user_id=membre.user_id if membre else None,
                        display_name=membre.display_name if membre else None,
                        etat=None,
                        position=None,
                        seance_reponses=seance_reponses,
                        created_at=None,
                        updated_at=max(
                            a.updated_at
                            for a in answers
                            if a.membre_id == membre_id and a.seance_id in seance_reponses
                        ),
                        inscrit_at=None,
                    )
                )
            rows = await with_attendance(session, [s.id for s in info.seances], rows)
            await repo.audit(
                session,
                guild_id=guild_id,
                actor_user_id=actor_user_id,
                action="atelier.export",
                atelier_id=atelier_id,
                details={"rows": len(rows)},
                at=now,
            )
        log.info(
            "atelier %s: participants exported by %s (%d rows)",
            atelier_id,
            actor_user_id,
            len(rows),
        )
        return ParticipantsExport(info, tuple(rows))


def _seance_from_spec(atelier_id: int, spec: SeanceSpec) -> Seance:
    return Seance(
        atelier_id=atelier_id,
        local_date=spec.local_date,
        local_time=spec.local_time,
        timezone=spec.zone,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
    )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
