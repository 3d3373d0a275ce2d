"""End-to-end fixtures: the fake Discord, the server on it, settings for the real bot."""

from __future__ import annotations

import pytest

from bot.config import Settings
from tests.e2e.harness import Server, build_server, settings_for
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import fake_discord  # noqa: F401


@pytest.fixture
def server(fake_discord: FakeDiscord) -> Server:  # noqa: F811
    return build_server(fake_discord)


@pytest.fixture
def settings(fake_discord: FakeDiscord, server: Server, db_url: str) -> Settings:  # noqa: F811
    return settings_for(fake_discord, server, db_url)
