"""Calendars: members' private feed addresses and the séances a change removed."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base


class CalendrierJeton(Base):
    """A member's private feed address (``/calendrier/<token>.ics``). Only the SHA-256 of the
    token is kept: the address is shown once, and ``/calendrier renouveler:oui`` replaces it."""

    __tablename__ = "calendrier_jeton"

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("guild.id", ondelete="CASCADE"), index=True
    )
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class SeanceRetiree(Base):
    """A séance that ``/atelier modifier`` removed: calendars that hold it learn it is
    cancelled (STATUS:CANCELLED under the same UID) instead of keeping a stale entry."""

    __tablename__ = "seance_retiree"

    id: Mapped[int] = mapped_column(primary_key=True)
    seance_id: Mapped[int] = mapped_column(Integer)
    atelier_id: Mapped[int] = mapped_column(
        ForeignKey("atelier.id", ondelete="CASCADE"), index=True
    )
    local_date: Mapped[date] = mapped_column(Date)
    local_time: Mapped[time | None] = mapped_column(Time)
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    removed_at: Mapped[datetime]
