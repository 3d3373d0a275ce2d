"""Wire payloads that need lookups across the fake's state (mixed into FakeState)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from . import errors
from .models import (
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    User,
    iso,
    now,
    sid,
    snowflake_time,
)
from .permissions import Perm, base_permissions, channel_permissions

if TYPE_CHECKING:
    from .models import Attachment, Role, ScheduledEvent

log = logging.getLogger(__name__)

DM_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.ADD_REACTIONS
)


class PayloadsMixin:
    """Builds Discord JSON objects; relies on the stores defined by ``FakeState``."""

    users: dict[int, User]
    guilds: dict[int, Guild]
    channels: dict[int, Channel]
    messages: dict[int, Message]
    bot_user: User

    # ----- permissions --------------------------------------------------------------------

    def member_channel_permissions(self, member: Member, channel: Channel) -> int:
        """Permissions of a guild member in a channel (threads inherit their parent's)."""
        if channel.guild_id is None:
            return DM_PERMISSIONS
        guild = self.guilds[channel.guild_id]
        parent = self.channels.get(channel.parent_id) if channel.parent_id else None
        return channel_permissions(guild, member, channel, parent)

    def bot_channel_permissions(self, channel: Channel) -> int:
        if channel.guild_id is None:
            return DM_PERMISSIONS
        member = self.guilds[channel.guild_id].members.get(self.bot_user.id)
        return 0 if member is None else self.member_channel_permissions(member, channel)

    def bot_guild_permissions(self, guild: Guild) -> int:
        return base_permissions(guild, guild.members[self.bot_user.id])

    def require_guild_permissions(self, guild: Guild, bits: int) -> None:
        """403 50013 unless the bot has all ``bits`` at guild level."""
        if self.bot_guild_permissions(guild) & bits != bits:
            raise errors.missing_permissions()

    def require_any_guild_permission(self, guild: Guild, bits: int) -> None:
        if not self.bot_guild_permissions(guild) & bits:
            raise errors.missing_permissions()

    def require_channel_permissions(self, channel: Channel, bits: int) -> None:
        """403 50001 if the bot cannot see the channel, 50013 if a bit is missing."""
        perms = self.bot_channel_permissions(channel)
        if not perms & Perm.VIEW_CHANNEL:
            raise errors.missing_access()
        if perms & bits != bits:
            raise errors.missing_permissions()

    # ----- channels -----------------------------------------------------------------------

    def channel_payload(self, channel: Channel) -> dict[str, Any]:
        ch = channel
        if ch.type in (ChannelType.DM, ChannelType.GROUP_DM):
            return {
                "id": str(ch.id),
                "type": ch.type,
                "last_message_id": sid(ch.last_message_id),
                "recipients": [self.users[u].payload() for u in ch.recipient_ids],
                "flags": 0,
            }
        data: dict[str, Any] = {
            "id": str(ch.id),
            "type": ch.type,
            "guild_id": sid(ch.guild_id),
            "name": ch.name,
            "parent_id": sid(ch.parent_id),
            "flags": ch.flags,
            "rate_limit_per_user": ch.rate_limit_per_user,
            "last_message_id": sid(ch.last_message_id),
        }
        if ch.is_thread:
            data.update(
                owner_id=sid(ch.owner_id),
                message_count=ch.message_count,
                member_count=min(len(ch.member_ids), 50),
                total_message_sent=ch.total_message_sent,
                applied_tags=[str(t) for t in ch.applied_tags],
                thread_metadata={
                    "archived": ch.archived,
                    "auto_archive_duration": ch.auto_archive_duration,
                    "archive_timestamp": iso(ch.archive_timestamp),
                    "locked": ch.locked,
                    "invitable": ch.invitable,
                    "create_timestamp": iso(ch.created_at),
                },
            )
            return data
        data.update(
            position=ch.position,
            permission_overwrites=ch.overwrites_payload(),
            nsfw=ch.nsfw,
        )
        if ch.type in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT, ChannelType.FORUM, 16):
            data.update(
                topic=ch.topic,
                default_auto_archive_duration=ch.default_auto_archive_duration,
                default_thread_rate_limit_per_user=0,
            )
        if ch.type in (ChannelType.FORUM, ChannelType.MEDIA):
            data.update(
                available_tags=[dict(t) for t in ch.available_tags],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
            )
        if ch.type in (ChannelType.VOICE, ChannelType.STAGE):
            data.update(
                bitrate=ch.bitrate,
                user_limit=ch.user_limit,
                rtc_region=None,
                video_quality_mode=1,
            )
        return data

    def thread_member_payload(self, thread: Channel, user_id: int) -> dict[str, Any]:
        return {
            "id": str(thread.id),
            "user_id": str(user_id),
            "join_timestamp": iso(thread.member_ids[user_id]),
            "flags": 1,
        }

    def thread_payload_for_bot(self, thread: Channel) -> dict[str, Any]:
        data = self.channel_payload(thread)
        if self.bot_user.id in thread.member_ids:
            data["member"] = self.thread_member_payload(thread, self.bot_user.id)
        return data

    def bot_sees_thread(self, thread: Channel) -> bool:
        perms = self.bot_channel_permissions(thread)
        if not perms & Perm.VIEW_CHANNEL:
            return False
        if thread.type == ChannelType.PRIVATE_THREAD:
            return self.bot_user.id in thread.member_ids or bool(perms & Perm.MANAGE_THREADS)
        return True

    def guild_channels(self, guild: Guild) -> list[Channel]:
        return [
            c
            for c in self.channels.values()
            if c.guild_id == guild.id and not c.is_thread and not c.deleted
        ]

    def guild_threads(self, guild: Guild, *, active_only: bool = True) -> list[Channel]:
        return [
            c
            for c in self.channels.values()
            if c.guild_id == guild.id
            and c.is_thread
            and not c.deleted
            and not (active_only and c.archived)
        ]

    # ----- members & guilds ---------------------------------------------------------------

    def member_payload(self, member: Member, *, with_user: bool = True) -> dict[str, Any]:
        return member.payload(with_user=with_user)

    def guild_create_payload(self, guild: Guild, *, all_members: bool) -> dict[str, Any]:
        """The full GUILD_CREATE object; without ``all_members`` only the bot's own member."""
        members = [
            m for m in guild.members.values() if all_members or m.user.id == self.bot_user.id
        ]
        data = guild.payload()
        data.update(
            joined_at=iso(guild.joined_at),
            large=len(guild.members) >= 250,
            unavailable=False,
            member_count=len(guild.members),
            voice_states=[],
            members=[m.payload() for m in members],
            channels=[self.channel_payload(c) for c in self.guild_channels(guild)],
            threads=[
                self.thread_payload_for_bot(t)
                for t in self.guild_threads(guild)
                if self.bot_sees_thread(t)
            ],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[
                self.event_payload(e) for e in guild.scheduled_events.values() if not e.deleted
            ],
            soundboard_sounds=[],
            embedded_activities=[],
        )
        return data

    def event_payload(self, event: ScheduledEvent) -> dict[str, Any]:
        creator = self.users.get(event.creator_id) if event.creator_id else None
        return event.payload(creator)

    def role_payload(self, role: Role) -> dict[str, Any]:
        return role.payload()

    # ----- messages -----------------------------------------------------------------------

    def attachment_payload(self, attachment: Attachment) -> dict[str, Any]:
        return attachment.payload()

    def poll_payload(self, msg: Message) -> dict[str, Any]:
        """A poll with its results (counts per answer; final once expired)."""
        poll = msg.poll or {}
        expiry = poll["expiry"]
        return {
            "question": dict(poll["question"]),
            "answers": [dict(a) for a in poll["answers"]],
            "expiry": iso(expiry),
            "allow_multiselect": poll["allow_multiselect"],
            "layout_type": poll["layout_type"],
            "results": {
                "is_finalized": expiry <= now(),
                "answer_counts": [
                    {"id": a["answer_id"], "count": len(users), "me_voted": False}
                    for a in poll["answers"]
                    if (users := msg.poll_votes.get(a["answer_id"], []))
                ],
            },
        }

    def message_payload(self, msg: Message, *, with_reference: bool = True) -> dict[str, Any]:
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        mentions = []
        for uid in msg.mention_user_ids:
            user = self.users.get(uid)
            if user is None:
                continue
            item = user.payload()
            if guild is not None and uid in guild.members:
                item["member"] = guild.members[uid].payload(with_user=False)
            mentions.append(item)
        data: dict[str, Any] = {
            "id": str(msg.id),
            "channel_id": str(msg.channel_id),
            "author": msg.author.payload(),
            "content": msg.content,
            "timestamp": iso(snowflake_time(msg.id)),
            "edited_timestamp": iso(msg.edited_at),
            "tts": msg.tts,
            "mention_everyone": msg.mention_everyone,
            "mentions": mentions,
            "mention_roles": [str(r) for r in msg.mention_role_ids],
            "mention_channels": [],
            "attachments": [a.payload() for a in msg.attachments],
            "embeds": [dict(e) for e in msg.embeds],
            "reactions": [
                self._reaction_payload(key, users) for key, users in msg.reactions.items() if users
            ],
            "pinned": msg.pinned,
            "type": msg.type,
            "flags": msg.flags,
            "components": list(msg.components),
        }
        if msg.poll is not None:
            data["poll"] = self.poll_payload(msg)
        if guild is not None:
            data["guild_id"] = str(guild.id)
            if msg.webhook_id is None and msg.author.id in guild.members:
                data["member"] = guild.members[msg.author.id].payload(with_user=False)
        if msg.nonce is not None:
            data["nonce"] = msg.nonce
        if msg.webhook_id is not None:
            data["webhook_id"] = str(msg.webhook_id)
        if msg.application_id is not None:
            data["application_id"] = str(msg.application_id)
        if msg.interaction_metadata is not None:
            meta = msg.interaction_metadata
            data["interaction_metadata"] = meta
            if meta.get("name"):
                data["interaction"] = {
                    "id": meta["id"],
                    "type": meta["type"],
                    "name": meta["name"],
                    "user": meta["user"],
                }
        if msg.message_reference is not None:
            data["message_reference"] = msg.message_reference
            if with_reference:
                ref = self.messages.get(int(msg.message_reference.get("message_id") or 0))
                data["referenced_message"] = (
                    None
                    if ref is None or ref.deleted
                    else self.message_payload(ref, with_reference=False)
                )
        if msg.thread_id is not None:
            thread = self.channels.get(msg.thread_id)
            if thread is not None and not thread.deleted:
                data["thread"] = self.channel_payload(thread)
        return data

    def _reaction_payload(self, key: str, users: list[int]) -> dict[str, Any]:
        if ":" in key:
            name, _, emoji_id = key.partition(":")
            emoji: dict[str, Any] = {"id": emoji_id, "name": name}
        else:
            emoji = {"id": None, "name": key}
        return {
            "count": len(users),
            "count_details": {"burst": 0, "normal": len(users)},
            "me": self.bot_user.id in users,
            "me_burst": False,
            "burst_colors": [],
            "emoji": emoji,
        }
