"""Fixtures for the fake's own tests: the fake, a small world, and a minimal real bot."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import ChannelType, FakeDiscord, run_bot
from tests.fakediscord.fixtures import fake_discord  # noqa: F401
from tests.fakediscord.models import Channel, Guild, Member, Role

log = logging.getLogger(__name__)


@dataclass
class Scene:
    guild: Guild
    general: Channel
    category: Channel
    forum: Channel
    voice: Channel
    volunteer: Role
    alice: Member
    bob: Member


@pytest.fixture
def world(fake_discord: FakeDiscord) -> Scene:  # noqa: F811
    fake = fake_discord
    guild = fake.add_guild("Partage Test", locale="fr")
    volunteer = fake.add_role(guild, "Bénévole")
    category = fake.add_channel(guild, "Opérations", type=ChannelType.CATEGORY)
    general = fake.add_channel(guild, "general", parent=category)
    forum = fake.add_channel(guild, "demandes", type=ChannelType.FORUM, tags=["urgent", "info"])
    voice = fake.add_channel(guild, "Vocal", type=ChannelType.VOICE)
    alice = fake.add_member(guild, "alice", roles=[volunteer])
    bob = fake.add_member(guild, "bob")
    return Scene(guild, general, category, forum, voice, volunteer, alice, bob)


class FrenchTranslator(app_commands.Translator):
    """Gives every command a French name/description so syncs carry localizations."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContext,
    ) -> str | None:
        if locale is not discord.Locale.french:
            return None
        return {"hello": "bonjour", "Say hello": "Dire bonjour"}.get(string.message)


class MiniBot(commands.Bot):
    """A minimal real discord.py bot used to exercise the fake."""

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
        self.ready_count = 0
        self.seen: list[str] = []

    async def setup_hook(self) -> None:
        await self.tree.set_translator(FrenchTranslator())

    async def on_ready(self) -> None:
        self.ready_count += 1


def make_bot() -> MiniBot:
    return MiniBot()


@pytest_asyncio.fixture
async def bot(fake_discord: FakeDiscord, world: Scene) -> AsyncIterator[MiniBot]:  # noqa: F811
    async with run_bot(make_bot(), fake_discord) as running:
        yield running
