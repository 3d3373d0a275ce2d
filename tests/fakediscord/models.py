"""Plain data model of the fake Discord, with the wire payloads that need no lookups."""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1420070400000


class ChannelType:
    """Channel type numbers used on the wire."""

    TEXT = 0
    DM = 1
    VOICE = 2
    GROUP_DM = 3
    CATEGORY = 4
    ANNOUNCEMENT = 5
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    STAGE = 13
    FORUM = 15
    MEDIA = 16

    THREADS = frozenset({10, 11, 12})
    GUILD_TYPES = frozenset({0, 2, 4, 5, 13, 15, 16})
    MESSAGEABLE = frozenset({0, 1, 2, 3, 5, 10, 11, 12, 13})


class SnowflakeGenerator:
    """Monotonic snowflakes whose timestamp part is the current time, like Discord's."""

    def __init__(self) -> None:
        self._last = 0
        self._counter = itertools.count()

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)
        value = max(value, self._last + 1)
        self._last = value
        return value


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def now() -> datetime:
    return datetime.now(UTC)


def sid(value: int | None) -> str | None:
    """Snowflakes travel as strings."""
    return None if value is None else str(value)


@dataclass(eq=False)
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    #: False after ``FakeDiscord.close_dms``: DMs to this user answer 403 50007.
    dms_open: bool = True
    dm_channel_id: int | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": self.avatar,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    def payload(self) -> dict[str, Any]:
        tags: dict[str, Any] = {}
        if self.bot_id is not None:
            tags["bot_id"] = str(self.bot_id)
        return {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
            "tags": tags,
        }


@dataclass(eq=False)
class Member:
    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=now)
    pending: bool = False
    communication_disabled_until: datetime | None = None

    @property
    def id(self) -> int:
        return self.user.id

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": self.pending,
            "flags": 0,
            "communication_disabled_until": iso(self.communication_disabled_until),
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass(eq=False)
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass(eq=False)
class Channel:
    id: int
    type: int
    guild_id: int | None = None
    name: str | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    rate_limit_per_user: int = 0
    last_message_id: int | None = None
    bitrate: int = 64000
    user_limit: int = 0
    default_auto_archive_duration: int = 1440
    flags: int = 0
    #: Forum tags: dicts with id, name, moderated, emoji_id, emoji_name.
    available_tags: list[dict[str, Any]] = field(default_factory=list)
    # DM channels
    recipient_ids: list[int] = field(default_factory=list)
    # Threads
    owner_id: int | None = None
    archived: bool = False
    auto_archive_duration: int = 1440
    archive_timestamp: datetime = field(default_factory=now)
    locked: bool = False
    invitable: bool = True
    message_count: int = 0
    total_message_sent: int = 0
    member_ids: dict[int, datetime] = field(default_factory=dict)
    applied_tags: list[int] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    deleted: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in ChannelType.THREADS

    def overwrites_payload(self) -> list[dict[str, Any]]:
        return [ow.payload() for ow in self.overwrites.values()]


@dataclass(eq=False)
class Attachment:
    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None
    ephemeral: bool = False

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass(eq=False)
class Message:
    """A message as stored by the fake; ``embeds``/``components`` are kept exactly as sent."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    nonce: str | int | None = None
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    type: int = 0
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    mention_user_ids: list[int] = field(default_factory=list)
    mention_role_ids: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    pinned: bool = False
    thread_id: int | None = None
    #: emoji key -> user ids that reacted
    reactions: dict[str, list[int]] = field(default_factory=dict)
    #: A native poll as sent (question, answers with their ids, expiry), and its votes:
    #: answer id -> user ids.
    poll: dict[str, Any] | None = None
    poll_votes: dict[int, list[int]] = field(default_factory=dict)
    edited_at: datetime | None = None
    #: Snapshots (content, embeds, components, flags) of the message before each edit.
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    @property
    def edits(self) -> int:
        """How many times the message was edited."""
        return len(self.history)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    @property
    def created_at(self) -> datetime:
        return snowflake_time(self.id)

    def custom_ids(self) -> list[str]:
        """All component custom_ids on the message, depth first."""
        return [c["custom_id"] for c in iter_components(self.components) if "custom_id" in c]

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        for comp in iter_components(self.components):
            if comp.get("custom_id") == custom_id:
                return comp
        return None


def iter_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten a component tree (action rows, sections, containers, labels...)."""
    out: list[dict[str, Any]] = []
    for comp in components or []:
        if not isinstance(comp, dict):
            continue
        out.append(comp)
        out.extend(iter_components(comp.get("components") or []))
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, dict):
                out.extend(iter_components([child]))
    return out


@dataclass(eq=False)
class ScheduledEvent:
    id: int
    guild_id: int
    name: str
    scheduled_start_time: datetime
    entity_type: int
    scheduled_end_time: datetime | None = None
    description: str | None = None
    channel_id: int | None = None
    location: str | None = None
    privacy_level: int = 2
    status: int = 1
    creator_id: int | None = None
    image: str | None = None
    user_count: int = 0
    deleted: bool = False

    def payload(self, creator: User | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "channel_id": sid(self.channel_id),
            "creator_id": sid(self.creator_id),
            "name": self.name,
            "description": self.description,
            "scheduled_start_time": iso(self.scheduled_start_time),
            "scheduled_end_time": iso(self.scheduled_end_time),
            "privacy_level": self.privacy_level,
            "status": self.status,
            "entity_type": self.entity_type,
            "entity_id": None,
            "entity_metadata": {"location": self.location} if self.location is not None else None,
            "user_count": self.user_count,
            "image": self.image,
            "recurrence_rule": None,
        }
        if creator is not None:
            data["creator"] = creator.payload()
        return data


@dataclass(eq=False)
class AppCommand:
    """A registered application command; ``data`` is the payload the bot sent."""

    id: int
    application_id: int
    guild_id: int | None
    data: dict[str, Any]
    version: int

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def type(self) -> int:
        return self.data.get("type", 1)

    @property
    def options(self) -> list[dict[str, Any]]:
        return self.data.get("options") or []

    @property
    def name_localizations(self) -> dict[str, str]:
        return self.data.get("name_localizations") or {}

    @property
    def description_localizations(self) -> dict[str, str]:
        return self.data.get("description_localizations") or {}

    def payload(self) -> dict[str, Any]:
        data = {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "nsfw": False,
            "name_localizations": None,
            "description_localizations": None,
            **self.data,
        }
        data.update(
            id=str(self.id),
            application_id=str(self.application_id),
            version=str(self.version),
        )
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        return data


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    scheduled_events: dict[int, ScheduledEvent] = field(default_factory=dict)
    preferred_locale: str = "en-US"
    features: list[str] = field(default_factory=list)
    system_channel_id: int | None = None
    description: str | None = None
    joined_at: datetime = field(default_factory=now)

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def payload(self) -> dict[str, Any]:
        """The REST guild object (no channels or members)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": self.description,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": list(self.features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": sid(self.system_channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }
