"""Between the ateliers: personnes-ressources, questions routed to them, the library of documents
attached to ateliers, the follow-up after an atelier and the « peut-être » nudges.

Questions and answers are members' content and stay in Discord: Partage keeps only ids, the
question's state, its keywords (folded word stems, for the FAQ) and who was asked when.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, str_enum


class EtatQuestion(enum.StrEnum):
    OUVERTE = "ouverte"
    RESOLUE = "resolue"


class PersonneRessource(Base):
    """A member who agreed to be mentioned on questions of a chantier (its « pôle
    d'expertise »), at most ``questions.weekly_cap`` times a week. Leaving deletes the row."""

    __tablename__ = "personne_ressource"
    __table_args__ = (UniqueConstraint("membre_id", "chantier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"), index=True)
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"))
    chantier_id: Mapped[int] = mapped_column(
        ForeignKey("chantier.id", ondelete="CASCADE"), index=True
    )
    consent_at: Mapped[datetime]


class Question(Base):
    """A question posted in a chantier's forum. ``mots_cles``: the folded stems of its title
    and text (what ``/faq`` searches), never the text itself. ``posting_at`` claims the post."""

    __tablename__ = "question"
    __table_args__ = (Index("ix_question_etat_asked_at", "etat", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"), index=True)
    chantier_id: Mapped[int | None] = mapped_column(
        ForeignKey("chantier.id", ondelete="SET NULL"), index=True
    )
    asker_membre_id: Mapped[int | None] = mapped_column(
        ForeignKey("membre.id", ondelete="SET NULL"), index=True
    )
    thread_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    etat: Mapped[EtatQuestion] = mapped_column(
        str_enum(EtatQuestion, "etat_question"), default=EtatQuestion.OUVERTE
    )
    mots_cles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    asked_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    bumped_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]


class QuestionMention(Base):
    """A personne-ressource mentioned on a question (at the post, or at the bump)."""

    __tablename__ = "question_mention"
    __table_args__ = (UniqueConstraint("question_id", "membre_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class Document(Base):
    """A document or link attached to an atelier: a link (``url``) or a file re-posted in the
    atelier's thread (``message_id``: Discord keeps the file, Partage only its message)."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(ForeignKey("guild.id", ondelete="CASCADE"), index=True)
    atelier_id: Mapped[int] = mapped_column(
        ForeignKey("atelier.id", ondelete="CASCADE"), index=True
    )
    titre: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1024))
    filename: Mapped[str | None] = mapped_column(String(200))
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    recherche_cle: Mapped[str] = mapped_column(Text, default="")
    added_by_user_id: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime]


class AtelierSuivi(Base):
    """The follow-up of an atelier after its last séance: claimed (``claimed_at``), then the
    poll and the « Je veux continuer » button posted in its thread; the gathering thread is
    opened at the first click."""

    __tablename__ = "atelier_suivi"

    atelier_id: Mapped[int] = mapped_column(
        ForeignKey("atelier.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    claimed_at: Mapped[datetime]
    poll_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    poll_message_id: Mapped[int | None] = mapped_column(BigInteger)
    gathering_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    #: The poll's counts once read back (answer text -> votes), for /statistiques.
    resultats: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Relance(Base):
    """The one « peut-être » nudge a member gets before a séance: the row is the claim."""

    __tablename__ = "relance"
    __table_args__ = (UniqueConstraint("seance_id", "membre_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seance_id: Mapped[int] = mapped_column(ForeignKey("seance.id", ondelete="CASCADE"))
    membre_id: Mapped[int] = mapped_column(ForeignKey("membre.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime]
