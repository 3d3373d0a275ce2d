"""Gateway behaviour of the fake: login, READY/GUILD_CREATE, chunking, resume, reconnects."""

from __future__ import annotations

import asyncio
import logging

import discord
import pytest

from tests.fakediscord import FakeDiscord, Intent, install_from_env, run_bot
from tests.fakediscord.conftest import MiniBot, Scene, make_bot
from tests.fakediscord.install import ENV_REST

log = logging.getLogger(__name__)


async def test_login_ready_and_cache(fake_discord: FakeDiscord, world: Scene, bot: MiniBot) -> None:
    assert bot.ready_count == 1
    assert bot.user is not None and bot.user.id == fake_discord.bot_user.id
    assert bot.application_id == fake_discord.application_id
    guild = bot.get_guild(world.guild.id)
    assert guild is not None and guild.name == "Partage Test"
    assert {c.name for c in guild.channels} == {"Opérations", "general", "demandes", "Vocal"}
    general = guild.get_channel(world.general.id)
    assert isinstance(general, discord.TextChannel)
    assert general.category_id == world.category.id
    assert isinstance(guild.get_channel(world.forum.id), discord.ForumChannel)
    assert {r.name for r in guild.roles} >= {"@everyone", "Bénévole", "Partage"}
    # members intent: discord.py chunked the guild through op 8
    assert guild.chunked
    alice = guild.get_member(world.alice.id)
    assert alice is not None and [r.name for r in alice.roles[1:]] == ["Bénévole"]
    assert guild.me.guild_permissions.manage_channels
    assert not guild.me.guild_permissions.administrator
    assert fake_discord.calls("GET", "/users/@me")


async def test_second_bot_sees_state_of_first(fake_discord: FakeDiscord, world: Scene) -> None:
    async with run_bot(make_bot(), fake_discord) as first:
        guild = first.get_guild(world.guild.id)
        assert guild is not None
        channel = await guild.create_text_channel("created-by-first")
        role = await guild.create_role(name="Créé")
        session = fake_discord.sessions[0]
        assert session.connection is not None and session.connection.compress == "zlib-stream"
    await fake_discord.wait_until(lambda: not fake_discord.sessions)
    async with run_bot(make_bot(), fake_discord) as second:
        guild = second.get_guild(world.guild.id)
        assert guild is not None
        assert guild.get_channel(channel.id) is not None
        assert guild.get_role(role.id) is not None
    assert fake_discord.gateway.identify_count == 2


async def test_two_bots_at_once_get_every_dispatch(fake_discord: FakeDiscord, world: Scene) -> None:
    async with run_bot(make_bot(), fake_discord) as one, run_bot(make_bot(), fake_discord) as two:
        assert len(fake_discord.sessions) == 2
        guild_one = one.get_guild(world.guild.id)
        assert guild_one is not None
        channel = await guild_one.create_text_channel("partagé")
        await fake_discord.sync()
        guild_two = two.get_guild(world.guild.id)
        assert guild_two is not None and guild_two.get_channel(channel.id) is not None


async def test_resume_after_dropped_connection(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    bot.add_listener(on_resumed)
    session = fake_discord.sessions[0]
    await fake_discord.gateway.drop(session)
    # an event emitted while the bot is disconnected is replayed on RESUME
    channel = fake_discord.add_channel(world.guild, "pendant-la-coupure")
    await asyncio.wait_for(resumed.wait(), 5)
    await fake_discord.sync()
    assert fake_discord.gateway.resume_count == 1
    assert fake_discord.gateway.identify_count == 1
    guild = bot.get_guild(world.guild.id)
    assert guild is not None and guild.get_channel(channel.id) is not None


async def test_privileged_intent_refused_and_child_env(
    fake_discord: FakeDiscord, world: Scene
) -> None:
    env = fake_discord.child_env()
    assert env[ENV_REST] == fake_discord.rest_base
    assert install_from_env(env)  # what a bot in a child process would do
    fake_discord.privileged_intents = Intent.PRIVILEGED & ~Intent.GUILD_MEMBERS
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with run_bot(make_bot(), fake_discord):
            pass


async def test_world_changes_after_connect(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    joined: list[int] = []
    messages: list[discord.Message] = []

    async def on_guild_join(guild: discord.Guild) -> None:
        joined.append(guild.id)

    async def on_message(message: discord.Message) -> None:
        messages.append(message)

    bot.add_listener(on_guild_join)
    bot.add_listener(on_message)
    second = fake_discord.add_guild("Deuxième")
    fake_discord.add_channel(second, "accueil")
    await fake_discord.wait_until(lambda: joined)
    assert joined == [second.id]
    guild = bot.get_guild(second.id)
    assert guild is not None and [c.name for c in guild.channels] == ["accueil"]

    # Without the message content intent the bot sees the message but not its content,
    # unless it is mentioned.
    fake_discord.user_sends(world.general, world.alice, "salut tout le monde")
    fake_discord.user_sends(world.general, world.alice, f"<@{fake_discord.bot_user.id}> aide")
    await fake_discord.wait_until(lambda: len(messages) == 2)
    assert [m.content for m in messages] == ["", f"<@{fake_discord.bot_user.id}> aide"]
    assert messages[0].author.id == world.alice.id
