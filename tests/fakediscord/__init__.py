"""A Discord-compatible fake server for end-to-end tests of discord.py bots.

Main entry points: :class:`FakeDiscord` (server + state + test API), the
``fake_discord`` pytest fixture in :mod:`tests.fakediscord.fixtures`, and
:func:`run_bot` to run a real client against it.
"""

from .botrunner import run_bot
from .errors import ApiError
from .gateway import Intent
from .handles import CallbackRecord, InteractionHandle, Upload
from .install import DiscordTargets, install_from_env, point_discord_at
from .models import (
    AppCommand,
    Attachment,
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    Overwrite,
    Role,
    ScheduledEvent,
    User,
)
from .permissions import DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS, Perm
from .rest import FailureRule, RateLimitBucket, RequestRecord
from .server import FakeDiscord, wait_until

__all__ = [
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "ApiError",
    "AppCommand",
    "Attachment",
    "CallbackRecord",
    "Channel",
    "ChannelType",
    "DiscordTargets",
    "FailureRule",
    "FakeDiscord",
    "Guild",
    "Intent",
    "InteractionHandle",
    "Member",
    "Message",
    "Overwrite",
    "Perm",
    "RateLimitBucket",
    "RequestRecord",
    "Role",
    "ScheduledEvent",
    "Upload",
    "User",
    "install_from_env",
    "point_discord_at",
    "run_bot",
    "wait_until",
]
