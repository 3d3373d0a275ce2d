"""The Bot: owns the settings, the database, the scheduler, the outbox, the clock and i18n."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import I18n
from bot.interactions import answer_unclaimed, report_error
from bot.outbox import OutboxSender
from bot.ports import Ports
from bot.scheduler import Scheduler
from bot.tasks import TaskGroup
from bot.web import WebServer
from db import repositories as repo
from db.session import Sessions

log = logging.getLogger(__name__)

#: The longest one step of a graceful stop may take before the next one starts (the outbox's
#: background tasks get their own grace, ``TaskGroup.drain``).
SHUTDOWN_STEP_SECONDS = 8.0


async def _bounded(what: str, step: Awaitable[object]) -> None:
    started = time.monotonic()
    try:
        await asyncio.wait_for(step, SHUTDOWN_STEP_SECONDS)
    except TimeoutError:
        log.warning(
            "shutting down: %s did not finish within %.0f s; going on", what, SHUTDOWN_STEP_SECONDS
        )
        return
    took = time.monotonic() - started
    if took > 1.0:
        log.info("shutting down: %s took %.1f s", what, took)


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
    """The framework around the features: settings, database sessions, clock, scheduler,
    outbox sender, i18n. It knows the features only by the extension names and the services
    it is given, both built by the composition root (``partage.compose``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        services: Any,
        sessions: Sessions,
        engine: AsyncEngine,
        extensions: Sequence[str],
        worker: str,
        clock: Clock | None = None,
        i18n: I18n | None = None,
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
        self.engine = engine
        self.sessions = sessions
        #: Every feature's service (``partage.compose.Services``).
        self.services = services
        #: Interfaces one feature's adapter offers another's (``bot.ports``).
        self.ports = Ports()
        self.tasks = TaskGroup()
        self._closing = False
        self.scheduler = Scheduler(settings.time.timezone, clock=self.clock, tasks=self.tasks)
        self.outbox = OutboxSender(
            sessions, self.clock, self.tasks, worker=worker, accepts=self.serves_guild
        )
        self._extensions = tuple(extensions)
        self.synced_commands: bool | None = None
        #: The site and calendars (``bot/web.py``); features add their routes while loading,
        #: it starts after them. None when ``web.enabled`` is false.
        self.web: WebServer | None = None
        if settings.web.enabled:
            self.web = WebServer(settings.web.host, settings.web.port)
            self.web.add_check("gateway", self._gateway_health)
            self.web.add_check("database", self._database_health)
            self.web.add_check("scheduler", self._scheduler_health)
        #: Set by ``bot.app.run_bot`` once this process holds the lease of its shards: rows
        #: other processes left in flight are then known to be orphans.
        self.holds_lease = False

    def serves_guild(self, guild_id: int | None) -> bool:
        """Whether this process's shard serves ``guild_id`` (rows of other shards are left to
        their own process)."""
        if guild_id is None or self.shard_count in (None, 1) or self.shard_id is None:
            return True
        return (guild_id >> 22) % self.shard_count == self.shard_id

    @property
    def zone(self) -> str:
        return self.settings.time.timezone

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await answer_unclaimed(interaction)

    async def setup_hook(self) -> None:
        await self.tree.set_translator(self.i18n.translator())
        for name in self._extensions:
            await self.load_extension(name)
            log.info("extension %s loaded", name)
        self.scheduler.start()
        await self.outbox.take_over(everything=self.holds_lease)
        self.outbox.start()
        if self.web is not None:
            await self.web.start()
        self.synced_commands = await self.sync_commands()

    # --- health (``/sante``) ------------------------------------------------------------

    async def _gateway_health(self) -> tuple[bool, dict[str, Any]]:
        connected = (
            self.is_ready()
            and not self.is_closed()
            and self.ws is not None
            and bool(getattr(self.ws, "open", True))
        )
        details: dict[str, Any] = {"connected": connected}
        if connected and self.latency == self.latency:  # NaN before the first heartbeat
            details["latency_ms"] = round(self.latency * 1000)
        return connected, details

    async def _database_health(self) -> tuple[bool, dict[str, Any]]:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True, {}

    async def _scheduler_health(self) -> tuple[bool, dict[str, Any]]:
        return self.scheduler.running, {"jobs": len(self.scheduler.job_ids())}

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
        """Stop the scheduler, the outbox and the background tasks, then the gateway and the
        database. Cogs are removed (their ``cog_unload`` runs) but extensions are not unloaded:
        discord.py would purge the features' modules from ``sys.modules``, while the services
        the composition root built keep using them (a second bot in the same process, as in
        the tests, would then see two copies of every class).

        Each step is bounded (``SHUTDOWN_STEP_SECONDS``) and a slow one is named in the log: a
        stop never hangs on one of them, and nothing is lost by going on (every change is
        committed or rolled back; the outbox and the intake resume at the next start)."""
        if self._closing:
            await discord.Client.close(self)  # a second call (``async with`` after a signal)
            return
        self._closing = True
        log.info("shutting down")
        self.scheduler.shutdown()
        if self.web is not None:
            await _bounded("the web server", self.web.stop())
        await _bounded("the outbox", self.outbox.stop())
        await _bounded("the background tasks", self.tasks.drain())
        for name in list(self.cogs):
            await _bounded(f"unloading {name}", self.remove_cog(name))
        await _bounded("the gateway", discord.Client.close(self))
        await _bounded("the database", self.engine.dispose())
