"""A graceful stop never hangs on one step."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import core


async def test_a_step_that_hangs_is_named_and_left(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(core, "SHUTDOWN_STEP_SECONDS", 0.05)
    finished: list[str] = []

    async def hangs() -> None:
        await asyncio.Event().wait()

    async def quick() -> None:
        finished.append("quick")

    with caplog.at_level(logging.INFO, logger="bot.core"):
        await core._bounded("the gateway", hangs())
        await core._bounded("the database", quick())
    assert finished == ["quick"]
    assert "the gateway did not finish within 0 s; going on" in caplog.text
    assert "the database" not in caplog.text  # quick steps are not logged
