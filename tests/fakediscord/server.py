"""``FakeDiscord``: a Discord-compatible server on 127.0.0.1 for end-to-end bot tests."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import (
    routes_events,
    routes_guilds,
    routes_interactions,
    routes_messages,
    routes_roles,
    routes_threads,
)
from .gateway import GatewayHub, GatewaySession, Intent
from .handles import InteractionHandle
from .injection import Injector
from .install import ENV_TOKEN, DiscordTargets, point_discord_at, restore, targets_env
from .models import Message
from .patience import patient
from .rest import API_PREFIX, FailureRule, GlobalLimit, RateLimitBucket, RequestRecord, RestApi
from .state import EventData
from .world import World

log = logging.getLogger(__name__)


async def wait_until(
    predicate: Callable[[], Any],
    timeout: float = 5.0,  # noqa: ASYNC109
    interval: float = 0.01,
) -> Any:
    """Poll ``predicate`` until truthy; return its value or raise TimeoutError."""
    deadline = time.monotonic() + patient(timeout)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(interval)


_ROUTE_SETS = (
    routes_guilds.routes,
    routes_roles.routes,
    routes_events.routes,
    routes_messages.routes,
    routes_threads.routes,
    routes_interactions.routes,
)


class FakeDiscord(World):
    """A fake Discord (REST v10 + gateway + CDN) with a test API.

    Use ``async with FakeDiscord() as fake:`` (starts and installs it into discord.py),
    build guilds with ``add_guild``/``add_channel``/``add_member``…, run a bot with
    ``fake.token``, inject interactions with ``slash``/``click``/``select``…, and read back
    the state (``channel_messages``, ``dms``, ``calls``…).
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "Partage",
        application_id: int | None = None,
        privileged_intents: int = Intent.PRIVILEGED,
        heartbeat_interval: float = 41.25,
        interaction_deadline: float | None = None,
        interaction_token_ttl: float = 900.0,
        backlog: int = 128,
    ) -> None:
        super().__init__(token=token, bot_name=bot_name, application_id=application_id)
        self.app_owner = self.create_user("app-owner")
        #: Privileged intents enabled for the app; asking for others closes with 4014.
        self.privileged_intents = privileged_intents
        #: Seconds a bot has for the first response (None: unlimited); late -> 404 10062.
        self.interaction_deadline = interaction_deadline
        self.interaction_token_ttl = interaction_token_ttl
        #: Pending connections the listening socket queues (a burst benchmark raises it).
        self.backlog = backlog
        self.gateway = GatewayHub(self, heartbeat_interval=heartbeat_interval)
        self.rest = RestApi(self)
        for route_set in _ROUTE_SETS:
            self.rest.router.include(route_set)
        self.injector = Injector(self)
        self.interactions: list[InteractionHandle] = []
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._previous: DiscordTargets | None = None

    def dispatch(self, event: str, data: EventData, *, guild_id: int | None = None) -> None:
        self.gateway.dispatch(event, data, guild_id=guild_id)

    # ----- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, backlog=self.backlog).start()
        self.cdn_base = f"{self.base_url}/cdn"
        log.info("fake discord listening on %s", self.base_url)

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def install(self) -> None:
        """Point discord.py (Route.BASE, DEFAULT_GATEWAY, Asset.BASE) at this fake."""
        self._previous = point_discord_at(self.targets)

    def uninstall(self) -> None:
        if self._previous is not None:
            restore(self._previous)
            self._previous = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        self.install()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.uninstall()
        await self.stop()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway/"

    @property
    def targets(self) -> DiscordTargets:
        return DiscordTargets(self.rest_base, self.gateway_url, self.cdn_base)

    def child_env(self) -> dict[str, str]:
        """Environment for a bot in another process: it calls ``install_from_env()`` and
        logs in with ``os.environ["FAKE_DISCORD_TOKEN"]``. The test must keep its event loop
        running meanwhile (``asyncio.create_subprocess_exec``, not ``subprocess.run``)."""
        return {**targets_env(self.targets), ENV_TOKEN: self.token}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/gateway"):
            return await self.gateway.handle(request)
        if path.startswith(API_PREFIX + "/"):
            return await self.rest.handle(request)
        match = re.fullmatch(r"/cdn/attachments/\d+/(\d+)/[^/]+", path)
        attachment = self.attachments.get(int(match.group(1))) if match else None
        if attachment is not None:
            return web.Response(body=attachment.data, content_type=attachment.content_type)
        record = RequestRecord(request.method, path, None, {}, dict(request.query), None, [], None)
        record.status = 404
        self.rest.requests.append(record)
        self.rest.unknown_requests.append(record)
        log.warning("unknown request %s %s", request.method, path)
        return web.Response(status=404)

    # ----- requests, failures, rate limits ------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        return self.rest.requests

    @property
    def unknown_requests(self) -> list[RequestRecord]:
        return self.rest.unknown_requests

    @property
    def internal_errors(self) -> list[str]:
        return self.rest.internal_errors

    @property
    def served_429(self) -> int:
        return self.rest.served_429

    @property
    def served_5xx(self) -> int:
        return self.rest.served_5xx

    def calls(
        self, method: str | None = None, route: str | re.Pattern[str] | None = None
    ) -> list[RequestRecord]:
        """Recorded requests by method and route template (or concrete path, or regex)."""
        out = []
        for rec in self.rest.requests:
            if method is not None and rec.method != method:
                continue
            if isinstance(route, re.Pattern):
                if not route.search(rec.path):
                    continue
            elif route is not None and route not in (rec.route, rec.path):
                continue
            out.append(rec)
        return out

    def fail_next(
        self,
        method: str,
        route: str | re.Pattern[str],
        *,
        status: int = 500,
        times: int = 1,
        retry_after: float = 1.0,
        code: int | None = None,
        message: str | None = None,
        global_: bool = False,
        body: Any = None,
    ) -> FailureRule:
        """Serve ``status`` for the next ``times`` matching requests (method ``"*"`` = any).

        429s carry Via, Retry-After, X-RateLimit-* headers and a JSON retry_after body.
        """
        rule = FailureRule(method, route, status, times, retry_after, code, message, global_, body)
        self.rest.failures.append(rule)
        return rule

    def fail_for(
        self, method: str, route: str | re.Pattern[str], seconds: float, *, status: int = 502
    ) -> FailureRule:
        """Serve ``status`` for every matching request during the next ``seconds`` (an outage
        window: ``rule.until`` is when it ends, on ``time.monotonic()``)."""
        rule = FailureRule(method, route, status, 2**31, 1.0, None, None, False)
        rule.until = time.monotonic() + seconds
        self.rest.failures.append(rule)
        return rule

    def rate_limit(
        self, route: str, *, limit: int, per: float, method: str = "*", scope: str = "route"
    ) -> RateLimitBucket:
        """Simulate a bucket on a route template (``scope='shared'``: not split per channel)."""
        bucket = RateLimitBucket(
            method, route, limit, per, scope, name=f"fake-{len(self.rest.buckets)}"
        )
        self.rest.buckets.append(bucket)
        return bucket

    def global_rate_limit(self, limit: int = 50, per: float = 1.0) -> None:
        self.rest.global_limit = GlobalLimit(limit, per)

    def on_request(
        self,
        method: str,
        route: str | re.Pattern[str],
        action: Callable[[RequestRecord], None],
        *,
        status: int | None = None,
    ) -> Callable[[], None]:
        """Call ``action`` with each matching request once handled (of reply ``status`` if
        given), before the reply leaves the fake: a test can kill the bot at the exact moment
        Discord has recorded something the bot has not heard back about. Returns a function
        that removes the observer."""

        def observe(record: RequestRecord) -> None:
            if record.method != method or (status is not None and record.status != status):
                return
            if isinstance(route, re.Pattern):
                if not route.search(record.path):
                    return
            elif route not in (record.route, record.path):
                return
            action(record)

        self.rest.observers.append(observe)
        return lambda: self.rest.observers.remove(observe)

    def clear_failures(self) -> None:
        self.rest.failures.clear()
        self.rest.buckets.clear()
        self.rest.global_limit = None

    def assert_clean(self) -> None:
        """Fail if the bot made REST calls the fake does not know, or the fake crashed."""
        problems = [f"unknown request: {r.method} {r.path}" for r in self.unknown_requests]
        problems += [f"fake internal error: {e}" for e in self.internal_errors]
        if problems:
            raise AssertionError("\n".join(problems))

    # ----- gateway & interactions ---------------------------------------------------------

    @property
    def sessions(self) -> list[GatewaySession]:
        """Gateway sessions with a live connection (a closed bot's session may stay
        resumable in ``fake.gateway.live_sessions``, like on Discord)."""
        return [s for s in self.gateway.live_sessions if s.connected]

    async def sync(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once every connected bot has processed all gateway events sent so far."""
        await self.gateway.sync(timeout)

    async def wait_for_bot(self, count: int = 1, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``count`` bot sessions are identified and connected."""
        await self.gateway.wait_for_sessions(count, timeout)

    wait_until = staticmethod(wait_until)

    def slash(
        self, command: str, *, user: Any, channel: Any = None, **kwargs: Any
    ) -> InteractionHandle:
        """Invoke ``"name"``, ``"name sub"`` or ``"name group sub"`` with ``options={...}``
        (``locale``, ``guild_locale`` too). No channel: the user's DM with the bot."""
        return self.injector.slash(command, user=user, channel=channel, **kwargs)

    def autocomplete(
        self, command: str, *, user: Any, focused: str, value: str = "", **kwargs: Any
    ) -> InteractionHandle:
        return self.injector.autocomplete(
            command, user=user, focused=focused, value=value, **kwargs
        )

    def context_menu(
        self, name: str, target: Any, *, user: Any, channel: Any = None
    ) -> InteractionHandle:
        return self.injector.context_menu(name, target, user=user, channel=channel)

    def click(
        self, message: Message | int, custom_id: str, *, user: Any, locale: str = "en-US"
    ) -> InteractionHandle:
        return self.injector.click(message, custom_id, user=user, locale=locale)

    def select(
        self,
        message: Message | int,
        custom_id: str,
        values: list[Any],
        *,
        user: Any,
        locale: str = "en-US",
    ) -> InteractionHandle:
        return self.injector.select(message, custom_id, values, user=user, locale=locale)

    def submit_modal(
        self, source: InteractionHandle, values: dict[str, Any], *, user: Any = None
    ) -> InteractionHandle:
        return self.injector.submit_modal(source, values, user=user)
