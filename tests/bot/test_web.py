"""The bot's web server (bot/web.py): /sante's answer, a taken port, start and stop."""

from __future__ import annotations

import logging
import socket
from typing import Any

import aiohttp
import pytest

from bot.web import WebServer


async def _fetch(port: int, path: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.json(content_type=None)


async def test_health_is_200_when_every_check_is_well_and_503_otherwise() -> None:
    state = {"gateway": True}

    async def gateway() -> tuple[bool, dict[str, Any]]:
        return state["gateway"], {"connected": state["gateway"]}

    async def database() -> tuple[bool, dict[str, Any]]:
        return True, {}

    async def broken() -> tuple[bool, dict[str, Any]]:
        raise ConnectionError("no database")

    server = WebServer("127.0.0.1", 0)
    server.add_check("gateway", gateway)
    server.add_check("database", database)
    await server.start()
    try:
        assert server.port is not None and server.port > 0
        status, report = await _fetch(server.port, "/sante")
        assert status == 200 and report == {
            "status": "ok",
            "gateway": {"ok": True, "connected": True},
            "database": {"ok": True},
        }
        state["gateway"] = False  # reconnecting to Discord: still answering, 503
        status, report = await _fetch(server.port, "/sante")
        assert status == 503 and report["status"] == "degraded"
        assert report["gateway"] == {"ok": False, "connected": False}
        server.add_check("scheduler", broken)
        state["gateway"] = True
        status, report = await _fetch(server.port, "/sante")
        assert status == 503 and report["scheduler"] == {"ok": False, "error": "ConnectionError"}
    finally:
        await server.stop()
    assert server.port is None


async def test_a_taken_port_logs_one_error_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = WebServer("127.0.0.1", port)
        with caplog.at_level(logging.ERROR, logger="bot.web"):
            await server.start()
        assert not server.serving
        [record] = [r for r in caplog.records if r.name == "bot.web"]
        assert str(port) in record.getMessage() and "web.port" in record.getMessage()
        await server.stop()  # nothing to stop: no error


def test_web_settings_refuse_an_address_that_is_not_http() -> None:
    from bot.config import Settings

    assert Settings(web={"base_url": "https://example.org/partage/"}).web.base_url == (
        "https://example.org/partage"
    )
    for wrong in ("ftp://example.org", "example.org", "https://example.org/?a=1", ""):
        with pytest.raises(ValueError, match="http"):
            Settings(web={"base_url": wrong})
    with pytest.raises(ValueError):
        Settings(web={"port": 70000})
