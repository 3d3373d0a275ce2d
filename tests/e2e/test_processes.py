"""Two ``python -m bot run`` processes on one token and one database: the lease lets one of them
serve, the other waits as a standby and takes over when the first is killed."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.harness import STAFF_ROLE, Server
from tests.e2e.processes import BotProcess
from tests.fakediscord import ChannelType, FakeDiscord

#: About the database itself: on SQLite and PostgreSQL (tests/e2e/conftest.py).
pytestmark = pytest.mark.both_databases

CHANNELS = "/guilds/{guild_id}/channels"
ROLES = "/guilds/{guild_id}/roles"
CALLBACK = "/interactions/{interaction_id}/{token}/callback"


def _env(server: Server, db_url: str, **extra: str) -> dict[str, str]:
    return {
        "PARTAGE_DATABASE__URL": db_url,
        "PARTAGE_DISCORD__GUILD_ID": str(server.guild.id),
        "PARTAGE_DISCORD__STAFF_ROLE": STAFF_ROLE,
        **extra,
    }


async def _answered(fake: FakeDiscord, server: Server, n: int) -> None:
    handles = [
        fake.slash("chantiers", user=server.alice, channel=server.general, locale="fr")
        for _ in range(n)
    ]
    for handle in handles:
        await handle.response(timeout=20)
    await asyncio.sleep(0.5)  # a second answer would come now
    assert [len(h.callbacks) for h in handles] == [1] * n


@pytest.mark.parametrize("db_url", ["postgresql", "sqlite"], indirect=True)
async def test_two_processes_answer_once_provision_once_and_the_standby_takes_over(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    first = BotProcess(fake, _env(server, db_url), tmp_path / "first.log")
    second = BotProcess(fake, _env(server, db_url), tmp_path / "second.log")
    try:
        await first.start()
        await fake.wait_until(lambda: len(fake.calls("POST", CHANNELS)) >= 9, timeout=60)
        await second.start()
        await fake.wait_until(lambda: "waiting as standby" in second.log(), timeout=30)
        assert len(fake.sessions) == 1  # the standby never connects to the gateway

        await _answered(fake, server, 5)
        channels, roles = len(fake.calls("POST", CHANNELS)), len(fake.calls("POST", ROLES))
        assert (channels, roles) == (9, 3)  # 3 × (category, channel, forum); 3 roles

        await first.kill()
        killed = time.monotonic()
        await fake.wait_until(lambda: "took over as standby" in second.log(), timeout=30)
        await fake.wait_for_bot(1, timeout=30)
        answer = await fake.slash(
            "chantiers", user=server.alice, channel=server.general, locale="fr"
        ).response(timeout=30)
        assert answer.data["embeds"], answer.data
        assert time.monotonic() - killed < 30
        await _answered(fake, server, 3)
        await asyncio.sleep(1.0)  # give a wrongly re-provisioning bot the time to show itself

        assert len(fake.calls("POST", CHANNELS)) == channels  # provisioned once, not again
        assert len(fake.calls("POST", ROLES)) == roles
        texts = [c.name for c in fake.channels_in(server.guild, type=ChannelType.TEXT)]
        assert sorted(texts) == sorted(set(texts))
        per_interaction = Counter(r.path for r in fake.calls("POST", CALLBACK))
        assert set(per_interaction.values()) == {1}
        for bot in (first, second):
            assert "40060" not in bot.log(), bot.log()[-3000:]
        assert await second.terminate() == 0, second.log()[-3000:]
    finally:
        for bot in (first, second):
            if bot.proc and bot.proc.returncode is None:
                await bot.kill()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_second_process_without_standby_refuses_with_one_line(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    first = BotProcess(fake, _env(server, db_url), tmp_path / "first.log")
    refused = BotProcess(
        fake, _env(server, db_url, PARTAGE_PROCESSES__STANDBY="false"), tmp_path / "second.log"
    )
    try:
        await first.start()
        await fake.wait_for_bot(1, timeout=60)
        await refused.start()
        assert refused.proc is not None
        assert await asyncio.wait_for(refused.proc.wait(), 30) == 2
        lines = [line for line in refused.log().splitlines() if line.strip()]
        assert len(lines) == 1, lines
        assert "détient le fragment 0/1" in lines[0] and "ne démarre pas" in lines[0]
        assert "(processus " in lines[0] and " sur " in lines[0]  # the holder, in French
        assert len(fake.sessions) == 1
        assert await first.terminate() == 0, first.log()[-3000:]
    finally:
        for bot in (first, refused):
            if bot.proc and bot.proc.returncode is None:
                await bot.kill()
