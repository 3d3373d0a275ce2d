"""End-to-end fixtures: the fake Discord, the server on it, settings for the real bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.dbutil import (
    DATABASES,
    copy_of_template,
    postgres_template,
    postgres_url,
    sqlite_template,
)
from tests.e2e.harness import Server, build_server, settings_for
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import fake_discord  # noqa: F401


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("migrated"), migrate=True)


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str | None]:
    yield from postgres_template(postgres_url(), migrate=True)


@pytest.fixture(params=DATABASES)
async def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: Path,
    _postgres_template: str | None,
) -> AsyncIterator[str]:
    """A database at the head migration (a copy of this process's template), once per backend."""
    async with copy_of_template(
        request.param, tmp_path, _sqlite_template, _postgres_template
    ) as url:
        yield url


@pytest.fixture
def server(fake_discord: FakeDiscord) -> Server:  # noqa: F811
    return build_server(fake_discord)


@pytest.fixture
def settings(fake_discord: FakeDiscord, server: Server, db_url: str) -> Settings:  # noqa: F811
    return settings_for(fake_discord, server, db_url)
