"""REST routes for threads, forum posts and thread members."""

from __future__ import annotations

import logging
from typing import Any

from . import errors
from .messages import new_message_fields
from .models import Channel, ChannelType
from .permissions import Perm
from .rest import RestRequest, RouteSet
from .routes_messages import bot_can_use_channel
from .validation_guild import validate_thread

log = logging.getLogger(__name__)

routes = RouteSet()

FORUM_REQUIRE_TAG = 1 << 4


def _thread_reply(req: RestRequest, thread: Channel) -> dict[str, Any]:
    return req.fake.thread_payload_for_bot(thread)


def _parent(req: RestRequest) -> Channel:
    channel = req.fake.channel_or_404(req.id("channel_id"))
    if channel.guild_id is None:
        raise errors.ApiError(400, 50003, "Cannot execute action on a DM channel")
    return channel


@routes("POST", "/channels/{channel_id}/messages/{message_id}/threads")
async def thread_from_message(req: RestRequest) -> Any:
    fake, body = req.fake, req.body
    parent = _parent(req)
    if parent.type not in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT):
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    msg = fake.message_or_404(parent, req.id("message_id"))
    bot_can_use_channel(req, parent, Perm.CREATE_PUBLIC_THREADS | Perm.READ_MESSAGE_HISTORY)
    if msg.thread_id is not None:
        raise errors.ApiError(400, 160004, "A thread has already been created for this message")
    validate_thread(body)
    kind = (
        ChannelType.ANNOUNCEMENT_THREAD
        if parent.type == ChannelType.ANNOUNCEMENT
        else ChannelType.PUBLIC_THREAD
    )
    msg.thread_id = msg.id
    thread = fake.create_thread(
        parent,
        name=body["name"],
        type=kind,
        owner=fake.bot_user,
        thread_id=msg.id,
        auto_archive_duration=body.get("auto_archive_duration"),
        rate_limit_per_user=body.get("rate_limit_per_user") or 0,
    )
    return _thread_reply(req, thread)


@routes("POST", "/channels/{channel_id}/threads")
async def create_thread(req: RestRequest) -> Any:
    fake, body = req.fake, req.body
    parent = _parent(req)
    validate_thread(body)
    if parent.type in (ChannelType.FORUM, ChannelType.MEDIA):
        return await _forum_post(req, parent, body)
    if parent.type not in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT):
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    kind = int(body.get("type") or ChannelType.PRIVATE_THREAD)
    if kind == ChannelType.PRIVATE_THREAD:
        if parent.type != ChannelType.TEXT:
            raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
        bot_can_use_channel(req, parent, Perm.CREATE_PRIVATE_THREADS)
    elif kind in (ChannelType.PUBLIC_THREAD, ChannelType.ANNOUNCEMENT_THREAD):
        bot_can_use_channel(req, parent, Perm.CREATE_PUBLIC_THREADS)
    else:
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    thread = fake.create_thread(
        parent,
        name=body["name"],
        type=kind,
        owner=fake.bot_user,
        auto_archive_duration=body.get("auto_archive_duration"),
        invitable=body.get("invitable", True),
        rate_limit_per_user=body.get("rate_limit_per_user") or 0,
    )
    if kind != ChannelType.PRIVATE_THREAD:
        # Discord announces a thread started without a message in the parent channel.
        fake.create_message(
            parent,
            fake.bot_user,
            type=18,
            content=thread.name,
            message_reference={
                "type": 0,
                "channel_id": str(thread.id),
                "guild_id": str(parent.guild_id),
            },
        )
    return _thread_reply(req, thread)


async def _forum_post(req: RestRequest, forum: Channel, body: dict[str, Any]) -> Any:
    fake = req.fake
    bits = Perm.SEND_MESSAGES | (Perm.ATTACH_FILES if req.files else 0)
    bot_can_use_channel(req, forum, bits)
    if not isinstance(body.get("message"), dict):
        raise errors.ApiError(
            400,
            50035,
            "Invalid Form Body",
            {"message": {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "Required"}]}},
        )
    tag_ids = [int(t) for t in body.get("applied_tags") or []]
    known = {int(t["id"]) for t in forum.available_tags}
    if any(t not in known for t in tag_ids):
        raise errors.ApiError(
            400,
            50035,
            "Invalid Form Body",
            {"applied_tags": {"_errors": [{"code": "TAG_INVALID", "message": "Unknown tag"}]}},
        )
    if forum.flags & FORUM_REQUIRE_TAG and not tag_ids:
        raise errors.ApiError(
            400, 40067, "A tag is required to create a forum post in this channel"
        )
    fields = new_message_fields(fake, forum, body["message"], req.files)
    thread = fake.create_thread(
        forum,
        name=body["name"],
        type=ChannelType.PUBLIC_THREAD,
        owner=fake.bot_user,
        auto_archive_duration=body.get("auto_archive_duration"),
        applied_tags=tag_ids,
        rate_limit_per_user=body.get("rate_limit_per_user") or 0,
    )
    forum.last_message_id = thread.id
    msg = fake.create_message(thread, fake.bot_user, id=thread.id, **fields)
    return {**_thread_reply(req, thread), "message": fake.message_payload(msg)}


def _thread(req: RestRequest) -> Channel:
    thread = req.fake.channel_or_404(req.id("channel_id"))
    if not thread.is_thread:
        raise errors.ApiError(400, 50024, "Cannot execute action on this channel type")
    return thread


@routes("PUT", "/channels/{channel_id}/thread-members/@me")
async def join_thread(req: RestRequest) -> Any:
    fake = req.fake
    thread = _thread(req)
    bot_can_use_channel(req, thread, Perm.VIEW_CHANNEL)
    if thread.archived:
        raise errors.ApiError(400, 50083, "Thread is archived")
    fake.add_thread_member(thread, fake.bot_user)
    return None


@routes("PUT", "/channels/{channel_id}/thread-members/{user_id}")
async def add_thread_member(req: RestRequest) -> Any:
    fake = req.fake
    thread = _thread(req)
    bot_can_use_channel(req, thread, Perm.SEND_MESSAGES_IN_THREADS)
    if thread.archived:
        raise errors.ApiError(400, 50083, "Thread is archived")
    guild = fake.guilds[thread.guild_id]  # type: ignore[index]
    member = fake.member_or_404(guild, req.id("user_id"))
    if not fake.member_channel_permissions(member, thread) & Perm.VIEW_CHANNEL:
        raise errors.missing_access()
    fake.add_thread_member(thread, member.user)
    return None


@routes("DELETE", "/channels/{channel_id}/thread-members/{user_id}")
async def remove_thread_member(req: RestRequest) -> Any:
    fake = req.fake
    thread = _thread(req)
    raw = req.params["user_id"]
    user_id = fake.bot_user.id if raw == "@me" else req.id("user_id")
    if user_id != fake.bot_user.id and thread.owner_id != fake.bot_user.id:
        bot_can_use_channel(req, thread, Perm.MANAGE_THREADS)
    fake.remove_thread_member(thread, fake.user_or_404(user_id))
    return None


@routes("GET", "/channels/{channel_id}/thread-members")
async def list_thread_members(req: RestRequest) -> Any:
    thread = _thread(req)
    return [req.fake.thread_member_payload(thread, u) for u in thread.member_ids]


@routes("GET", "/channels/{channel_id}/thread-members/{user_id}")
async def get_thread_member(req: RestRequest) -> Any:
    thread = _thread(req)
    user_id = req.id("user_id")
    if user_id not in thread.member_ids:
        raise errors.unknown("member")
    return req.fake.thread_member_payload(thread, user_id)


@routes("GET", "/guilds/{guild_id}/threads/active")
async def active_threads(req: RestRequest) -> Any:
    fake = req.fake
    guild = fake.guild_or_404(req.id("guild_id"))
    threads = [t for t in fake.guild_threads(guild) if fake.bot_sees_thread(t)]
    members = [
        fake.thread_member_payload(t, fake.bot_user.id)
        for t in threads
        if fake.bot_user.id in t.member_ids
    ]
    return {"threads": [fake.channel_payload(t) for t in threads], "members": members}


async def _archived(req: RestRequest, kind: int, *, joined_only: bool = False) -> Any:
    fake = req.fake
    parent = _parent(req)
    threads = [
        t
        for t in fake.channels.values()
        if t.parent_id == parent.id
        and t.type == kind
        and t.archived
        and not t.deleted
        and (not joined_only or fake.bot_user.id in t.member_ids)
    ]
    return {
        "threads": [fake.channel_payload(t) for t in threads],
        "members": [
            fake.thread_member_payload(t, fake.bot_user.id)
            for t in threads
            if fake.bot_user.id in t.member_ids
        ],
        "has_more": False,
    }


@routes("GET", "/channels/{channel_id}/threads/archived/public")
async def archived_public(req: RestRequest) -> Any:
    return await _archived(req, ChannelType.PUBLIC_THREAD)


@routes("GET", "/channels/{channel_id}/threads/archived/private")
async def archived_private(req: RestRequest) -> Any:
    return await _archived(req, ChannelType.PRIVATE_THREAD)


@routes("GET", "/channels/{channel_id}/users/@me/threads/archived/private")
async def archived_joined(req: RestRequest) -> Any:
    return await _archived(req, ChannelType.PRIVATE_THREAD, joined_only=True)
