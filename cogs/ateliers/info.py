"""What the ateliers feature returns: plain dataclasses read from the database, and the two
functions that build them. No Discord here; every feature may import these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import N_, InvalidInput
from bot.shown_text import check_shown
from db import repositories as repo
from db.models import Atelier, EtatAtelier, EtatInscription, Genre, Reponse, Seance

#: The topic the ateliers' write use cases name (``notify_after_commit``): the service's caches
#: are cleared when a transaction naming it commits.
ATELIERS = "ateliers"
RAISON_MAX = 500


def check_raison(raison: str | None) -> None:
    """A cancellation's reason, as members will read it: shown text, at most ``RAISON_MAX``."""
    check_shown(raison)
    if raison is not None and len(raison) > RAISON_MAX:
        raise InvalidInput(
            N_("La raison dépasse {max} caractères ({n})."), max=RAISON_MAX, n=len(raison)
        )


@dataclass(frozen=True)
class SeanceInfo:
    id: int
    starts_at: datetime
    ends_at: datetime | None
    local_date: date
    local_time: time | None
    zone: str
    scheduled_event_id: int | None


@dataclass(frozen=True)
class Counts:
    inscrits: int
    attente: int
    peut_etre: int
    non: int
    capacite: int | None

    @property
    def places_restantes(self) -> int | None:
        """None when the atelier has no limit."""
        return None if self.capacite is None else max(self.capacite - self.inscrits, 0)


@dataclass(frozen=True)
class AtelierInfo:
    id: int
    guild_id: int
    chantier_id: int | None
    genre: Genre
    titre: str
    description: str
    lieu: str
    lien: str | None
    capacite: int | None
    duree_minutes: int
    etat: EtatAtelier
    raison_annulation: str | None
    organizer_user_id: int | None
    announcement_channel_id: int | None
    announcement_message_id: int | None
    thread_id: int | None
    version: int
    seances: tuple[SeanceInfo, ...]
    counts: Counts
    #: Staff operations (issue 12): the series (its first atelier's id), when answers close,
    #: when the announcement is due (None: at once).
    serie_id: int | None = None
    cloture: datetime | None = None
    publie_le: datetime | None = None

    @property
    def cancelled(self) -> bool:
        return self.etat == EtatAtelier.ANNULE


@dataclass(frozen=True)
class Recipient:
    """A member to tell something (promotion, change, cancellation), in their language."""

    membre_id: int
    user_id: int
    locale: str
    etat: EtatInscription
    position: int | None = None


@dataclass(frozen=True)
class ModifyResult:
    atelier: AtelierInfo
    changed: tuple[str, ...]
    promoted: tuple[Recipient, ...]
    notify: tuple[Recipient, ...]


@dataclass(frozen=True)
class CancelResult:
    atelier: AtelierInfo
    notify: tuple[Recipient, ...] = field(default_factory=tuple)


def seance_info(s: Seance) -> SeanceInfo:
    return SeanceInfo(
        id=s.id,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        local_date=s.local_date,
        local_time=s.local_time,
        zone=s.timezone,
        scheduled_event_id=s.scheduled_event_id,
    )


def atelier_info(
    a: Atelier, seances: Sequence[Seance], counts: dict[EtatInscription, int]
) -> AtelierInfo:
    return AtelierInfo(
        id=a.id,
        guild_id=a.guild_id,
        chantier_id=a.chantier_id,
        genre=Genre(a.genre),
        titre=a.titre,
        description=a.description,
        lieu=a.lieu,
        lien=a.lien,
        capacite=a.capacite,
        duree_minutes=a.duree_minutes,
        etat=EtatAtelier(a.etat),
        raison_annulation=a.raison_annulation,
        organizer_user_id=a.organizer_user_id,
        announcement_channel_id=a.announcement_channel_id,
        announcement_message_id=a.announcement_message_id,
        thread_id=a.thread_id,
        version=a.version,
        seances=tuple(seance_info(s) for s in seances),
        counts=counts_of(counts, a.capacite),
        serie_id=a.serie_id,
        cloture=a.cloture,
        publie_le=a.publie_le,
    )


def counts_of(counts: dict[EtatInscription, int], capacite: int | None) -> Counts:
    """The counts shown, from the number of inscriptions in each state."""
    return Counts(
        inscrits=counts[EtatInscription.INSCRIT],
        attente=counts[EtatInscription.ATTENTE],
        peut_etre=counts[EtatInscription.PEUT_ETRE],
        non=counts[EtatInscription.NON],
        capacite=capacite,
    )


async def load_info(session: AsyncSession, a: Atelier) -> AtelierInfo:
    return atelier_info(
        a, await repo.seances_of(session, a.id), await repo.etat_counts(session, a.id)
    )


async def load_infos(session: AsyncSession, ateliers: Sequence[Atelier]) -> list[AtelierInfo]:
    """Many ateliers with their séances and counts: two queries, however many ateliers."""
    ids = [a.id for a in ateliers]
    seances = await repo.seances_of_many(session, ids)
    counts = await repo.etat_counts_many(session, ids)
    return [atelier_info(a, seances[a.id], counts[a.id]) for a in ateliers]


@dataclass(frozen=True)
class AtelierChoice:
    """An atelier as an autocomplete offers it."""

    id: int
    titre: str
    first_start: datetime | None
    cancelled: bool


@dataclass(frozen=True)
class ParticipantRow:
    """One member's answers to an atelier, for the staff's export."""

    membre_id: int
    user_id: int | None  # None once the member was erased (pseudonymized)
    display_name: str | None
    etat: EtatInscription | None  # None: answered one séance only
    position: int | None
    seance_reponses: dict[int, Reponse]
    created_at: datetime | None
    updated_at: datetime | None
    inscrit_at: datetime | None
    #: The séances they came to (attendance, ``cogs.presences``).
    presences: tuple[int, ...] = ()


@dataclass(frozen=True)
class ParticipantsExport:
    atelier: AtelierInfo
    rows: tuple[ParticipantRow, ...]
