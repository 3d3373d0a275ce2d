"""Builders shared by service tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.dates import SeanceSpec
from cogs.ateliers.service import AtelierService
from cogs.reminders.service import RappelService
from db.session import Sessions

ZONE = "America/Toronto"
GUILD = 1_000_000_000_000_001


def seance(day: date, at: time | None = time(13, 30), minutes: int = 90) -> SeanceSpec:
    """A séance at a wall-clock time in Montréal."""
    if at is None:
        start = datetime.combine(day, time(0), ZoneInfo(ZONE)).astimezone(UTC)
        return SeanceSpec(day, None, ZONE, start, None)
    start = datetime.combine(day, at, ZoneInfo(ZONE)).astimezone(UTC)
    return SeanceSpec(day, at, ZONE, start, start + timedelta(minutes=minutes))


def user(n: int) -> int:
    return 200_000_000_000_000_000 + n


def ateliers_service(sessions: Sessions, clock: Clock) -> AtelierService:
    """The ateliers' service as the composition root builds it: its reminder plan is written
    in its own transactions, with the default offsets (7 days, 1 day, 1 hour)."""
    offsets = Settings().reminders.offsets
    return AtelierService(sessions, clock, RappelService(sessions, clock, offsets, worker="test"))


class NoPlan:
    """A reminder plan that plans nothing: to test ``RappelService``'s own planning steps on
    ateliers written as an older version (or another process) left them."""

    async def plan_in(self, session: object, atelier: object, now: object) -> None:
        return None

    async def withdraw_in(self, session: object, atelier_id: int) -> None:
        return None


def unplanned_ateliers(sessions: Sessions, clock: Clock) -> AtelierService:
    return AtelierService(sessions, clock, NoPlan())


async def set_dm_reminders(
    sessions: Sessions, clock: Clock, guild_id: int, user_id: int, enabled: bool
) -> bool:
    """``/rappels``, through the reminders' service."""
    offsets = Settings().reminders.offsets
    service = RappelService(sessions, clock, offsets, worker="test")
    return await service.set_dm_reminders(guild_id, user_id, enabled)
