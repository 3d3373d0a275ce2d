"""pytest fixtures for the fake Discord (import them from a conftest.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .server import FakeDiscord

log = logging.getLogger(__name__)


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started fake Discord installed into discord.py (restored afterwards).

    At teardown the test fails if the bot made a REST call the fake does not know or if
    a fake handler crashed (``fake.assert_clean()``).
    """
    async with FakeDiscord() as fake:
        yield fake
    try:
        fake.assert_clean()
    except AssertionError as exc:
        pytest.fail(f"fake discord: {exc}", pytrace=False)
