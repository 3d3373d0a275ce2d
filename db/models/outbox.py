"""The outbox: what the bot must say because something changed, written in the same
transaction as the change, and the intake of answers, written before they are acknowledged."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, str_enum


class OutboxKind(enum.StrEnum):
    NOTICE = "notice"  # a DM to a member about their atelier (a thread mention if DMs are closed)
    ANNOUNCE = "announce"  # post an atelier's announcement and open its thread
    REFRESH = "refresh"  # edit an atelier's announcement from the database
    EVENTS = "events"  # mirror an atelier's séances as Discord scheduled events
    WELCOME = "welcome"  # a new member's welcome
    QUESTION = "question"  # post a question in its chantier's forum, with its mentions
    BUMP = "bump"  # the one bump of an unanswered question (and one more personne-ressource)
    NUDGE = "nudge"  # the « peut-être » DM two days before a séance
    FOLLOWUP = "followup"  # the poll and the « Je veux continuer » button after the last séance


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting (first time, or for a retry at ``due_at``)
    SENDING = "sending"  # claimed by ``claimed_by``
    SENT = "sent"
    FAILED = "failed"  # for good: permanent error, out of time, or interrupted


class IntakeStatus(enum.StrEnum):
    RECEIVED = "received"  # saved, then acknowledged; not applied yet
    APPLIED = "applied"  # applied (or refused) in the database; the member not told yet
    ANSWERED = "answered"  # the member was told
    EXPIRED = "expired"  # the interaction's token died before the member could be told


class OutboxMessage(Base):
    """One message to deliver. ``topic`` groups rows that one delivery serves (every pending
    ``refresh`` of ``atelier:12`` is done by one edit)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due_at", "status", "due_at"),
        Index("ix_outbox_topic", "topic"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    #: The member the message is for (their Discord id), so an erasure removes it.
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    kind: Mapped[OutboxKind] = mapped_column(str_enum(OutboxKind, "outbox_kind"))
    topic: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    nonce: Mapped[str] = mapped_column(String(25))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(500))


class Intake(Base):
    """A click or ``/rsvp`` answer, saved before Discord is told it was received, so that an
    acknowledged answer survives a crash: applied and answered after the restart while its
    interaction token lives (15 minutes)."""

    __tablename__ = "intake"
    __table_args__ = (Index("ix_intake_status_received_at", "status", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    application_id: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[str] = mapped_column(String(500))
    guild_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    atelier_id: Mapped[int] = mapped_column(Integer)
    seance_id: Mapped[int | None] = mapped_column(Integer)
    reponse: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[IntakeStatus] = mapped_column(
        str_enum(IntakeStatus, "intake_status"), default=IntakeStatus.RECEIVED
    )
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
