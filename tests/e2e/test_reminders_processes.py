"""Reminders across crashes and processes: ``python -m bot run`` in child processes against the
fake Discord, killed with SIGKILL, restarted, or run twice on one PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import SystemClock
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions.service import InscriptionService
from db.migrate import upgrade
from db.models import Rappel, RappelStatus, Reponse
from db.session import create_engine, session_factory
from tests.cogs.helpers import set_dm_reminders, unplanned_ateliers
from tests.e2e.harness import STAFF_ROLE, Server
from tests.e2e.processes import BotProcess
from tests.e2e.test_reminders import rappels, seance_at
from tests.fakediscord import FakeDiscord
from tests.fakediscord.models import Message

#: About the database itself: on SQLite and PostgreSQL (tests/e2e/conftest.py).
pytestmark = pytest.mark.both_databases


def _env(server: Server, db_url: str, offsets: str) -> dict[str, str]:
    return {
        "PARTAGE_DATABASE__URL": db_url,
        "PARTAGE_DISCORD__GUILD_ID": str(server.guild.id),
        "PARTAGE_DISCORD__STAFF_ROLE": STAFF_ROLE,
        "PARTAGE_REMINDERS__OFFSETS": offsets,
        "PARTAGE_REMINDERS__DIGEST": "",
    }


async def _atelier(
    db_url: str, server: Server, start: datetime, *, dm_users: tuple[int, ...]
) -> int:
    """An atelier written straight to the database, as ``python -m bot import`` would: the bots
    learn of it when they start (every atelier's plan is checked at start-up)."""
    await asyncio.to_thread(upgrade, db_url)
    engine = create_engine(db_url)
    try:
        sessions = session_factory(engine)
        clock = SystemClock()
        ateliers = unplanned_ateliers(sessions, clock)
        info = await ateliers.create(
            server.guild.id, AtelierDraft(titre="Gestion des actifs", seances=[seance_at(start)])
        )
        await ateliers.set_announcement(info.id, channel_id=server.general.id, message_id=None)
        rsvp = InscriptionService(sessions, clock)
        for user_id in dm_users:
            await rsvp.answer(server.guild.id, info.id, user_id, Reponse.OUI)
            await set_dm_reminders(sessions, clock, server.guild.id, user_id, True)
        return info.id
    finally:
        await engine.dispose()


async def _statuses(db_url: str) -> list[RappelStatus]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            rows = await s.scalars(select(Rappel.status).order_by(Rappel.due_at))
            return [RappelStatus(r) for r in rows]
    finally:
        await engine.dispose()


async def _until_sent(db_url: str, n: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while (await _statuses(db_url)).count(RappelStatus.SENT) < n:
        assert time.monotonic() < deadline, "reminders not recorded as sent in time"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def _bots(
    fake: FakeDiscord, env: dict[str, str], tmp_path: Path, n: int = 1
) -> AsyncIterator[list[BotProcess]]:
    bots = [BotProcess(fake, env, tmp_path / f"bot{i}.log") for i in range(n)]
    try:
        yield bots
    finally:
        for bot in bots:
            if bot.proc and bot.proc.returncode is None:
                await bot.kill()


#: Time for ``python -m bot run`` to start (lease, migrations, gateway) before the first reminder
#: comes due, with room for a machine loaded by another test suite.
STARTUP = 12


def _posted(fake: FakeDiscord, server: Server) -> list[Message]:
    return rappels(fake.channel_messages(server.general))


async def test_sigkill_between_two_reminders_sends_each_once(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    start = SystemClock().now() + timedelta(seconds=24 + STARTUP)
    await _atelier(db_url, server, start, dm_users=())
    first_due, second_due = start - timedelta(seconds=20), start - timedelta(seconds=3)
    async with _bots(fake, _env(server, db_url, "20s,3s"), tmp_path) as (bot,):
        await bot.start()
        await fake.wait_until(lambda: len(_posted(fake, server)) == 1, timeout=30)
        await _until_sent(db_url, 1)
        await bot.kill()  # between the two reminders
        (first,) = _posted(fake, server)
        assert abs((first.created_at - first_due).total_seconds()) < 2.0

        bot.log_path = tmp_path / "bot-restarted.log"
        await bot.start()
        await fake.wait_until(lambda: len(_posted(fake, server)) >= 2, timeout=30)
        await asyncio.sleep(1.0)
        posts = _posted(fake, server)
        assert [p.id for p in posts[:1]] == [first.id] and len(posts) == 2  # first never again
        second = posts[1]
        assert abs((second.created_at - second_due).total_seconds()) < 2.0
        assert "retard" not in str(second.embeds)
        assert await bot.terminate() == 0, bot.log()[-3000:]
    assert (await _statuses(db_url))[:2] == [RappelStatus.SENT, RappelStatus.SENT]


async def test_a_reminder_due_during_the_downtime_arrives_once_marked_late(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    # The second reminder is due 12 s before the séance: the restarted bot has 11.5 s to come
    # up and send it late (a loaded machine can take several seconds to start a process).
    start = SystemClock().now() + timedelta(seconds=25 + STARTUP)
    await _atelier(db_url, server, start, dm_users=(server.alice.id,))
    async with _bots(fake, _env(server, db_url, "20s,12s"), tmp_path) as (bot,):
        await bot.start()
        await fake.wait_until(lambda: len(_posted(fake, server)) == 1, timeout=30)
        await _until_sent(db_url, 1)
        await bot.kill()
        # Down while the 12 s reminder comes due; back before the séance begins.
        back_at = start - timedelta(seconds=11.5)
        await asyncio.sleep(max((back_at - SystemClock().now()).total_seconds(), 0))
        bot.log_path = tmp_path / "bot-restarted.log"
        await bot.start()
        await fake.wait_until(lambda: len(_posted(fake, server)) >= 2, timeout=30)
        await asyncio.sleep(1.0)
        first, late = _posted(fake, server)
        assert "retard" not in str(first.embeds)
        assert "Envoyé en retard" in late.embeds[0]["description"]
        assert late.created_at < start
        dms = fake.dms(server.alice)
        assert len(dms) == 2 and "Envoyé en retard" in str(dms[1].embeds)
        assert await bot.terminate() == 0, bot.log()[-3000:]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # one database, shared
async def test_two_processes_on_one_postgresql_send_every_reminder_once(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    start = SystemClock().now() + timedelta(seconds=12 + STARTUP)
    users = (server.alice.id, server.bob.id, server.staff.id)
    await _atelier(db_url, server, start, dm_users=users)
    async with _bots(fake, _env(server, db_url, "6s,5s,4s,3s"), tmp_path, n=2) as bots:
        await asyncio.gather(*(b.start() for b in bots))
        await fake.wait_for_bot(1, timeout=30)
        await fake.wait_until(
            lambda: any("waiting as standby" in b.log() for b in bots), timeout=10
        )
        (holder,) = [b for b in bots if "waiting as standby" not in b.log()]
        (standby,) = [b for b in bots if b is not holder]
        await fake.wait_until(lambda: len(_posted(fake, server)) >= 4, timeout=30)
        await fake.wait_until(lambda: all(len(fake.dms(u)) >= 4 for u in users), timeout=5)
        await asyncio.sleep(1.5)
        posts = _posted(fake, server)
        assert len(posts) == 4 and len({p.nonce for p in posts}) == 4
        for user_id in users:
            dms = fake.dms(user_id)
            assert len(dms) == 4 and len({m.nonce for m in dms}) == 4
        # Only the lease holder connected and scheduled; the standby only waited.
        assert len(fake.sessions) == 1
        assert "reminders: 5 jobs scheduled" in holder.log()
        assert "jobs scheduled" not in standby.log()
        claimed = re.findall(r"rappel (\d+) claimed by", holder.log())
        assert len(claimed) >= 4 and len(claimed) == len(set(claimed))
        codes = await asyncio.gather(*(b.terminate() for b in bots))
        assert codes == [0, 0], "\n".join(b.log()[-2000:] for b in bots)
    assert (await _statuses(db_url))[:4] == [RappelStatus.SENT] * 4
