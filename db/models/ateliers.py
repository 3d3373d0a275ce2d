"""Ateliers, their séances, and members' inscriptions."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    DDL,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, str_enum
from db.models.enums import EtatAtelier, EtatInscription, Genre, Reponse


class Atelier(Base):
    """A workshop, référentiel, training or exchange session of one or several séances."""

    __tablename__ = "atelier"
    __table_args__ = (UniqueConstraint("guild_id", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"), index=True)
    chantier_id: Mapped[int | None] = mapped_column(
        ForeignKey("chantier.id", ondelete="SET NULL"), index=True
    )
    genre: Mapped[Genre] = mapped_column(str_enum(Genre, "genre"), default=Genre.ATELIER)
    titre: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    lieu: Mapped[str] = mapped_column(String(200))
    lien: Mapped[str | None] = mapped_column(String(512))
    capacite: Mapped[int | None] = mapped_column(Integer)
    duree_minutes: Mapped[int] = mapped_column(Integer, default=90)
    etat: Mapped[EtatAtelier] = mapped_column(
        str_enum(EtatAtelier, "etat_atelier"), default=EtatAtelier.PLANIFIE
    )
    raison_annulation: Mapped[str | None] = mapped_column(String(500))
    organizer_user_id: Mapped[int | None] = mapped_column(BigInteger)
    source_key: Mapped[str | None] = mapped_column(String(200))
    announcement_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    announcement_message_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Staff operations (issue 12): the series an atelier belongs to (the id of its first
    # atelier), when answers close, and when its announcement is due (None: at once).
    serie_id: Mapped[int | None] = mapped_column(Integer, index=True)
    cloture: Mapped[datetime | None]
    publie_le: Mapped[datetime | None]

    seances: Mapped[list[Seance]] = relationship(
        back_populates="atelier",
        order_by="Seance.starts_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Seance(Base):
    """One meeting of an atelier. The wall-clock date/time and zone are kept beside the UTC
    instant; a séance may have a date without a time (as in the historical programme)."""

    __tablename__ = "seance"

    id: Mapped[int] = mapped_column(primary_key=True)
    atelier_id: Mapped[int] = mapped_column(
        ForeignKey("atelier.id", ondelete="CASCADE"), index=True
    )
    local_date: Mapped[date] = mapped_column(Date)
    local_time: Mapped[time | None] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None]
    scheduled_event_id: Mapped[int | None] = mapped_column(BigInteger)

    atelier: Mapped[Atelier] = relationship(back_populates="seances")


class Inscription(Base):
    """A member's answer for a whole atelier. ``rang_attente`` orders the waiting list: the
    position shown to members is the rank among those still waiting."""

    __tablename__ = "inscription"
    __table_args__ = (
        UniqueConstraint("atelier_id", "membre_id"),
        Index("ix_inscription_atelier_etat", "atelier_id", "etat", "rang_attente"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    atelier_id: Mapped[int] = mapped_column(ForeignKey("atelier.id", ondelete="CASCADE"))
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"), index=True)
    etat: Mapped[EtatInscription] = mapped_column(str_enum(EtatInscription, "etat_inscription"))
    rang_attente: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    inscrit_at: Mapped[datetime | None]
    #: A place offered from the waiting list (``ateliers.offer_hours``): held for the member
    #: until this moment, then it goes to the next in line unless they took it. The row is the
    #: timer; the scheduler's job is rebuilt from it at start-up.
    offre_expire_le: Mapped[datetime | None] = mapped_column(index=True)


#: SQLite: a newcomer's member row and their inscription in one statement (the answers' hot
#: path, ``cogs.inscriptions.batch``): an insert into this view runs both inserts inside SQLite.
#: The caller gives the member's id (it holds the write lock and read the next one). PostgreSQL
#: does the same with a data-modifying WITH and needs no view. Migration 0010 creates them in
#: existing databases.
REPONSE_NOUVEAU_MEMBRE = (
    "CREATE VIEW reponse_nouveau_membre AS SELECT m.id AS membre_id, m.guild_id, m.user_id,"
    " m.display_name, m.locale, m.dm_reminders, m.created_at, i.atelier_id, i.etat,"
    " i.rang_attente, i.inscrit_at FROM membre AS m JOIN inscription AS i ON i.membre_id = m.id",
    "CREATE TRIGGER reponse_nouveau_membre_insert INSTEAD OF INSERT ON reponse_nouveau_membre"
    " BEGIN"
    " INSERT INTO membre (id, guild_id, user_id, display_name, locale, dm_reminders, created_at)"
    " VALUES (NEW.membre_id, NEW.guild_id, NEW.user_id, NEW.display_name, NEW.locale,"
    " NEW.dm_reminders, NEW.created_at);"
    " INSERT INTO inscription (atelier_id, membre_id, etat, rang_attente, inscrit_at, created_at,"
    " updated_at) VALUES (NEW.atelier_id, NEW.membre_id, NEW.etat, NEW.rang_attente,"
    " NEW.inscrit_at, NEW.created_at, NEW.created_at);"
    " END",
)
for _ddl in REPONSE_NOUVEAU_MEMBRE:
    event.listen(Inscription.__table__, "after_create", DDL(_ddl).execute_if(dialect="sqlite"))
event.listen(
    Inscription.__table__,
    "before_drop",
    DDL("DROP VIEW IF EXISTS reponse_nouveau_membre").execute_if(dialect="sqlite"),
)


class SeanceReponse(Base):
    """A per-séance exception to the atelier answer (a member may skip one séance of a cycle)."""

    __tablename__ = "seance_reponse"
    __table_args__ = (UniqueConstraint("seance_id", "membre_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seance_id: Mapped[int] = mapped_column(ForeignKey("seance.id", ondelete="CASCADE"))
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"), index=True)
    reponse: Mapped[Reponse] = mapped_column(str_enum(Reponse, "reponse"))
    updated_at: Mapped[datetime]


class Annonce(Base):
    """A further live announcement of an atelier, posted by ``/atelier annoncer`` in another
    channel (the first one is on the atelier itself). Every one is kept in step."""

    __tablename__ = "annonce"
    __table_args__ = (UniqueConstraint("atelier_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    atelier_id: Mapped[int] = mapped_column(
        ForeignKey("atelier.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
