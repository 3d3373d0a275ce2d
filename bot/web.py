"""The small web server the bot process runs (aiohttp.web, which discord.py already brings):
started in ``setup_hook`` once the features registered their routes, stopped in ``close()``.
It serves ``/sante`` itself; the features add the rest (``cogs/calendrier``). It runs on the
bot's event loop but does not depend on the gateway: it keeps answering while the bot
reconnects to Discord."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

#: A check's answer: whether it is well, and what to show about it.
Check = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
#: How long one health check may take before it counts as failed.
CHECK_SECONDS = 3.0


class WebServer:
    """One aiohttp application on ``host:port``. Routes are added before ``start``; a port
    that is taken logs one error and the bot goes on without its site."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.requested_port = port
        self.app = web.Application()
        self._checks: dict[str, Check] = {}
        self._runner: web.AppRunner | None = None
        #: The port actually bound (``port = 0`` picks a free one), None when not serving.
        self.port: int | None = None
        self.app.router.add_get("/sante", self._health)

    def add_routes(self, routes: Iterable[web.RouteDef]) -> None:
        self.app.router.add_routes(list(routes))

    def add_check(self, name: str, check: Check) -> None:
        """A part of ``/sante``: ``check()`` says whether it is well and what to show."""
        self._checks[name] = check

    @property
    def serving(self) -> bool:
        return self.port is not None

    async def start(self) -> None:
        # No access log: a private feed's address is a secret.
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.requested_port)
        try:
            await site.start()
        except OSError as exc:
            log.error(
                "web server: cannot listen on %s:%s (%s); the bot goes on without its site "
                "and calendars (set web.port, or web.enabled = false)",
                self.host,
                self.requested_port,
                exc.strerror or exc,
            )
            await runner.cleanup()
            return
        self._runner = runner
        addresses = runner.addresses  # the bound sockets' (host, port, …): port 0 resolved
        self.port = int(addresses[0][1]) if addresses else self.requested_port
        log.info("web server listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self.port = None
            log.info("web server stopped")

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Every check, each bounded in time; well only when all are."""
        report: dict[str, Any] = {}
        well = True
        for name, check in self._checks.items():
            try:
                ok, details = await asyncio.wait_for(check(), CHECK_SECONDS)
            except Exception as exc:  # a failing check is a finding, not a crash
                ok, details = False, {"error": type(exc).__name__}
            report[name] = {"ok": ok, **details}
            well = well and ok
        return well, {"status": "ok" if well else "degraded", **report}

    async def _health(self, request: web.Request) -> web.Response:
        well, report = await self.health()
        return web.Response(
            status=200 if well else 503,
            text=json.dumps(report, ensure_ascii=False),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )
