"""Point discord.py at a fake Discord. Usable without the server, e.g. in a child process
that only knows the URLs (see :func:`install_from_env`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

import yarl
from discord.asset import Asset
from discord.gateway import DiscordWebSocket
from discord.http import Route

log = logging.getLogger(__name__)

ENV_REST = "FAKE_DISCORD_REST_BASE"
ENV_GATEWAY = "FAKE_DISCORD_GATEWAY_URL"
ENV_CDN = "FAKE_DISCORD_CDN_BASE"
ENV_TOKEN = "FAKE_DISCORD_TOKEN"


@dataclass(frozen=True)
class DiscordTargets:
    """Where discord.py sends REST calls, opens the gateway and builds CDN URLs."""

    rest_base: str
    gateway_url: str
    cdn_base: str


def current_targets() -> DiscordTargets:
    return DiscordTargets(Route.BASE, str(DiscordWebSocket.DEFAULT_GATEWAY), Asset.BASE)


def point_discord_at(targets: DiscordTargets) -> DiscordTargets:
    """Set discord.py's class-level URLs; returns the previous ones for :func:`restore`."""
    previous = current_targets()
    Route.BASE = targets.rest_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(targets.gateway_url)
    Asset.BASE = targets.cdn_base
    log.debug("discord.py now talks to %s", targets)
    return previous


def restore(previous: DiscordTargets) -> None:
    point_discord_at(previous)


def targets_env(targets: DiscordTargets) -> dict[str, str]:
    """Environment variables for a child process (read back by :func:`install_from_env`)."""
    return {
        ENV_REST: targets.rest_base,
        ENV_GATEWAY: targets.gateway_url,
        ENV_CDN: targets.cdn_base,
    }


def install_from_env(env: Mapping[str, str] | None = None) -> bool:
    """In a child process: point discord.py at the fake named by the environment, if any."""
    env = os.environ if env is None else env
    if ENV_REST not in env:
        return False
    point_discord_at(DiscordTargets(env[ENV_REST], env[ENV_GATEWAY], env[ENV_CDN]))
    return True
