"""The Bot: owns the settings, the database, the scheduler, the clock and i18n."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import I18n
from bot.interactions import report_error
from bot.scheduler import Scheduler
from bot.tasks import TaskGroup
from cogs.ateliers.service import AtelierService
from cogs.chantiers.service import ChantierService
from cogs.reminders.service import RappelService, worker_name
from cogs.rsvp.service import InscriptionService
from db import repositories as repo
from db.session import create_engine, session_factory

log = logging.getLogger(__name__)

#: Loaded in this order in ``setup_hook``; a broken extension stops start-up.
EXTENSIONS: tuple[str, ...] = (
    "cogs.aide",
    "cogs.chantiers",
    "cogs.ateliers",
    "cogs.rsvp",
    "cogs.programme",
    "cogs.reminders",
    "cogs.membres",
    "cogs.jumelage",
    "cogs.privacy",
    "cogs.statistiques",
)


@dataclass(frozen=True)
class Services:
    """The feature services, built once with their dependencies."""

    chantiers: ChantierService
    ateliers: AtelierService
    inscriptions: InscriptionService
    rappels: RappelService


def intents() -> discord.Intents:
    """The fewest intents that work. ``guilds`` gives channels, roles and threads; ``members``
    (privileged) gives role membership for the chantiers' member counts and the join/leave
    events used for the welcome message and for erasing a departed member's data. No message
    content: Partage works through interactions only."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.members = True
    return wanted


class PartageTree(app_commands.CommandTree["PartageBot"]):
    """Every slash-command error goes through the one handler."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class PartageBot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        i18n: I18n | None = None,
        extensions: Sequence[str] = EXTENSIONS,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=PartageTree,
            **options,
        )
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.i18n = i18n or I18n.load()
        self.engine = create_engine(settings.database.url)
        self.sessions = session_factory(self.engine)
        self.scheduler = Scheduler(settings.time.timezone)
        self.tasks = TaskGroup()
        self.services = Services(
            chantiers=ChantierService(self.sessions, self.clock),
            ateliers=AtelierService(self.sessions, self.clock),
            inscriptions=InscriptionService(self.sessions, self.clock),
            rappels=RappelService(
                self.sessions,
                self.clock,
                settings.reminders.offsets,
                worker=worker_name(),
                max_attempts=settings.reminders.dm_retry_attempts,
            ),
        )
        self._extensions = tuple(extensions)
        self.synced_commands: bool | None = None

    @property
    def zone(self) -> str:
        return self.settings.time.timezone

    async def setup_hook(self) -> None:
        await self.tree.set_translator(self.i18n.translator())
        for name in self._extensions:
            await self.load_extension(name)
            log.info("extension %s loaded", name)
        self.scheduler.start()
        self.synced_commands = await self.sync_commands()

    async def sync_commands(self) -> bool:
        """Sync the command tree (to ``discord.guild_id`` when set, else globally), unless it is
        the same as at the last sync: Discord rate-limits syncs. Returns whether it synced."""
        guild_id = self.settings.discord.guild_id
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        translator = self.tree.translator
        payload = []
        for command in self.tree.get_commands(guild=guild):
            if translator is not None:
                payload.append(await command.get_translated_payload(self.tree, translator))
            else:
                payload.append(command.to_dict(self.tree))
        scope = f"guild:{guild_id}" if guild_id else "global"
        digest = hashlib.sha256(
            json.dumps(
                {"application": self.application_id, "commands": payload},
                sort_keys=True,
                ensure_ascii=False,
            ).encode()
        ).hexdigest()
        key = f"commands:{scope}"
        async with self.sessions() as session:
            previous = await repo.get_state(session, key)
        if previous == digest:
            log.info("commands unchanged since the last sync (%s): not syncing", scope)
            return False
        synced = await self.tree.sync(guild=guild)
        async with self.sessions.begin() as session:
            await repo.set_state(session, key, digest, self.clock.now())
        log.info("synced %d commands (%s)", len(synced), scope)
        return True

    async def close(self) -> None:
        log.info("shutting down")
        self.scheduler.shutdown()
        await self.tasks.drain()
        await super().close()
        await self.engine.dispose()
