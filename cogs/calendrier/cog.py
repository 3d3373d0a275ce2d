"""/calendrier, and the site and calendars registered on the bot's web server."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import command, p_
from bot.i18n import Translations
from bot.interactions import locale_of, reply, tr_of
from bot.ports import CalendarFiles
from cogs.calendrier.cache import EventCache
from cogs.calendrier.service import Address, Feed
from cogs.calendrier.text import subscribe_help
from cogs.calendrier.web import Site

#: How long an attached ``.ics`` is served again for the same atelier version.
FILE_SECONDS = 60

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)


def address_text(tr: Translations, address: Address, url: str | None) -> str:
    if url is None:  # one exists; only its hash is kept
        return tr._(
            "Vous avez déjà une adresse de calendrier privé, créée le {date}. Partage n'en "
            "garde qu'une empreinte : il ne peut pas vous la montrer de nouveau. Pour en "
            "obtenir une nouvelle (l'ancienne cessera de fonctionner) : {commande} avec "
            "l'option « renouveler ».",
            date=tr.format_date(address.created_at.date()),
            commande=command(tr, "calendrier"),
        )
    head = (
        tr._("Votre nouvelle adresse de calendrier privé (l'ancienne ne fonctionne plus) :")
        if address.renewed
        else tr._("Votre adresse de calendrier privé :")
    )
    return "\n".join(
        [
            head,
            f"<{url}>",
            tr._(
                "Elle donne les ateliers où vous avez une place, avec le lien de la rencontre : "
                "gardez-la pour vous. Partage ne la montrera plus ; en cas de doute, "
                "{commande} avec l'option « renouveler ».",
                commande=command(tr, "calendrier"),
            ),
            "",
            subscribe_help(tr),
        ]
    )


class CalendrierCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.service = bot.services.calendrier
        web = bot.settings.web
        self.site = Site(
            self.service,
            bot.i18n,
            zone=bot.zone,
            base_url=web.base_url,
            documents=bot.services.bibliotheque.of_atelier,
        )
        if bot.web is not None:
            bot.web.add_routes(self.site.routes())
        bot.ports.provide(CalendarFiles, self)
        #: Attached files by atelier, version, language and link, for ``FILE_SECONDS``: a
        #: burst of answers to one atelier reads and renders it once, not once per answer.
        self._files = EventCache(256, max_age=FILE_SECONDS)
        self._making: dict[Hashable, asyncio.Task[bytes | None]] = {}

    async def _prefix(self, guild_id: int) -> str:
        """``/s/<guild id>`` in the site's addresses, unless it is the default server."""
        return "" if await self.service.default_guild() == guild_id else f"/s/{guild_id}"

    async def atelier_file(
        self, guild_id: int, atelier_id: int, locale: str, *, lien: bool, version: int | None
    ) -> discord.File | None:
        """The atelier's ``.ics`` (``bot.ports.CalendarFiles``), attached to a registration's
        confirmation and to a promotion's message. Given the atelier's ``version`` as just
        read, a file made for that version less than ``FILE_SECONDS`` ago is served again
        (what changes an atelier's events changes its version; the bound covers the rest, a
        chantier renamed for instance); the confirmations of one batch of answers, asking at
        the same moment, wait for the same making."""
        if version is None:
            data = await self._make_file(guild_id, atelier_id, locale, lien)
        else:
            key = (guild_id, atelier_id, locale, lien, version)
            data = self._files.get(key)
            if data is None:
                making = self._making.get(key)
                if making is None:
                    making = self.bot.tasks.spawn(
                        self._make_file(guild_id, atelier_id, locale, lien, keep=(key, version)),
                        name=f"ics:{atelier_id}",
                    )
                    self._making[key] = making
                    making.add_done_callback(lambda _: self._making.pop(key, None))
                data = await asyncio.shield(making)  # one waiter cancelled: not the others
        if data is None:
            return None
        return discord.File(io.BytesIO(data), filename=f"atelier-{atelier_id}.ics")

    async def _make_file(
        self,
        guild_id: int,
        atelier_id: int,
        locale: str,
        lien: bool,
        *,
        keep: tuple[Hashable, int] | None = None,
    ) -> bytes | None:
        """Read and render the atelier; with ``keep`` (a key and a version), kept under that
        key if the atelier read still has that version."""
        atelier = await self.service.atelier(guild_id, atelier_id, private=lien, counts=False)
        if atelier is None:
            return None
        prefix = await self._prefix(guild_id)
        data = self.site.render(Feed(atelier.titre, (atelier,)), locale, prefix=prefix)
        if keep is not None and atelier.version == keep[1]:
            self._files.put(keep[0], data)
        return data

    @app_commands.command(
        name=p_("command-name", "calendrier"),
        description=p_(
            "command-description",
            "L'adresse de votre calendrier privé, pour Outlook, Google ou Apple",
        ),
    )
    @app_commands.describe(
        renouveler=p_(
            "option-description", "Une nouvelle adresse (l'ancienne cesse de fonctionner)"
        )
    )
    @app_commands.guild_only()
    async def calendrier(self, interaction: discord.Interaction, renouveler: bool = False) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id
        if guild_id is None:
            raise app_commands.NoPrivateMessage()
        if self.bot.web is None:
            await reply(
                interaction,
                tr._("Les calendriers ne sont pas activés sur ce serveur (réglage web.enabled)."),
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        address = await self.service.address(
            guild_id,
            interaction.user.id,
            display_name=interaction.user.display_name,
            locale=locale_of(interaction),
            renew=renouveler,
        )
        url = None
        if address.token is not None:  # the events' texts in the member's language
            url = self.site.feed_url(address.token, await self._prefix(guild_id), tr.locale)
        await reply(interaction, address_text(tr, address, url))
