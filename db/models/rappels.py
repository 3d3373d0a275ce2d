"""The reminder plan and its deliveries. The database is the truth; the scheduler a cache."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, str_enum
from db.models.enums import DeliveryStatus, RappelKind, RappelStatus


class Rappel(Base):
    """One planned message for one séance: a reminder at an offset, the start, or the follow-up."""

    __tablename__ = "rappel"
    __table_args__ = (
        UniqueConstraint("seance_id", "kind", "offset_seconds"),
        Index("ix_rappel_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seance_id: Mapped[int] = mapped_column(ForeignKey("seance.id", ondelete="CASCADE"))
    kind: Mapped[RappelKind] = mapped_column(str_enum(RappelKind, "rappel_kind"))
    offset_seconds: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    status: Mapped[RappelStatus] = mapped_column(
        str_enum(RappelStatus, "rappel_status"), default=RappelStatus.PLANNED
    )
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))


class Livraison(Base):
    """One delivery of a reminder: the channel post (``target='channel'``) or a DM to a member
    (``target='dm:<membre id>'``). Claimed before sending, like the reminder itself."""

    __tablename__ = "livraison"
    __table_args__ = (UniqueConstraint("rappel_id", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rappel_id: Mapped[int] = mapped_column(ForeignKey("rappel.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(40))
    membre_id: Mapped[int | None] = mapped_column(
        ForeignKey("membre.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    nonce: Mapped[str] = mapped_column(String(25))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
