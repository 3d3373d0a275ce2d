"""Typed interfaces through which one feature's Discord adapter asks another's, without
importing it (STYLE.md: one feature's adapter never imports another's). A feature provides an
implementation when its cog loads; a caller asks for the interface by its class."""

from __future__ import annotations

import logging
from typing import Protocol, TypeVar, cast

import discord

log = logging.getLogger(__name__)

T = TypeVar("T")


class ConsentPrompt(Protocol):
    """The profile feature: ask a member's consent (the purpose, what is kept, withdrawable),
    with ``lead`` saying why it is asked now."""

    async def ask_consent(
        self, interaction: discord.Interaction, lead: str | None = None
    ) -> None: ...


class CalendarFiles(Protocol):
    """The calendars feature: an atelier's ``.ics`` file (« Ajouter à mon calendrier »), as
    ``discord.File``, in ``locale``; ``lien``: with the meeting link (for a member who holds a
    place). None when the atelier is gone."""

    async def atelier_file(
        self, guild_id: int, atelier_id: int, locale: str, *, lien: bool, version: int | None
    ) -> discord.File | None: ...


async def calendar_file(
    ports: Ports,
    guild_id: int,
    atelier_id: int,
    locale: str,
    *,
    user_id: int,
    version: int | None = None,
) -> discord.File | None:
    """The atelier's ``.ics`` with its meeting link for a member who holds a place, when the
    calendars feature is loaded; None otherwise, or when the file cannot be made (the message
    it rides on goes out without it). ``version``: the atelier's version as the caller just
    read it; the same file may then be served again without reading the atelier (a burst of
    answers to one atelier renders it once)."""
    files = ports.find(CalendarFiles)
    if files is None:
        return None
    try:
        return await files.atelier_file(guild_id, atelier_id, locale, lien=True, version=version)
    except Exception:
        log.exception("atelier %s: no .ics for user %s", atelier_id, user_id)
        return None


class Ports:
    def __init__(self) -> None:
        self._provided: dict[type, object] = {}

    def provide(self, port: type[T], implementation: T) -> None:
        self._provided[port] = implementation

    def find(self, port: type[T]) -> T | None:
        """The implementation, or None when no loaded feature provides ``port``."""
        return cast(T | None, self._provided.get(port))

    def get(self, port: type[T]) -> T:
        try:
            return cast(T, self._provided[port])
        except KeyError:
            raise RuntimeError(f"no feature provides {port.__name__}") from None
