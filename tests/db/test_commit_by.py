"""``commit_by``: a write use case commits within its deadline, or rolls back and says so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Guild
from db.session import CommitTooLate, Sessions, commit_by


async def _guilds(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(Guild))).scalar_one()


async def _add_guild(sessions: Sessions, guild_id: int, *, pause: float = 0.0) -> None:
    async with sessions.begin() as session:
        session.add(Guild(id=guild_id, name="", created_at=datetime.now(UTC)))
        await session.flush()
        await asyncio.sleep(pause)


async def test_a_change_ready_in_time_commits(sessions: Sessions) -> None:
    with commit_by(5.0):
        await _add_guild(sessions, 1)
    assert await _guilds(sessions) == 1


async def test_a_change_ready_too_late_is_rolled_back(sessions: Sessions) -> None:
    with pytest.raises(CommitTooLate), commit_by(0.05):
        await _add_guild(sessions, 1, pause=0.15)
    assert await _guilds(sessions) == 0
    await _add_guild(sessions, 2, pause=0.15)  # outside the block: no deadline
    assert await _guilds(sessions) == 1


async def test_the_deadline_binds_the_calling_task_only(sessions: Sessions) -> None:
    """A task started during a command (the reminders' sweep after its commit) copies the
    command's context; its writes are not held to the command's deadline."""
    with commit_by(0.01):
        late = asyncio.create_task(_add_guild(sessions, 1, pause=0.1))
    await late
    assert await _guilds(sessions) == 1
