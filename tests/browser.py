"""A real browser for the tests: Debian's ``chromium``, headless, driven over the DevTools
protocol (a websocket, through aiohttp). No test here.

``PARTAGE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) turns a missing chromium into a failure;
otherwise the browser tests are skipped with the reason."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str:
    """The browser, or a skip (a failure when ``PARTAGE_REQUIRE_BROWSER`` is set)."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    reason = "chromium is not installed (apt-get install chromium); browser tests skipped"
    if os.environ.get("PARTAGE_REQUIRE_BROWSER"):
        pytest.fail(reason.replace("skipped", "required: PARTAGE_REQUIRE_BROWSER is set"))
    pytest.skip(reason)


class Page:
    """One tab: navigate, evaluate JavaScript, take screenshots."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        await self.ws.send_str(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = await asyncio.wait_for(self.ws.receive(), 30)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"DevTools connection: {message.type}")
            data = json.loads(message.data)
            if data.get("id") == message_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})
            if "method" in data:
                self._events.append(data)

    async def _event(self, method: str, timeout: float = 30.0) -> dict[str, Any]:  # noqa: ASYNC109
        for i, event in enumerate(self._events):
            if event["method"] == method:
                return self._events.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await asyncio.wait_for(self.ws.receive(), max(deadline - loop.time(), 0.1))
            data = json.loads(message.data)
            if data.get("method") == method:
                return data
            if "method" in data:
                self._events.append(data)

    async def goto(self, url: str) -> None:
        self._events.clear()
        await self.send("Page.navigate", url=url)
        await self._event("Page.loadEventFired")

    async def wait_load(self) -> None:
        await self._event("Page.loadEventFired")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def screenshot(self, path: str) -> None:
        result = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        await asyncio.to_thread(Path(path).write_bytes, base64.b64decode(result["data"]))


@contextlib.asynccontextmanager
async def chromium(width: int = 390, height: int = 844) -> AsyncIterator[Page]:
    """A headless chromium with one tab the size of a phone (390 × 844 CSS pixels)."""
    binary = chromium_path()
    with tempfile.TemporaryDirectory(prefix="partage-chromium-") as profile:
        proc = await asyncio.create_subprocess_exec(
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            endpoint = None
            assert proc.stderr is not None
            while endpoint is None:
                line = await asyncio.wait_for(proc.stderr.readline(), 60)
                if not line:
                    raise RuntimeError("chromium exited before its DevTools endpoint was ready")
                found = re.search(rb"DevTools listening on (ws://\S+)", line)
                if found:
                    endpoint = found.group(1).decode()
            port = re.search(r":(\d+)/", endpoint).group(1)  # type: ignore[union-attr]
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                    targets = await response.json(content_type=None)
                [tab] = [t for t in targets if t["type"] == "page"]
                async with http.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    page = Page(ws)
                    await page.send("Page.enable")
                    await page.send(
                        "Emulation.setDeviceMetricsOverride",
                        width=width,
                        height=height,
                        deviceScaleFactor=2,
                        mobile=True,
                    )
                    yield page
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
