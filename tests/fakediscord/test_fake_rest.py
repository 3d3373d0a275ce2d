"""REST behaviour of the fake: state changes + gateway events, permissions, validation,
failure injection and rate limits, all through a real discord.py bot."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import re
import time

import discord
import pytest
from discord.http import Route

from tests.fakediscord import ChannelType, FakeDiscord, Perm
from tests.fakediscord.conftest import MiniBot, Scene

log = logging.getLogger(__name__)


def guild_of(bot: MiniBot, world: Scene) -> discord.Guild:
    guild = bot.get_guild(world.guild.id)
    assert guild is not None
    return guild


async def test_channel_role_and_member_role(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    guild = guild_of(bot, world)
    category = guild.get_channel(world.category.id)
    assert isinstance(category, discord.CategoryChannel)
    everyone = guild.default_role
    channel = await guild.create_text_channel(
        "Annonces Générales",
        category=category,
        overwrites={everyone: discord.PermissionOverwrite(send_messages=False)},
    )
    stored = fake_discord.channel(channel.id)
    assert stored.name == "annonces-générales"  # Discord normalises text channel names
    assert stored.parent_id == world.category.id
    assert stored.overwrites[world.guild.id].deny == Perm.SEND_MESSAGES

    role = await guild.create_role(
        name="Coordination", permissions=discord.Permissions(manage_messages=True)
    )
    member = guild.get_member(world.bob.id)
    assert member is not None
    await member.add_roles(role)
    assert [r.name for r in fake_discord.member_roles(world.guild, world.bob)] == ["Coordination"]

    await fake_discord.sync()  # every gateway event sent so far has been processed
    assert guild.get_channel(channel.id) is not None
    assert guild.get_role(role.id) is not None
    assert role in guild.get_member(world.bob.id).roles  # type: ignore[union-attr]
    # the new role went right above @everyone, below the bot's role
    assert guild.get_role(role.id).position == 1  # type: ignore[union-attr]
    assert guild.me.top_role > guild.get_role(role.id)  # type: ignore[operator]

    # changes made "by hand" in the fake reach the bot too
    fake_discord.delete_channel(fake_discord.channel(channel.id))
    fake_discord.delete_role(world.guild, fake_discord.role(world.guild, "Coordination"))
    newcomer = fake_discord.add_member(world.guild, "carol")
    await fake_discord.sync()
    assert guild.get_channel(channel.id) is None
    assert guild.get_role(role.id) is None
    assert guild.get_member(newcomer.id) is not None


async def test_role_hierarchy_and_missing_permissions(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    guild = guild_of(bot, world)
    high = fake_discord.add_role(world.guild, "Admin", position=10)
    await fake_discord.sync()
    member = guild.get_member(world.alice.id)
    assert member is not None
    with pytest.raises(discord.Forbidden) as info:
        await member.add_roles(guild.get_role(high.id))  # type: ignore[arg-type]
    assert info.value.code == 50013

    fake_discord.revoke_bot_permissions(world.guild, Perm.MANAGE_CHANNELS)
    await fake_discord.sync()
    with pytest.raises(discord.Forbidden) as info:
        await guild.create_text_channel("nope")
    assert info.value.code == 50013
    # a channel the bot cannot see
    fake_discord.set_overwrite(world.general, world.guild.id, deny=Perm.VIEW_CHANNEL)
    with pytest.raises(discord.Forbidden) as info:
        await bot.http.send_message(
            world.general.id, params=discord.http.handle_message_parameters("hi")
        )
    assert info.value.code == 50001


async def test_injected_failures(fake_discord: FakeDiscord, world: Scene, bot: MiniBot) -> None:
    guild = guild_of(bot, world)
    route = "/guilds/{guild_id}/channels"
    fake_discord.fail_next("POST", route, status=429, retry_after=0.3)
    start = time.monotonic()
    await guild.create_text_channel("after-429")
    assert time.monotonic() - start >= 0.3
    assert [c.status for c in fake_discord.calls("POST", route)] == [429, 201]
    assert fake_discord.served_429 == 1

    fake_discord.fail_next("POST", re.compile(r"/channels/\d+/messages$"), status=500)
    channel = guild.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    msg = await channel.send("survived a 500")
    assert fake_discord.served_5xx == 1
    assert fake_discord.channel_messages(world.general)[-1].id == msg.id

    window = fake_discord.fail_for("POST", re.compile(r"/channels/\d+/messages$"), 0.5)
    statuses = lambda: [c.status for c in fake_discord.calls("POST", window.route)]  # noqa: E731
    before = len(statuses())
    msg = await channel.send("after an outage")  # discord.py retries a 502 after 1 s
    assert statuses()[before:] == [502, 200] and window.served == 1
    assert time.monotonic() >= window.until

    fake_discord.close_dms(world.alice)
    alice = guild.get_member(world.alice.id)
    assert alice is not None
    with pytest.raises(discord.Forbidden) as info:
        await alice.send("hello")
    assert info.value.code == 50007
    fake_discord.open_dms(world.alice)
    await alice.send("hello again")
    assert [m.content for m in fake_discord.dms(world.alice)] == ["hello again"]


async def test_validation_like_discord(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as info:
        await channel.send("x" * 2001)
    assert info.value.status == 400 and info.value.code == 50035
    assert (
        "content"
        in fake_discord.calls("POST", "/channels/{channel_id}/messages")[-1].response["errors"]
    )

    row = [{"type": 2, "style": 1, "label": str(i), "custom_id": f"b{i}"} for i in range(6)]
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
    with pytest.raises(discord.HTTPException) as info:
        await bot.http.request(
            route, json={"content": "six", "components": [{"type": 1, "components": row}]}
        )
    assert info.value.code == 50035
    with pytest.raises(discord.HTTPException):
        await channel.send(embed=discord.Embed(title="t" * 257))
    with pytest.raises(discord.HTTPException) as info:
        await bot.http.request(route, json={"content": ""})
    assert info.value.code == 50006
    with pytest.raises(discord.HTTPException):
        await channel.send(embed=discord.Embed(description="d" * 4097))
    alice = str(world.alice.id)
    with pytest.raises(discord.HTTPException) as info:
        await bot.http.request(
            route,
            json={
                "content": f"<@{alice}>",
                "allowed_mentions": {"parse": ["users"], "users": [alice]},
            },
        )
    assert "allowed_mentions" in info.value.text
    assert fake_discord.channel_messages(world.general) == []
    ok = await channel.send(
        f"<@{alice}> <@{world.bob.id}>",
        allowed_mentions=discord.AllowedMentions(users=[discord.Object(world.alice.id)]),
    )
    assert fake_discord.messages[ok.id].mention_user_ids == [world.alice.id]


async def test_unknown_route_is_recorded(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    guild = guild_of(bot, world)
    with pytest.raises(discord.NotFound):
        await guild.fetch_emojis()
    assert [(r.method, r.path) for r in fake_discord.unknown_requests] == [
        ("GET", f"/guilds/{world.guild.id}/emojis")
    ]
    with pytest.raises(AssertionError, match="unknown request"):
        fake_discord.assert_clean()
    fake_discord.unknown_requests.clear()  # keep the fixture's teardown check green


async def test_scheduled_events_threads_and_forum(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    guild = guild_of(bot, world)
    start = discord.utils.utcnow() + dt.timedelta(days=1)
    event = await guild.create_scheduled_event(
        name="Distribution",
        start_time=start,
        end_time=start + dt.timedelta(hours=2),
        entity_type=discord.EntityType.external,
        location="Centre communautaire",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    assert [e.name for e in fake_discord.scheduled_events(world.guild)] == ["Distribution"]
    await event.edit(name="Distribution alimentaire")
    await fake_discord.sync()
    assert guild.get_scheduled_event(event.id).name == "Distribution alimentaire"  # type: ignore[union-attr]
    with pytest.raises(discord.HTTPException) as info:
        await guild.create_scheduled_event(
            name="Past",
            start_time=discord.utils.utcnow() - dt.timedelta(hours=1),
            end_time=discord.utils.utcnow() + dt.timedelta(hours=1),
            entity_type=discord.EntityType.external,
            location="x",
            privacy_level=discord.PrivacyLevel.guild_only,
        )
    assert "scheduled_start_time" in info.value.text

    channel = guild.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    msg = await channel.send("Inscriptions")
    thread = await msg.create_thread(name="Discussion")
    private = await channel.create_thread(name="Équipe", type=discord.ChannelType.private_thread)
    await private.add_user(discord.Object(world.alice.id))
    assert fake_discord.channel(private.id).type == ChannelType.PRIVATE_THREAD
    assert world.alice.id in fake_discord.channel(private.id).member_ids
    assert thread.id == msg.id

    forum = guild.get_channel(world.forum.id)
    assert isinstance(forum, discord.ForumChannel)
    tag = forum.available_tags[0]
    post = await forum.create_thread(name="Besoin de bras", content="Samedi 9h", applied_tags=[tag])
    assert post.message.content == "Samedi 9h"
    assert fake_discord.channel(post.thread.id).applied_tags == [tag.id]
    await fake_discord.sync()
    assert guild.get_thread(post.thread.id) is not None


async def test_rate_limit_simulation(fake_discord: FakeDiscord, world: Scene, bot: MiniBot) -> None:
    guild = guild_of(bot, world)
    channels = [world.general] + [
        fake_discord.add_channel(world.guild, f"salon-{i}") for i in range(3)
    ]
    await fake_discord.sync()
    bucket = fake_discord.rate_limit(
        "/channels/{channel_id}/messages", method="POST", limit=5, per=1.0, scope="shared"
    )
    targets = [guild.get_channel(c.id) for c in channels]

    async def send_five(target: discord.abc.Messageable) -> None:
        await asyncio.gather(*(target.send(f"msg {i}") for i in range(5)))

    await asyncio.gather(*(send_five(t) for t in targets))  # type: ignore[arg-type]
    assert sum(len(fake_discord.channel_messages(c)) for c in channels) == 20
    assert bucket.hits == 20
    assert fake_discord.served_429 > 0 and bucket.limited == fake_discord.served_429


async def test_route_buckets_are_respected_and_global_limit(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    # Per-channel bucket with headers: discord.py throttles itself, no 429 needed.
    bucket = fake_discord.rate_limit("/channels/{channel_id}/messages", limit=3, per=0.3)
    start = time.monotonic()
    await asyncio.gather(*(channel.send(f"m{i}") for i in range(7)))
    assert time.monotonic() - start >= 0.5
    assert bucket.hits == 7 and fake_discord.served_429 == 0
    fake_discord.clear_failures()

    fake_discord.global_rate_limit(limit=4, per=0.3)
    await asyncio.gather(*(bot.fetch_user(world.alice.id) for _ in range(8)))
    assert fake_discord.served_429 >= 1
    assert all(r.response.get("global") for r in fake_discord.requests if r.status == 429)


async def test_many_discord_py_calls_round_trip(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    """A sweep over common discord.py calls: none may hit an unknown route or crash."""
    guild = guild_of(bot, world)
    channel = guild.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("un", file=discord.File(io.BytesIO(b"abc"), filename="a.txt"))
    assert first.attachments[0].filename == "a.txt"
    assert await first.attachments[0].read() == b"abc"
    edited = await first.edit(content="un (modifié)", attachments=[])
    assert edited.attachments == [] and fake_discord.messages[first.id].edits == 1
    reply = await first.reply("deux", mention_author=False)
    assert fake_discord.messages[reply.id].type == 19
    await reply.add_reaction("✅")
    await reply.pin()
    assert [m.id async for m in channel.pins()] == [reply.id]
    history = [m.content async for m in channel.history(limit=10)]
    assert history[:2] == ["deux", "un (modifié)"]
    assert (await channel.fetch_message(first.id)).content == "un (modifié)"
    await reply.delete()
    assert fake_discord.messages[reply.id].deleted

    await channel.edit(name="Général", topic="Sujet", slowmode_delay=5)
    assert fake_discord.channel(channel.id).name == "général"
    member = guild.get_member(world.alice.id)
    assert member is not None
    await channel.set_permissions(member, send_messages=False)
    assert fake_discord.channel(channel.id).overwrites[world.alice.id].deny == Perm.SEND_MESSAGES
    with pytest.raises(discord.Forbidden):
        await channel.set_permissions(member, manage_roles=True)  # only admins may
    await channel.set_permissions(member, overwrite=None)
    fetched = await bot.fetch_channel(channel.id)
    assert isinstance(fetched, discord.TextChannel) and fetched.topic == "Sujet"

    role = await guild.create_role(name="Temp", mentionable=True)
    with pytest.raises(discord.Forbidden):
        await member.edit(nick="Ali")  # the default bot role cannot manage nicknames
    fake_discord.grant_bot_permissions(world.guild, Perm.MANAGE_NICKNAMES)
    await fake_discord.sync()
    await role.edit(name="Temporaire", colour=discord.Colour.green())
    await member.edit(roles=[*member.roles[1:], role], nick="Ali")
    assert fake_discord.member(world.guild, world.alice).nick == "Ali"
    fetched_member = await guild.fetch_member(world.alice.id)
    assert role.id in [r.id for r in fetched_member.roles]
    await member.remove_roles(role)
    await role.delete()
    assert role.id not in world.guild.roles
    assert (await bot.fetch_user(world.bob.id)).name == "bob"
    assert [g.id async for g in bot.fetch_guilds()] == [world.guild.id]

    voice = guild.get_channel(world.voice.id)
    assert isinstance(voice, discord.VoiceChannel)
    start = discord.utils.utcnow() + dt.timedelta(hours=3)
    event = await guild.create_scheduled_event(
        name="Réunion",
        start_time=start,
        channel=voice,
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    event = await event.start()
    event = await event.end()
    with pytest.raises(discord.HTTPException):
        await event.edit(name="Trop tard")
    assert [e.status for e in fake_discord.scheduled_events(world.guild)] == [3]
    fetched_events = await guild.fetch_scheduled_events()
    assert [e.name for e in fetched_events] == ["Réunion"]
    await event.delete()

    thread = await channel.create_thread(name="Fil", type=discord.ChannelType.public_thread)
    await thread.send("dans le fil")
    await thread.edit(archived=True)
    await thread.send("réveil")  # sending unarchives
    assert not fake_discord.channel(thread.id).archived
    await thread.add_user(member)
    assert [m.id for m in await thread.fetch_members()] == [
        fake_discord.bot_user.id,
        world.alice.id,
    ]
    await thread.delete()
    dm = await member.create_dm()
    await dm.send("coucou")
    assert [m.content for m in fake_discord.dms(world.alice)] == ["coucou"]
    await channel.typing()
    assert (await bot.application_info()).id == fake_discord.application_id
    assert len(fake_discord.calls("POST", "/channels/{channel_id}/messages")) >= 4
