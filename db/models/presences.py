"""Attendance (who came to a séance) and co-hosts (members with staff rights on one atelier)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base


class Presence(Base):
    """A member who came to a séance: by the « Je suis là » button (``marked_by_user_id`` is
    None) or marked by staff or a co-host. ``inscrit``: they were expected at the séance when
    marked; otherwise they came without registering (a walk-in)."""

    __tablename__ = "presence"
    __table_args__ = (UniqueConstraint("seance_id", "membre_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    seance_id: Mapped[int] = mapped_column(ForeignKey("seance.id", ondelete="CASCADE"))
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"), index=True)
    inscrit: Mapped[bool] = mapped_column(Boolean)
    marked_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime]


class Coanimateur(Base):
    """A member who co-hosts one atelier: staff rights on that atelier only."""

    __tablename__ = "coanimateur"
    __table_args__ = (UniqueConstraint("atelier_id", "membre_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    atelier_id: Mapped[int] = mapped_column(ForeignKey("atelier.id", ondelete="CASCADE"))
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"), index=True)
    added_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
