"""Builders shared by service tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.dates import SeanceSpec

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
