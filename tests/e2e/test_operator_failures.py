"""What an operator meets when Discord refuses the bot: ``python -m bot run`` against the fake
Discord, as in production, ends with one line saying what to do, exit code 2, no traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.harness import STAFF_ROLE, Server
from tests.e2e.processes import BotProcess
from tests.fakediscord import FakeDiscord
from tests.fakediscord.gateway import Intent
from tests.french import fr

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _env(server: Server, db_url: str, **extra: str) -> dict[str, str]:
    return {
        "PARTAGE_DATABASE__URL": db_url,
        "PARTAGE_DISCORD__GUILD_ID": str(server.guild.id),
        "PARTAGE_DISCORD__STAFF_ROLE": STAFF_ROLE,
        "LANG": "fr_CA.UTF-8",
        **extra,
    }


async def _ends(bot: BotProcess) -> tuple[int, list[str]]:
    assert bot.proc is not None
    code = await asyncio.wait_for(bot.proc.wait(), 60)
    return code, bot.log().strip().splitlines()


async def test_a_refused_token_is_one_line(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    env = _env(server, db_url, DISCORD_TOKEN="M" * 24 + ".faux.jeton")
    bot = BotProcess(fake_discord, env, tmp_path / "bot.log")
    await bot.start()
    code, lines = await _ends(bot)
    assert code == 2, lines
    assert lines[-1] == fr(
        "Discord refuse le jeton du bot : dans le portail des développeurs (Bot → Reset "
        "Token), copiez un nouveau jeton dans discord.token ou DISCORD_TOKEN."
    )
    assert not any("Traceback" in line for line in lines)


async def test_the_members_intent_not_enabled_is_one_line_in_english_too(
    fake_discord: FakeDiscord, server: Server, db_url: str, tmp_path: Path
) -> None:
    fake_discord.privileged_intents = Intent.PRIVILEGED & ~Intent.GUILD_MEMBERS
    bot = BotProcess(fake_discord, _env(server, db_url, LANG="en_CA.UTF-8"), tmp_path / "bot.log")
    await bot.start()
    code, lines = await _ends(bot)
    assert code == 2, lines
    assert lines[-1] == (
        'Discord refuses the connection: enable "Server Members Intent" in the Developer '
        "Portal (Bot → Privileged Gateway Intents), then start again."
    )
    assert not any("Traceback" in line for line in lines)
