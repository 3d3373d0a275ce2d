"""Helpers shared by the ateliers end-to-end tests (no tests here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.core import PartageBot
from db.models import Atelier, AuditLog, Inscription, Membre, Seance, SeanceReponse
from tests.e2e.harness import Server
from tests.fakediscord import ChannelType, FakeDiscord, InteractionHandle, Message

# The fake's clock is the real one; these dates stay ahead of it for a good while.
DATES = "3 décembre 2030 13 h 30 ; 10 déc. 2030 13h30"
GOUVERNANCE = "gouvernance"


async def text_of(handle: InteractionHandle, timeout: float = 10.0) -> str:  # noqa: ASYNC109
    """What the bot answered: the message, or what replaced the "thinking…" of a defer."""
    return (await handle.wait_answer(timeout=timeout)).content


async def answered(handle: InteractionHandle, timeout: float = 10.0) -> Message:  # noqa: ASYNC109
    """The ephemeral message that answered a deferred interaction."""
    return await handle.wait_answer(timeout=timeout)


def chantier_channel(fake: FakeDiscord, server: Server, slug: str = GOUVERNANCE) -> Any:
    return next(c for c in fake.channels_in(server.guild, type=ChannelType.TEXT) if c.name == slug)


def announcements(fake: FakeDiscord, channel: Any) -> list[Message]:
    return [m for m in fake.channel_messages(channel) if m.custom_ids()]


async def create_atelier(
    fake: FakeDiscord, server: Server, **options: Any
) -> tuple[InteractionHandle, str]:
    values = {"titre": "Territoire et immigration", "chantier": GOUVERNANCE, "dates": DATES}
    values.update(options)
    handle = fake.slash(
        "atelier creer", user=server.staff, channel=server.general, options=values, locale="fr"
    )
    return handle, await text_of(handle)


async def counts(bot: PartageBot) -> dict[str, int]:
    """Rows per table: what "nothing saved" is checked against."""
    out = {}
    async with bot.sessions() as session:
        for model in (Atelier, Seance, Inscription, SeanceReponse, Membre, AuditLog):
            out[model.__tablename__] = (
                await session.execute(select(func.count()).select_from(model))
            ).scalar_one()
    return out


def field(message: Message, name: str) -> str:
    embed = message.embeds[0]
    return next(f["value"] for f in embed.get("fields", []) if f["name"] == name)
