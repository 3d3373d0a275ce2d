"""The bot killed (SIGKILL) and started again on the same database loses nothing and
duplicates nothing; SIGTERM closes it cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.harness import STAFF_ROLE, Server
from tests.e2e.processes import BotProcess
from tests.fakediscord import ChannelType, FakeDiscord

#: About the database itself: on SQLite and PostgreSQL (tests/e2e/conftest.py).
pytestmark = pytest.mark.both_databases

CHANNELS = "/guilds/{guild_id}/channels"
ROLES = "/guilds/{guild_id}/roles"


def _env(server: Server, db_url: str) -> dict[str, str]:
    return {
        "PARTAGE_DATABASE__URL": db_url,
        "PARTAGE_DISCORD__GUILD_ID": str(server.guild.id),
        "PARTAGE_DISCORD__STAFF_ROLE": STAFF_ROLE,
    }


async def test_sigkill_then_restart_loses_and_duplicates_nothing(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake = fake_discord
    bot = BotProcess(fake, _env(server, db_url), tmp_path / "bot.log")
    await bot.start()
    try:
        await fake.wait_until(lambda: len(fake.calls("POST", CHANNELS)) >= 9, timeout=60)
        created = fake.slash(
            "chantier creer",
            user=server.staff,
            channel=server.general,
            options={"nom": "Petite enfance"},
        )
        await created.wait_followups(1, timeout=20)
        await bot.kill()
        channels = len(fake.calls("POST", CHANNELS))
        roles = len(fake.calls("POST", ROLES))
        assert (channels, roles) == (12, 4)  # 3 × (category, channel, forum) + 3; 3 + 1 roles

        await bot.start()
        await fake.wait_for_bot(1, timeout=60)
        answer = await fake.slash(
            "chantiers", user=server.alice, channel=server.general, locale="fr"
        ).response(timeout=60)
        names = [f["name"] for f in answer.data["embeds"][0]["fields"]]
        assert any("Petite enfance" in n for n in names)  # nothing lost
        await asyncio.sleep(1.0)  # give a wrongly re-provisioning bot the time to show itself
        assert len(fake.calls("POST", CHANNELS)) == channels  # nothing duplicated
        assert len(fake.calls("POST", ROLES)) == roles
        texts = [c.name for c in fake.channels_in(server.guild, type=ChannelType.TEXT)]
        assert sorted(texts) == sorted(set(texts))
        assert await bot.terminate() == 0, bot.log()[-2000:]
        assert "SIGTERM received" in bot.log()
    finally:
        if bot.proc and bot.proc.returncode is None:
            await bot.kill()
