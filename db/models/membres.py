"""Member profiles (given with consent), the directory's conversation proposals, the jumelage
between municipalities, and departures waiting for their grace period.

Everything here exists only with the member's consent (Loi 25) and is erased with the profile,
except the jumelage history (who was paired with whom), which is erased by a full erasure.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, str_enum


class Region(enum.StrEnum):
    """Québec's 17 administrative regions, stored by their official code."""

    BAS_SAINT_LAURENT = "01"
    SAGUENAY_LAC_SAINT_JEAN = "02"
    CAPITALE_NATIONALE = "03"
    MAURICIE = "04"
    ESTRIE = "05"
    MONTREAL = "06"
    OUTAOUAIS = "07"
    ABITIBI_TEMISCAMINGUE = "08"
    COTE_NORD = "09"
    NORD_DU_QUEBEC = "10"
    GASPESIE_ILES_DE_LA_MADELEINE = "11"
    CHAUDIERE_APPALACHES = "12"
    LAVAL = "13"
    LANAUDIERE = "14"
    LAURENTIDES = "15"
    MONTEREGIE = "16"
    CENTRE_DU_QUEBEC = "17"

    @property
    def code(self) -> str:
        return self.value

    @property
    def nom(self) -> str:
        """The official French name (a proper noun: the same in every language)."""
        return REGION_NOMS[self]


REGION_NOMS: dict[Region, str] = {
    Region.BAS_SAINT_LAURENT: "Bas-Saint-Laurent",
    Region.SAGUENAY_LAC_SAINT_JEAN: "Saguenay–Lac-Saint-Jean",
    Region.CAPITALE_NATIONALE: "Capitale-Nationale",
    Region.MAURICIE: "Mauricie",
    Region.ESTRIE: "Estrie",
    Region.MONTREAL: "Montréal",
    Region.OUTAOUAIS: "Outaouais",
    Region.ABITIBI_TEMISCAMINGUE: "Abitibi-Témiscamingue",
    Region.COTE_NORD: "Côte-Nord",
    Region.NORD_DU_QUEBEC: "Nord-du-Québec",
    Region.GASPESIE_ILES_DE_LA_MADELEINE: "Gaspésie–Îles-de-la-Madeleine",
    Region.CHAUDIERE_APPALACHES: "Chaudière-Appalaches",
    Region.LAVAL: "Laval",
    Region.LANAUDIERE: "Lanaudière",
    Region.LAURENTIDES: "Laurentides",
    Region.MONTEREGIE: "Montérégie",
    Region.CENTRE_DU_QUEBEC: "Centre-du-Québec",
}


class ProposalStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Profil(Base):
    """What a member chose to tell about their work, stored only after their consent.

    ``municipalite_cle`` (accents and case folded) matches spellings of the same municipality;
    ``recherche_cle`` is the folded role and expertise the directory searches in.
    """

    __tablename__ = "profil"

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"), index=True)
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"), unique=True)
    municipalite: Mapped[str | None] = mapped_column(String(100))
    municipalite_cle: Mapped[str | None] = mapped_column(String(100), index=True)
    region: Mapped[Region | None] = mapped_column(str_enum(Region, "region"))
    fonction: Mapped[str | None] = mapped_column(String(100))
    expertise: Mapped[list[Any]] = mapped_column(JSON, default=list)
    recherche_cle: Mapped[str] = mapped_column(Text, default="")
    visible_annuaire: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime]
    consent_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProfilChantier(Base):
    """A chantier a member is interested in (directory filter, jumelage conversation topic)."""

    __tablename__ = "profil_chantier"

    profil_id: Mapped[int] = mapped_column(
        ForeignKey("profil.id", ondelete="CASCADE"), primary_key=True
    )
    chantier_id: Mapped[int] = mapped_column(
        ForeignKey("chantier.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ConversationProposal(Base):
    """A member, from the directory, proposes a conversation to another; once accepted the bot
    opens a private thread with both."""

    __tablename__ = "conversation_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"), index=True)
    from_membre_id: Mapped[int] = mapped_column(
        ForeignKey("membre.id", ondelete="CASCADE"), index=True
    )
    to_membre_id: Mapped[int] = mapped_column(
        ForeignKey("membre.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ProposalStatus] = mapped_column(
        str_enum(ProposalStatus, "proposal_status"), default=ProposalStatus.PENDING
    )
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class JumelageParticipant(Base):
    """A member who joined the jumelage; leaving deletes the row. ``snoozed_until`` skips
    rounds until then."""

    __tablename__ = "jumelage_participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"), index=True)
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"), unique=True)
    snoozed_until: Mapped[datetime | None]
    joined_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class JumelageRound(Base):
    """One round of the jumelage on a server. Who took part is in its pairs."""

    __tablename__ = "jumelage_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"), index=True)
    ran_at: Mapped[datetime]
    n_participants: Mapped[int] = mapped_column(Integer, default=0)
    n_left_out: Mapped[int] = mapped_column(Integer, default=0)


class JumelagePair(Base):
    """Two (or, once per round, three) members of different municipalities paired in a round.
    ``chantier_id`` is the shared interest used for the conversation starter."""

    __tablename__ = "jumelage_pair"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("jumelage_round.id", ondelete="CASCADE"), index=True
    )
    chantier_id: Mapped[int | None] = mapped_column(ForeignKey("chantier.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    checkin_due_at: Mapped[datetime] = mapped_column(index=True)
    checked_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class JumelagePairMembre(Base):
    """A member of a pair (or trio)."""

    __tablename__ = "jumelage_pair_membre"

    pair_id: Mapped[int] = mapped_column(
        ForeignKey("jumelage_pair.id", ondelete="CASCADE"), primary_key=True
    )
    membre_id: Mapped[int] = mapped_column(
        ForeignKey("membre.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MembreDepart(Base):
    """A member who left the server; erased after the grace period unless they come back."""

    __tablename__ = "membre_depart"

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"), index=True)
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"), unique=True)
    left_at: Mapped[datetime] = mapped_column(index=True)
