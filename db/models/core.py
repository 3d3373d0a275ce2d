"""Servers, chantiers, members, the audit log and the bot's own state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base


class Guild(Base):
    """A Discord server Partage serves, with its settings."""

    __tablename__ = "guild"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100), default="")
    digest_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class Chantier(Base):
    """A standing work stream, with the Discord ids of what was provisioned for it."""

    __tablename__ = "chantier"
    __table_args__ = (UniqueConstraint("guild_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(40))
    nom: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    emoji: Mapped[str] = mapped_column(String(16), default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    from_config: Mapped[bool] = mapped_column(Boolean, default=False)
    category_id: Mapped[int | None] = mapped_column(BigInteger)
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    forum_id: Mapped[int | None] = mapped_column(BigInteger)
    role_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]


class Membre(Base):
    """A member of a server as far as Partage needs to know them.

    ``user_id`` and ``display_name`` are the only identifying fields; erasing a member sets both to
    NULL (pseudonymization) so the counts of past ateliers stay right.
    """

    __tablename__ = "membre"
    __table_args__ = (UniqueConstraint("guild_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    display_name: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    dm_reminders: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    pseudonymized_at: Mapped[datetime | None]


class AuditLog(Base):
    """What staff did, for accountability."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    atelier_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime]


class BotState(Base):
    """Small key/value facts the bot keeps between runs (e.g. the hash of the last command sync)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
