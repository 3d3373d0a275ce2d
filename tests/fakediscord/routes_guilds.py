"""REST routes for guilds, channels, permission overwrites, roles, members and events."""

from __future__ import annotations

import logging
from typing import Any

from . import errors
from .models import Channel, ChannelType, Guild, Overwrite, now
from .permissions import Perm
from .rest import Reply, RestRequest, RouteSet
from .validation_guild import validate_channel

log = logging.getLogger(__name__)

routes = RouteSet()

_CHANNEL_FIELDS = (
    "name",
    "topic",
    "nsfw",
    "rate_limit_per_user",
    "bitrate",
    "user_limit",
    "default_auto_archive_duration",
    "flags",
)
_THREAD_FIELDS = ("name", "archived", "auto_archive_duration", "locked", "invitable", "flags")


def guild_of(req: RestRequest) -> Guild:
    """The guild of the ``guild_id`` path parameter (404/403 like Discord)."""
    return req.fake.guild_or_404(req.id("guild_id"))


def normalize_channel_name(name: str, channel_type: int) -> str:
    """Discord lowercases text channel names and turns spaces into dashes."""
    if channel_type in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT):
        return "-".join(name.lower().split())
    return name


def _check_overwrite_bits(req: RestRequest, guild: Guild, allow: int, deny: int) -> None:
    """Only an administrator may grant/deny what it lacks itself, or MANAGE_ROLES."""
    perms = req.fake.bot_guild_permissions(guild)
    if perms == Perm.ALL:
        return
    if (allow | deny) & ~perms or (allow | deny) & Perm.MANAGE_ROLES:
        raise errors.missing_permissions()


def _overwrites_from(
    req: RestRequest, guild: Guild, items: list[dict[str, Any]]
) -> dict[int, Overwrite]:
    result: dict[int, Overwrite] = {}
    for item in items:
        ow = Overwrite(
            id=int(item["id"]),
            type=int(item.get("type", 0)),
            allow=int(item.get("allow") or 0),
            deny=int(item.get("deny") or 0),
        )
        _check_overwrite_bits(req, guild, ow.allow, ow.deny)
        result[ow.id] = ow
    return result


def _check_parent(req: RestRequest, guild: Guild, parent_id: Any) -> int | None:
    if parent_id is None:
        return None
    parent = req.fake.channels.get(int(parent_id))
    if parent is None or parent.guild_id != guild.id or parent.type != ChannelType.CATEGORY:
        raise errors.ApiError(
            400,
            50035,
            "Invalid Form Body",
            {"parent_id": {"_errors": [{"code": "CHANNEL_PARENT_INVALID", "message": "Unknown"}]}},
        )
    return parent.id


def _tags(req: RestRequest, tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for tag in tags:
        out.append(
            {
                "id": str(tag.get("id") or req.fake.next_id()),
                "name": tag["name"],
                "moderated": bool(tag.get("moderated", False)),
                "emoji_id": tag.get("emoji_id"),
                "emoji_name": tag.get("emoji_name"),
            }
        )
    return out


# ----- guild & channels -------------------------------------------------------------------


@routes("GET", "/guilds/{guild_id}")
async def get_guild(req: RestRequest) -> Any:
    guild = guild_of(req)
    data = guild.payload()
    if req.query.get("with_counts") in ("true", "1", "True"):
        data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
    return data


@routes("GET", "/guilds/{guild_id}/channels")
async def get_channels(req: RestRequest) -> Any:
    guild = guild_of(req)
    return [req.fake.channel_payload(c) for c in req.fake.guild_channels(guild)]


@routes("POST", "/guilds/{guild_id}/channels")
async def create_channel(req: RestRequest) -> Any:
    fake, guild, body = req.fake, guild_of(req), req.body
    ctype = int(body.get("type") or 0)
    validate_channel(body, creating=True, channel_type=ctype)
    parent_id = _check_parent(req, guild, body.get("parent_id"))
    if parent_id is not None:
        fake.require_channel_permissions(fake.channels[parent_id], Perm.MANAGE_CHANNELS)
    else:
        fake.require_guild_permissions(guild, Perm.MANAGE_CHANNELS)
    overwrites = _overwrites_from(req, guild, body.get("permission_overwrites") or [])
    fields = {k: body[k] for k in _CHANNEL_FIELDS if body.get(k) is not None and k != "name"}
    channel = fake.create_channel(
        guild,
        type=ctype,
        name=normalize_channel_name(body["name"], ctype),
        parent_id=parent_id,
        position=body.get("position"),
        overwrites=overwrites,
        available_tags=_tags(req, body.get("available_tags") or []),
        **fields,
    )
    return Reply(201, fake.channel_payload(channel))


@routes("PATCH", "/guilds/{guild_id}/channels")
async def move_channels(req: RestRequest) -> Any:
    fake, guild = req.fake, guild_of(req)
    fake.require_guild_permissions(guild, Perm.MANAGE_CHANNELS)
    for item in req.json or []:
        channel = fake.channel_or_404(int(item["id"]))
        if item.get("position") is not None:
            channel.position = int(item["position"])
        if "parent_id" in item:
            channel.parent_id = _check_parent(req, guild, item["parent_id"])
        if item.get("lock_permissions") and channel.parent_id:
            parent = fake.channels[channel.parent_id]
            channel.overwrites = {k: Overwrite(**vars(v)) for k, v in parent.overwrites.items()}
        fake.update_channel(channel)
    return None


def _visible_channel(req: RestRequest) -> Channel:
    fake = req.fake
    channel = fake.channel_or_404(req.id("channel_id"))
    if channel.guild_id is None:
        if fake.bot_user.id not in channel.recipient_ids and not any(
            fake.users[u].dm_channel_id == channel.id for u in channel.recipient_ids
        ):
            raise errors.missing_access()
    elif not fake.bot_channel_permissions(channel) & Perm.VIEW_CHANNEL:
        raise errors.missing_access()
    return channel


@routes("GET", "/channels/{channel_id}")
async def get_channel(req: RestRequest) -> Any:
    return req.fake.channel_payload(_visible_channel(req))


@routes("PATCH", "/channels/{channel_id}")
async def edit_channel(req: RestRequest) -> Any:
    fake, body = req.fake, req.body
    channel = _visible_channel(req)
    if channel.guild_id is None:
        raise errors.ApiError(400, 50003, "Cannot execute action on a DM channel")
    guild = fake.guilds[channel.guild_id]
    validate_channel(body, creating=False, channel_type=channel.type)
    if channel.is_thread:
        own = channel.owner_id == fake.bot_user.id and not channel.locked
        only_own_fields = set(body) <= {"name", "archived", "auto_archive_duration"}
        if not (own and only_own_fields):
            fake.require_channel_permissions(channel, Perm.MANAGE_THREADS)
        for key in _THREAD_FIELDS:
            if key in body:
                setattr(channel, key, body[key])
        if "archived" in body:
            channel.archive_timestamp = now()
        if "applied_tags" in body:
            channel.applied_tags = [int(t) for t in body["applied_tags"] or []]
        fake.update_channel(channel)
        return fake.channel_payload(channel)
    fake.require_channel_permissions(channel, Perm.MANAGE_CHANNELS)
    if "permission_overwrites" in body:
        fake.require_channel_permissions(channel, Perm.MANAGE_ROLES)
        channel.overwrites = _overwrites_from(req, guild, body["permission_overwrites"] or [])
    if "parent_id" in body:
        channel.parent_id = _check_parent(req, guild, body["parent_id"])
    for key in _CHANNEL_FIELDS:
        if key in body:
            value = body[key]
            if key == "name":
                value = normalize_channel_name(value, channel.type)
            setattr(channel, key, value)
    if body.get("position") is not None:
        channel.position = int(body["position"])
    if "available_tags" in body:
        channel.available_tags = _tags(req, body["available_tags"] or [])
    fake.update_channel(channel)
    return fake.channel_payload(channel)


@routes("DELETE", "/channels/{channel_id}")
async def delete_channel(req: RestRequest) -> Any:
    fake = req.fake
    channel = _visible_channel(req)
    payload = fake.channel_payload(channel)
    if channel.guild_id is None:
        return payload  # closing a DM does nothing visible
    needed = Perm.MANAGE_THREADS if channel.is_thread else Perm.MANAGE_CHANNELS
    fake.require_channel_permissions(channel, needed)
    fake.delete_channel(channel)
    return payload


@routes("PUT", "/channels/{channel_id}/permissions/{target}")
async def put_overwrite(req: RestRequest) -> Any:
    fake, body = req.fake, req.body
    channel = _visible_channel(req)
    if channel.guild_id is None or channel.is_thread:
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    guild = fake.guilds[channel.guild_id]
    fake.require_channel_permissions(channel, Perm.MANAGE_ROLES)
    target, kind = req.id("target"), int(body.get("type", 0))
    if (kind == 0 and target not in guild.roles) or (kind == 1 and target not in guild.members):
        raise errors.unknown("role" if kind == 0 else "member")
    allow, deny = int(body.get("allow") or 0), int(body.get("deny") or 0)
    _check_overwrite_bits(req, guild, allow, deny)
    fake.apply_overwrite(channel, Overwrite(id=target, type=kind, allow=allow, deny=deny), target)
    return None


@routes("DELETE", "/channels/{channel_id}/permissions/{target}")
async def delete_overwrite(req: RestRequest) -> Any:
    fake = req.fake
    channel = _visible_channel(req)
    fake.require_channel_permissions(channel, Perm.MANAGE_ROLES)
    fake.apply_overwrite(channel, None, req.id("target"))
    return None
