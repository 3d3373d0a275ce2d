"""Builders for the end-to-end tests of profiles, the directory, the jumelage and privacy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cogs.membres.service import ProfilChanges, ProfilInfo, ProfilService
from tests.fakediscord import ChannelType, FakeDiscord
from tests.fakediscord.handles import InteractionHandle
from tests.fakediscord.models import Channel, Guild, Member


async def give_profile(
    bot: Any,
    guild: Guild,
    member: Member,
    *,
    municipalite: str | None = None,
    region: str | None = None,
    fonction: str | None = None,
    expertise: Sequence[str] = (),
    chantiers: Sequence[str] = (),
    visible: bool = True,
    locale: str = "fr",
) -> ProfilInfo:
    """Consent and a profile, through the bot's own database and clock (the form itself is
    tested in test_membres.py)."""
    profils = ProfilService(bot.sessions, bot.clock)
    await profils.give_consent(
        guild.id, member.user.id, display_name=member.nick or member.user.username, locale=locale
    )
    ids = await chantier_ids(bot, guild)
    return await profils.update(
        guild.id,
        member.user.id,
        ProfilChanges(
            municipalite=municipalite,
            region=region,
            fonction=fonction,
            expertise=list(expertise),
            chantier_ids=[ids[slug] for slug in chantiers],
            visible_annuaire=visible,
        ),
    )


async def chantier_ids(bot: Any, guild: Guild) -> dict[str, int]:
    return {c.slug: c.id for c in await bot.services.chantiers.chantiers(guild.id)}


def private_threads(fake: FakeDiscord, guild: Guild) -> list[Channel]:
    return [
        c
        for c in fake.channels_in(guild, threads=True)
        if c.type == ChannelType.PRIVATE_THREAD and not c.deleted
    ]


def submit(
    fake: FakeDiscord, source: InteractionHandle, values: dict[str, Any], *, locale: str = "fr"
) -> InteractionHandle:
    """Submit the modal ``source`` opened, in ``locale``."""
    return fake.injector.submit_modal(source, values, locale=locale)


def custom_ids(message: Any) -> list[str]:
    return list(message.custom_ids()) if message is not None else []
