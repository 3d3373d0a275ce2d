"""REST routes for guild scheduled events."""

from __future__ import annotations

import logging
from typing import Any

from . import errors
from .models import ChannelType, Guild, now
from .permissions import Perm
from .rest import RestRequest, RouteSet
from .routes_guilds import guild_of
from .validation_guild import validate_scheduled_event

log = logging.getLogger(__name__)

routes = RouteSet()


# ----- scheduled events -------------------------------------------------------------------


def _event(req: RestRequest, guild: Guild) -> Any:
    event = guild.scheduled_events.get(req.id("event_id"))
    if event is None or event.deleted:
        raise errors.unknown("event")
    return event


def _check_event_channel(
    req: RestRequest, guild: Guild, entity_type: int, channel_id: Any
) -> int | None:
    if entity_type == 3 or channel_id is None:
        return None
    channel = req.fake.channel_or_404(int(channel_id))
    expected = ChannelType.STAGE if entity_type == 1 else ChannelType.VOICE
    if channel.guild_id != guild.id or channel.type != expected:
        raise errors.ApiError(
            400,
            50035,
            "Invalid Form Body",
            {"channel_id": {"_errors": [{"code": "CHANNEL_TYPE_INVALID", "message": "Bad type"}]}},
        )
    req.fake.require_channel_permissions(channel, Perm.VIEW_CHANNEL | Perm.CONNECT)
    return channel.id


@routes("GET", "/guilds/{guild_id}/scheduled-events")
async def list_events(req: RestRequest) -> Any:
    guild = guild_of(req)
    return [req.fake.event_payload(e) for e in guild.scheduled_events.values() if not e.deleted]


@routes("GET", "/guilds/{guild_id}/scheduled-events/{event_id}")
async def get_event(req: RestRequest) -> Any:
    guild = guild_of(req)
    return req.fake.event_payload(_event(req, guild))


@routes("POST", "/guilds/{guild_id}/scheduled-events")
async def create_event(req: RestRequest) -> Any:
    fake, guild, body = req.fake, guild_of(req), req.body
    fake.require_any_guild_permission(guild, Perm.MANAGE_EVENTS | Perm.CREATE_EVENTS)
    start, end = validate_scheduled_event(body, existing=None, now=now())
    entity_type = int(body["entity_type"])
    channel_id = _check_event_channel(req, guild, entity_type, body.get("channel_id"))
    event = fake.create_event(
        guild,
        name=body["name"],
        description=body.get("description"),
        scheduled_start_time=start,
        scheduled_end_time=end,
        entity_type=entity_type,
        channel_id=channel_id,
        location=(body.get("entity_metadata") or {}).get("location"),
        privacy_level=body.get("privacy_level", 2),
        creator_id=fake.bot_user.id,
        image=body.get("image"),
    )
    return fake.event_payload(event)


_TRANSITIONS = {1: {1, 2, 4}, 2: {2, 3}, 3: {3}, 4: {4}}


@routes("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}")
async def edit_event(req: RestRequest) -> Any:
    fake, guild, body = req.fake, guild_of(req), req.body
    event = _event(req, guild)
    if event.creator_id == fake.bot_user.id:
        fake.require_any_guild_permission(guild, Perm.MANAGE_EVENTS | Perm.CREATE_EVENTS)
    else:
        fake.require_guild_permissions(guild, Perm.MANAGE_EVENTS)
    if event.status in (3, 4):
        raise errors.ApiError(400, 180000, "Cannot modify a finished event")
    start, end = validate_scheduled_event(body, existing=event, now=now())
    changes: dict[str, Any] = {}
    if "status" in body:
        status = int(body["status"])
        if status not in _TRANSITIONS.get(event.status, set()):
            raise errors.ApiError(400, 180000, "Invalid scheduled event status transition")
        changes["status"] = status
    for key in ("name", "description", "privacy_level", "image"):
        if key in body:
            changes[key] = body[key]
    if start is not None:
        changes["scheduled_start_time"] = start
    if "scheduled_end_time" in body:
        changes["scheduled_end_time"] = end
    entity_type = int(body.get("entity_type", event.entity_type))
    changes["entity_type"] = entity_type
    if "channel_id" in body or entity_type != event.entity_type:
        changes["channel_id"] = _check_event_channel(
            req, guild, entity_type, body.get("channel_id")
        )
    if body.get("entity_metadata"):
        changes["location"] = body["entity_metadata"].get("location")
    elif entity_type != 3:
        changes["location"] = None
    return fake.event_payload(fake.update_event(event, **changes))


@routes("DELETE", "/guilds/{guild_id}/scheduled-events/{event_id}")
async def delete_event(req: RestRequest) -> Any:
    fake, guild = req.fake, guild_of(req)
    event = _event(req, guild)
    if event.creator_id == fake.bot_user.id:
        fake.require_any_guild_permission(guild, Perm.MANAGE_EVENTS | Perm.CREATE_EVENTS)
    else:
        fake.require_guild_permissions(guild, Perm.MANAGE_EVENTS)
    fake.delete_event(event)
    return None
