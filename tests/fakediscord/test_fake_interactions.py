"""Interactions through the fake: command sync, slash commands, components, modals."""

from __future__ import annotations

import asyncio
import logging
import re

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakediscord import FakeDiscord, Upload
from tests.fakediscord.conftest import MiniBot, Scene

log = logging.getLogger(__name__)


def add_commands(bot: MiniBot, guild_id: int) -> None:
    tree = bot.tree

    @tree.command(
        name=app_commands.locale_str("hello"), description=app_commands.locale_str("Say hello")
    )
    async def hello(interaction: discord.Interaction, name: str | None = None) -> None:
        await interaction.response.send_message(
            f"hello {name or interaction.user.name} [{interaction.locale.value}]", ephemeral=True
        )

    @tree.command(name="slow", description="Defers then follows up")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done")
        await interaction.edit_original_response(content="done (edited)")
        await interaction.followup.send("second")

    event = app_commands.Group(name="event", description="Events")

    @event.command(name="create", description="Create an event")
    @app_commands.describe(title="Title", seats="Seats", who="Contact")
    async def create(
        interaction: discord.Interaction, title: str, seats: int, who: discord.Member
    ) -> None:
        bot.seen.append(f"{title}:{seats}:{who.display_name}")
        await interaction.response.send_message(f"created {title}")

    tree.add_command(event, guild=discord.Object(guild_id))

    @tree.command(name="fruit", description="Pick a fruit")
    async def fruit(interaction: discord.Interaction, kind: str) -> None:
        await interaction.response.send_message(kind)

    @fruit.autocomplete("kind")
    async def fruit_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=f, value=f)
            for f in ("apple", "apricot", "banana")
            if f.startswith(current)
        ]

    @tree.command(name="upload", description="Reads an attachment")
    async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        await interaction.response.send_message(f"{file.filename}:{len(data)}:{data[:5].decode()}")


async def test_sync_commands_and_slash_in_french(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    add_commands(bot, world.guild.id)
    synced = await bot.tree.sync()
    guild_synced = await bot.tree.sync(guild=discord.Object(world.guild.id))
    assert {c.name for c in synced} == {"hello", "slow", "fruit", "upload"}
    assert [c.name for c in guild_synced] == ["event"]
    hello_cmd = fake_discord.command("hello")
    assert hello_cmd.name_localizations == {"fr": "bonjour"}
    assert hello_cmd.description_localizations == {"fr": "Dire bonjour"}
    assert [c.name for c in fake_discord.commands(world.guild)] == ["event"]

    h = fake_discord.slash("hello", user=world.alice, channel=world.general, locale="fr")
    assert h.payload["data"]["id"] == str(hello_cmd.id)
    resp = await h.response()
    assert resp.type == 4
    assert resp.data["flags"] == 64
    assert resp.data["content"] == "hello alice [fr]"
    assert h.message is not None and h.message.ephemeral
    assert fake_discord.channel_messages(world.general) == []  # ephemeral: not in the channel

    h2 = fake_discord.slash(
        "event create",
        user=world.alice,
        channel=world.general,
        options={"title": "Collecte", "seats": 4, "who": world.bob},
    )
    assert (await h2.response()).data["content"] == "created Collecte"
    assert bot.seen == ["Collecte:4:bob"]
    assert [m.content for m in fake_discord.channel_messages(world.general)] == ["created Collecte"]
    assert fake_discord.channel_messages(world.general)[0].type == 20

    with pytest.raises(ValueError, match="required options missing"):
        fake_discord.slash(
            "event create", user=world.alice, channel=world.general, options={"title": "x"}
        )


async def test_defer_followup_and_edit(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    add_commands(bot, world.guild.id)
    await bot.tree.sync()
    h = fake_discord.slash("slow", user=world.bob, channel=world.general)
    assert (await h.response()).type == 5
    followups = await h.wait_followups(2)
    original = h.message
    assert original is not None
    # the first follow-up replaced the "thinking" message, then it was edited
    assert followups[0].id == original.id
    assert original.content == "done (edited)" and original.edits == 2
    assert followups[1].content == "second"
    assert (
        len(
            fake_discord.calls("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
        )
        == 1
    )


async def test_on_request_sees_a_callback_before_the_bot_hears_back(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    add_commands(bot, world.guild.id)
    await bot.tree.sync()
    seen: list[tuple[str, int, bool]] = []
    handles = []

    def record(rec) -> None:  # runs inside the fake, before the reply is sent
        seen.append((rec.route, rec.status, handles[0].responded))

    remove = fake_discord.on_request(
        "POST", "/interactions/{interaction_id}/{token}/callback", record, status=200
    )
    handles.append(fake_discord.slash("slow", user=world.bob, channel=world.general))
    await handles[0].wait_followups(2)
    remove()
    await fake_discord.slash("hello", user=world.bob, channel=world.general).response()
    assert seen == [("/interactions/{interaction_id}/{token}/callback", 200, True)]


async def test_autocomplete_and_attachment_option(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    add_commands(bot, world.guild.id)
    await bot.tree.sync()
    h = fake_discord.autocomplete(
        "fruit", user=world.alice, channel=world.general, focused="kind", value="ap"
    )
    assert (await h.response()).type == 8
    assert [c["value"] for c in h.choices] == ["apple", "apricot"]

    h = fake_discord.slash(
        "upload",
        user=world.alice,
        channel=world.general,
        options={"file": Upload("notes.txt", b"hello world")},
    )
    assert (await h.response()).data["content"] == "notes.txt:11:hello"


class Counter(discord.ui.DynamicItem[discord.ui.Button], template=r"counter:(?P<n>\d+)"):
    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label=f"count {n}", custom_id=f"counter:{n}"))
        self.n = n

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> Counter:
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        self.n += 1
        self.item.label = f"count {self.n}"
        self.item.custom_id = f"counter:{self.n}"
        await interaction.response.edit_message(view=discord.ui.View(timeout=None).add_item(self))


class Panel(discord.ui.View):
    def __init__(self, clicks: list[str]) -> None:
        super().__init__(timeout=None)
        self.clicks = clicks

    @discord.ui.button(label="Join", custom_id="panel:join", style=discord.ButtonStyle.success)
    async def join(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.clicks.append(interaction.user.name)
        await interaction.response.send_message("joined", ephemeral=True)


async def test_persistent_view_and_dynamic_item(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    clicks: list[str] = []
    bot.add_view(Panel(clicks))
    bot.add_dynamic_items(Counter)
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("Panel", view=Panel(clicks))
    counter_msg = await channel.send(
        "Counter", view=discord.ui.View(timeout=None).add_item(Counter(0))
    )
    stored = fake_discord.messages[sent.id]
    assert stored.custom_ids() == ["panel:join"]

    h = fake_discord.click(stored, "panel:join", user=world.alice)
    assert (await h.response()).data["content"] == "joined"
    assert clicks == ["alice"]

    h = fake_discord.click(counter_msg.id, "counter:0", user=world.bob)
    assert (await h.response()).type == 7
    assert fake_discord.messages[counter_msg.id].custom_ids() == ["counter:1"]
    assert fake_discord.messages[counter_msg.id].edits == 1
    h = fake_discord.click(counter_msg.id, "counter:1", user=world.bob)
    await h.response()
    assert fake_discord.messages[counter_msg.id].custom_ids() == ["counter:2"]
    with pytest.raises(ValueError, match="no component"):
        fake_discord.click(counter_msg.id, "counter:0", user=world.bob)


class Signup(discord.ui.Modal, title="Inscription"):
    name = discord.ui.TextInput(label="Nom", custom_id="signup:name", max_length=50)
    notes = discord.ui.TextInput(
        label="Notes", custom_id="signup:notes", required=False, style=discord.TextStyle.paragraph
    )

    def __init__(self, results: list[str]) -> None:
        super().__init__(custom_id="signup")
        self.results = results

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.results.append(f"{self.name.value}|{self.notes.value}")
        await interaction.response.send_message("merci", ephemeral=True)


class Picker(discord.ui.View):
    def __init__(self, results: list[str]) -> None:
        super().__init__(timeout=None)
        self.results = results

    @discord.ui.select(
        custom_id="pick:day",
        min_values=1,
        max_values=2,
        options=[
            discord.SelectOption(label=d, value=d.lower()) for d in ("Lundi", "Mardi", "Mercredi")
        ],
    )
    async def day(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        self.results.append(",".join(select.values))
        await interaction.response.send_modal(Signup(self.results))


async def test_select_then_modal_round_trip(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    results: list[str] = []
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    msg = await channel.send("Choisis", view=Picker(results))
    h = fake_discord.select(msg.id, "pick:day", ["lundi", "mardi"], user=world.alice)
    resp = await h.response()
    assert resp.type == 9
    assert h.modal is not None and h.modal["title"] == "Inscription"
    assert results == ["lundi,mardi"]
    with pytest.raises(ValueError, match="not options"):
        fake_discord.select(msg.id, "pick:day", ["dimanche"], user=world.alice)

    submit = h.submit_modal({"signup:name": "Alice"})
    assert (await submit.response()).data["content"] == "merci"
    assert results == ["lundi,mardi", "Alice|"]


async def test_double_ack_and_deadline(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    errors: list[Exception] = []

    @bot.tree.command(name="late", description="Answers too late")
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("too late")
        except discord.NotFound as exc:
            errors.append(exc)

    await bot.tree.sync()
    add_commands(bot, world.guild.id)
    await bot.tree.sync()
    h = fake_discord.slash("hello", user=world.alice, channel=world.general)
    await h.response()
    url = f"{fake_discord.rest_base}/interactions/{h.id}/{h.token}/callback"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"type": 4, "data": {"content": "again"}}) as resp,
    ):
        assert resp.status == 400
        assert (await resp.json())["code"] == 40060

    fake_discord.interaction_deadline = 0.1
    h = fake_discord.slash("late", user=world.alice, channel=world.general)
    await fake_discord.wait_until(lambda: errors)
    assert errors[0].code == 10062
    assert not h.responded


async def test_dm_slash_and_context_menus(
    fake_discord: FakeDiscord, world: Scene, bot: MiniBot
) -> None:
    add_commands(bot, world.guild.id)
    targets: list[str] = []

    @bot.tree.context_menu(name="Profil")
    async def profile(interaction: discord.Interaction, member: discord.Member) -> None:
        targets.append(member.display_name)
        await interaction.response.send_message("ok", ephemeral=True)

    @bot.tree.context_menu(name="Signaler")
    async def report(interaction: discord.Interaction, message: discord.Message) -> None:
        targets.append(message.content)
        await interaction.response.defer(ephemeral=True)

    await bot.tree.sync()
    h = fake_discord.slash("hello", user=world.bob, options={"name": "Bob"})  # in the DM
    assert (await h.response()).data["content"] == "hello Bob [en-US]"
    assert h.payload["context"] == 1

    h = fake_discord.context_menu("Profil", world.alice, user=world.bob, channel=world.general)
    await h.response()
    posted = fake_discord.user_sends(world.general, world.alice, "spam")
    h = fake_discord.context_menu("Signaler", posted, user=world.bob, channel=world.general)
    assert (await h.response()).type == 5
    assert targets == ["alice", "spam"]
