"""The real Partage bot, built as ``python -m bot run`` builds it, against the fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.core import PartageBot
from db.migrate import upgrade
from partage.app import build_bot
from tests.fakediscord import FakeDiscord, run_bot
from tests.fakediscord.models import Channel, Guild, Member, Role
from tests.fakediscord.patience import patient
from tests.fakediscord.permissions import Perm

STAFF_ROLE = "Équipe d'animation"


@dataclass
class Server:
    """The Opération Partage server as the tests build it on the fake."""

    guild: Guild
    staff_role: Role
    general: Channel
    staff: Member
    alice: Member
    bob: Member


def build_server(fake: FakeDiscord) -> Server:
    guild = fake.add_guild("Opération Partage", locale="fr")
    staff_role = fake.add_role(guild, STAFF_ROLE)
    general = fake.add_channel(guild, "general")
    guild.system_channel_id = general.id
    staff = fake.add_member(guild, "animatrice", roles=[staff_role])
    alice = fake.add_member(guild, "alice")
    bob = fake.add_member(guild, "bob")
    return Server(guild, staff_role, general, staff, alice, bob)


#: The tests' fixed dates (« 3 décembre 2030 ») must stay ahead of the planning horizon for
#: years; ``tests/e2e/test_ateliers_input.py`` checks the default horizon (3 years).
TEST_HORIZON_YEARS = 10


def settings_for(fake: FakeDiscord, server: Server, db_url: str, **sections: Any) -> Settings:
    discord_section = {"token": fake.token, "guild_id": server.guild.id, "staff_role": STAFF_ROLE}
    discord_section.update(sections.pop("discord", {}))
    time_section = {"horizon_years": TEST_HORIZON_YEARS} | sections.pop("time", {})
    # The site binds a free port (tests never use a fixed one).
    web_section = {"port": 0} | sections.pop("web", {})
    return Settings(
        discord=discord_section,
        database={"url": db_url},
        time=time_section,
        web=web_section,
        **sections,
    )


@contextlib.asynccontextmanager
async def partage(
    fake: FakeDiscord, settings: Settings, *, clock: Clock | None = None
) -> AsyncIterator[PartageBot]:
    """Migrate, build the production bot, run it until ready and until start-up work (the
    provisioning of chantier spaces) is done; close it on exit."""
    await asyncio.to_thread(upgrade, settings.database.url)
    options: dict[str, Any] = {"guild_ready_timeout": 0.1}
    if clock is not None:
        options["clock"] = clock
    bot = build_bot(settings, **options)
    async with run_bot(bot, fake) as running:
        await settle(fake, running)
        yield running


async def settle(fake: FakeDiscord, bot: PartageBot, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until the bot saw every gateway event, its background tasks are done and its
    outbox has nothing due. (A gateway barrier costs the bot a heartbeat, and discord.py
    allows 120 a minute: the waiting in between polls the bot, not the gateway.)"""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patient(timeout)
    for _ in range(3):
        await fake.sync()
        while not (len(bot.tasks) == 0 and await bot.outbox.idle()):
            if loop.time() > deadline:
                raise TimeoutError("the bot did not settle in time")
            await asyncio.sleep(0.01)
        await fake.sync()
        if len(bot.tasks) == 0 and await bot.outbox.idle():
            return
    raise TimeoutError("the bot kept getting new work")


def bot_permissions_without(*bits: int) -> int:
    from tests.fakediscord.permissions import DEFAULT_BOT_PERMISSIONS

    value = DEFAULT_BOT_PERMISSIONS
    for bit in bits:
        value &= ~bit
    return value


__all__ = ["Perm", "Server", "build_server", "partage", "settings_for", "settle"]
