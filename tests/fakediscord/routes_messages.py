"""REST routes for messages, reactions, pins, typing, DMs and users."""

from __future__ import annotations

import logging
from typing import Any

from . import errors
from .messages import edit_changes, find_by_nonce, new_message_fields
from .models import Channel, ChannelType, Message, iso, now
from .permissions import Perm
from .rest import Reply, RestRequest, RouteSet

log = logging.getLogger(__name__)

routes = RouteSet()


def bot_can_use_channel(req: RestRequest, channel: Channel, bits: int) -> None:
    """Permission checks for acting in a channel (guild channel, thread or DM)."""
    fake = req.fake
    if channel.guild_id is None:
        return
    fake.require_channel_permissions(channel, bits)
    hidden_thread = (
        channel.type == ChannelType.PRIVATE_THREAD
        and fake.bot_user.id not in channel.member_ids
        and not fake.bot_channel_permissions(channel) & Perm.MANAGE_THREADS
    )
    if hidden_thread:
        raise errors.missing_access()


def _channel(req: RestRequest) -> Channel:
    channel = req.fake.channel_or_404(req.id("channel_id"))
    if channel.guild_id is not None and not req.fake.bot_channel_permissions(channel):
        raise errors.missing_access()
    return channel


def check_dm_allowed(req: RestRequest, channel: Channel) -> None:
    """403 50007 for closed DMs, bots, and users sharing no guild with the bot."""
    fake = req.fake
    for user_id in channel.recipient_ids:
        user = fake.users[user_id]
        shares_guild = any(
            user.id in g.members and fake.bot_user.id in g.members for g in fake.guilds.values()
        )
        if not user.dms_open or user.bot or not shares_guild:
            raise errors.ApiError(403, 50007, "Cannot send messages to this user")


@routes("POST", "/channels/{channel_id}/messages")
async def create_message(req: RestRequest) -> Any:
    fake, payload = req.fake, req.body
    channel = _channel(req)
    if channel.type not in ChannelType.MESSAGEABLE:
        raise errors.ApiError(400, 50008, "Cannot send messages in a non-text channel")
    if channel.guild_id is None:
        check_dm_allowed(req, channel)
    else:
        bits = Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
        if req.files:
            bits |= Perm.ATTACH_FILES
        if payload.get("message_reference"):
            bits |= Perm.READ_MESSAGE_HISTORY
        bot_can_use_channel(req, channel, bits)
        if channel.is_thread and channel.locked:
            fake.require_channel_permissions(channel, Perm.MANAGE_THREADS)
    if payload.get("enforce_nonce") and payload.get("nonce") is not None:
        earlier = find_by_nonce(fake, channel, fake.bot_user.id, payload["nonce"])
        if earlier is not None:
            return fake.message_payload(earlier)
    fields = new_message_fields(fake, channel, payload, req.files)
    msg = fake.create_message(channel, fake.bot_user, **fields)
    return fake.message_payload(msg)


@routes("GET", "/channels/{channel_id}/messages")
async def list_messages(req: RestRequest) -> Any:
    fake = req.fake
    channel = _channel(req)
    if channel.guild_id is not None and not (
        fake.bot_channel_permissions(channel) & Perm.READ_MESSAGE_HISTORY
    ):
        return []
    limit = max(1, min(int(req.query.get("limit", 50)), 100))
    msgs = sorted(
        (
            m
            for m in fake.messages.values()
            if m.channel_id == channel.id and not m.deleted and not m.ephemeral
        ),
        key=lambda m: m.id,
    )
    if "before" in req.query:
        msgs = [m for m in msgs if m.id < int(req.query["before"])][-limit:]
    elif "after" in req.query:
        msgs = [m for m in msgs if m.id > int(req.query["after"])][:limit]
    elif "around" in req.query:
        pivot = int(req.query["around"])
        older = [m for m in msgs if m.id <= pivot][-(limit // 2 + 1) :]
        newer = [m for m in msgs if m.id > pivot][: limit - len(older)]
        msgs = older + newer
    else:
        msgs = msgs[-limit:]
    return [fake.message_payload(m) for m in reversed(msgs)]


@routes("GET", "/channels/{channel_id}/messages/{message_id}")
async def get_message(req: RestRequest) -> Any:
    fake = req.fake
    channel = _channel(req)
    bot_can_use_channel(req, channel, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY)
    return fake.message_payload(fake.message_or_404(channel, req.id("message_id")))


@routes("GET", "/channels/{channel_id}/polls/{message_id}/answers/{answer_id}")
async def poll_voters(req: RestRequest) -> Any:
    """The users who voted for one answer of a poll."""
    fake = req.fake
    channel = _channel(req)
    bot_can_use_channel(req, channel, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY)
    msg = fake.message_or_404(channel, req.id("message_id"))
    if msg.poll is None:
        raise errors.ApiError(404, 10008, "Unknown Message")
    voters = msg.poll_votes.get(req.id("answer_id"), [])
    return {"users": [fake.users[u].payload() for u in voters if u in fake.users]}


@routes("PATCH", "/channels/{channel_id}/messages/{message_id}")
async def edit_message(req: RestRequest) -> Any:
    fake = req.fake
    channel = _channel(req)
    msg = fake.message_or_404(channel, req.id("message_id"))
    foreign_webhook = msg.webhook_id not in (None, fake.application_id)
    if msg.author.id != fake.bot_user.id or foreign_webhook:
        raise errors.ApiError(403, 50005, "Cannot edit a message authored by another user")
    fake.edit_message(msg, edit_changes(fake, msg, req.body, req.files))
    return fake.message_payload(msg)


@routes("DELETE", "/channels/{channel_id}/messages/{message_id}")
async def delete_message(req: RestRequest) -> Any:
    fake = req.fake
    channel = _channel(req)
    msg = fake.message_or_404(channel, req.id("message_id"))
    if msg.author.id != fake.bot_user.id:
        if channel.guild_id is None:
            raise errors.ApiError(403, 50003, "Cannot execute action on a DM channel")
        bot_can_use_channel(req, channel, Perm.MANAGE_MESSAGES)
    fake.delete_message(msg)
    return None


@routes("POST", "/channels/{channel_id}/messages/bulk-delete")
async def bulk_delete(req: RestRequest) -> Any:
    fake = req.fake
    channel = _channel(req)
    bot_can_use_channel(req, channel, Perm.MANAGE_MESSAGES)
    ids = [int(i) for i in req.body.get("messages") or []]
    if not 2 <= len(ids) <= 100:
        raise errors.ApiError(
            400,
            50035,
            "Invalid Form Body",
            {"messages": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "2 to 100"}]}},
        )
    for message_id in ids:
        msg = fake.messages.get(message_id)
        if msg is not None and msg.channel_id == channel.id and not msg.deleted:
            if (now() - msg.created_at).days >= 14:
                raise errors.ApiError(400, 50034, "You can only bulk delete messages under 14 days")
            msg.deleted = True
    data: dict[str, Any] = {"ids": [str(i) for i in ids], "channel_id": str(channel.id)}
    if channel.guild_id is not None:
        data["guild_id"] = str(channel.guild_id)
    fake.dispatch("MESSAGE_DELETE_BULK", data, guild_id=channel.guild_id)
    return None


# ----- reactions --------------------------------------------------------------------------


def _emoji_payload(key: str) -> dict[str, Any]:
    if ":" in key:
        name, _, emoji_id = key.partition(":")
        return {"id": emoji_id, "name": name, "animated": False}
    return {"id": None, "name": key}


def _check_emoji(key: str) -> None:
    if ":" in key:
        raise errors.unknown("emoji")  # the fake knows no custom emojis
    if key.isascii():
        raise errors.unknown("emoji")


def _reaction_event(req: RestRequest, event: str, msg: Message, key: str, user_id: int) -> None:
    data: dict[str, Any] = {
        "user_id": str(user_id),
        "channel_id": str(msg.channel_id),
        "message_id": str(msg.id),
        "emoji": _emoji_payload(key),
        "burst": False,
        "type": 0,
    }
    if msg.guild_id is not None:
        data["guild_id"] = str(msg.guild_id)
        member = req.fake.guilds[msg.guild_id].members.get(user_id)
        if member is not None and event == "MESSAGE_REACTION_ADD":
            data["member"] = member.payload()
    if event == "MESSAGE_REACTION_ADD":
        data["message_author_id"] = str(msg.author.id)
    req.fake.dispatch(event, data, guild_id=msg.guild_id)


@routes("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
async def add_reaction(req: RestRequest) -> Any:
    fake = req.fake
    channel = _channel(req)
    msg = fake.message_or_404(channel, req.id("message_id"))
    key = req.params["emoji"]
    _check_emoji(key)
    bits = Perm.READ_MESSAGE_HISTORY | (0 if msg.reactions.get(key) else Perm.ADD_REACTIONS)
    bot_can_use_channel(req, channel, bits)
    users = msg.reactions.setdefault(key, [])
    if fake.bot_user.id not in users:
        users.append(fake.bot_user.id)
        _reaction_event(req, "MESSAGE_REACTION_ADD", msg, key, fake.bot_user.id)
    return None


@routes("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}")
async def remove_reaction(req: RestRequest) -> Any:
    fake = req.fake
    channel = _channel(req)
    msg = fake.message_or_404(channel, req.id("message_id"))
    key = req.params["emoji"]
    user_id = fake.bot_user.id if req.params["user_id"] == "@me" else req.id("user_id")
    if user_id != fake.bot_user.id:
        bot_can_use_channel(req, channel, Perm.MANAGE_MESSAGES)
    users = msg.reactions.get(key) or []
    if user_id in users:
        users.remove(user_id)
        _reaction_event(req, "MESSAGE_REACTION_REMOVE", msg, key, user_id)
    return None


@routes("GET", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}")
async def reaction_users(req: RestRequest) -> Any:
    fake = req.fake
    msg = fake.message_or_404(_channel(req), req.id("message_id"))
    users = msg.reactions.get(req.params["emoji"]) or []
    return [fake.users[u].payload() for u in users]


@routes("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions")
async def clear_reactions(req: RestRequest) -> Any:
    fake = req.fake
    channel = _channel(req)
    msg = fake.message_or_404(channel, req.id("message_id"))
    bot_can_use_channel(req, channel, Perm.MANAGE_MESSAGES)
    msg.reactions.clear()
    data = {"channel_id": str(channel.id), "message_id": str(msg.id)}
    if channel.guild_id is not None:
        data["guild_id"] = str(channel.guild_id)
    fake.dispatch("MESSAGE_REACTION_REMOVE_ALL", data, guild_id=channel.guild_id)
    return None


# ----- pins & typing ----------------------------------------------------------------------


async def _set_pinned(req: RestRequest, pinned: bool) -> Any:
    fake = req.fake
    channel = _channel(req)
    msg = fake.message_or_404(channel, req.id("message_id"))
    if channel.guild_id is not None:
        perms = fake.bot_channel_permissions(channel)
        if not perms & (Perm.PIN_MESSAGES | Perm.MANAGE_MESSAGES):
            raise errors.missing_permissions()
    if msg.pinned != pinned:
        msg.pinned = pinned
        fake.dispatch("MESSAGE_UPDATE", fake.message_payload(msg), guild_id=channel.guild_id)
        data: dict[str, Any] = {"channel_id": str(channel.id), "last_pin_timestamp": iso(now())}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        fake.dispatch("CHANNEL_PINS_UPDATE", data, guild_id=channel.guild_id)
    return None


@routes("PUT", "/channels/{channel_id}/messages/pins/{message_id}")
async def pin(req: RestRequest) -> Any:
    return await _set_pinned(req, True)


@routes("DELETE", "/channels/{channel_id}/messages/pins/{message_id}")
async def unpin(req: RestRequest) -> Any:
    return await _set_pinned(req, False)


@routes("PUT", "/channels/{channel_id}/pins/{message_id}")
async def pin_legacy(req: RestRequest) -> Any:
    return await _set_pinned(req, True)


@routes("DELETE", "/channels/{channel_id}/pins/{message_id}")
async def unpin_legacy(req: RestRequest) -> Any:
    return await _set_pinned(req, False)


def _pinned(req: RestRequest) -> list[Message]:
    channel = _channel(req)
    return [
        m
        for m in req.fake.messages.values()
        if m.channel_id == channel.id and m.pinned and not m.deleted
    ]


@routes("GET", "/channels/{channel_id}/messages/pins")
async def list_pins(req: RestRequest) -> Any:
    items = [
        {"pinned_at": iso(now()), "message": req.fake.message_payload(m)} for m in _pinned(req)
    ]
    return {"items": items, "has_more": False}


@routes("GET", "/channels/{channel_id}/pins")
async def list_pins_legacy(req: RestRequest) -> Any:
    return [req.fake.message_payload(m) for m in _pinned(req)]


@routes("POST", "/channels/{channel_id}/typing")
async def typing(req: RestRequest) -> Any:
    bot_can_use_channel(req, _channel(req), Perm.SEND_MESSAGES)
    return None


# ----- users & DMs ------------------------------------------------------------------------


@routes("POST", "/users/@me/channels")
async def open_dm(req: RestRequest) -> Any:
    fake = req.fake
    user = fake.user_or_404(int(req.body.get("recipient_id") or 0))
    return fake.channel_payload(fake.open_dm(user))


@routes("GET", "/users/@me")
async def get_me(req: RestRequest) -> Any:
    user = req.fake.bot_user
    return {**user.payload(), "verified": True, "mfa_enabled": False, "locale": "en-US"}


@routes("PATCH", "/users/@me")
async def edit_me(req: RestRequest) -> Any:
    user = req.fake.bot_user
    if req.body.get("username"):
        user.username = req.body["username"]
    return {**user.payload(), "verified": True, "mfa_enabled": False}


@routes("GET", "/users/@me/guilds")
async def my_guilds(req: RestRequest) -> Any:
    fake = req.fake
    return [
        {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "owner": g.owner_id == fake.bot_user.id,
            "permissions": str(fake.bot_guild_permissions(g)),
            "features": g.features,
        }
        for g in fake.guilds.values()
        if fake.bot_user.id in g.members
    ]


@routes("DELETE", "/users/@me/guilds/{guild_id}")
async def leave_guild(req: RestRequest) -> Any:
    fake = req.fake
    guild = fake.guild_or_404(req.id("guild_id"))
    fake.dispatch("GUILD_DELETE", {"id": str(guild.id)}, guild_id=guild.id)
    del guild.members[fake.bot_user.id]
    return None


@routes("GET", "/users/{user_id}")
async def get_user(req: RestRequest) -> Any:
    return req.fake.user_or_404(req.id("user_id")).payload()


@routes("GET", "/gateway")
async def get_gateway(req: RestRequest) -> Any:
    return {"url": req.fake.gateway_url}


@routes("GET", "/gateway/bot")
async def get_gateway_bot(req: RestRequest) -> Any:
    return Reply(
        200,
        {
            "url": req.fake.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        },
    )
