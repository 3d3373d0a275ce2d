"""The fake's world: stores, lookups and the state changes that emit gateway events."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from . import errors
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
    SnowflakeGenerator,
    User,
    now,
)
from .payloads import PayloadsMixin
from .permissions import DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS, Perm

log = logging.getLogger(__name__)

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")

#: Event data: a dict, or a callable building it for one gateway session.
EventData = dict[str, Any] | Callable[[Any], dict[str, Any] | None]


def id_of(obj: Any) -> int:
    """Accept a model object (anything with ``.id``), an int or a numeric string."""
    if isinstance(obj, int):
        return obj
    if isinstance(obj, str):
        return int(obj)
    return int(obj.id)


class FakeState(PayloadsMixin):
    """All entities of the fake Discord. Every mutation goes through a method here so that
    REST handlers and the test API emit the same gateway events."""

    def __init__(self, *, token: str, bot_name: str, application_id: int | None = None) -> None:
        self.snowflakes = SnowflakeGenerator()
        self.token = token
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.attachments: dict[int, Attachment] = {}
        self.global_commands: dict[int, AppCommand] = {}
        self.guild_commands: dict[int, dict[int, AppCommand]] = {}
        self.bot_user = self.create_user(bot_name, bot=True)
        self.application_id = application_id or self.bot_user.id
        #: Set by the server once it knows its port.
        self.cdn_base = "http://127.0.0.1/cdn"

    def dispatch(self, event: str, data: EventData, *, guild_id: int | None = None) -> None:
        """Send a gateway dispatch; the server overrides this to reach connected bots."""

    def next_id(self) -> int:
        return self.snowflakes.next()

    # ----- lookups ------------------------------------------------------------------------

    def guild_or_404(self, guild_id: int) -> Guild:
        guild = self.guilds.get(guild_id)
        if guild is None:
            raise errors.unknown("guild")
        if self.bot_user.id not in guild.members:
            raise errors.missing_access()
        return guild

    def channel_or_404(self, channel_id: int) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None or channel.deleted:
            raise errors.unknown("channel")
        return channel

    def message_or_404(self, channel: Channel, message_id: int) -> Message:
        msg = self.messages.get(message_id)
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            raise errors.unknown("message")
        return msg

    def user_or_404(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise errors.unknown("user")
        return user

    @staticmethod
    def role_or_404(guild: Guild, role_id: int) -> Role:
        role = guild.roles.get(role_id)
        if role is None:
            raise errors.unknown("role")
        return role

    @staticmethod
    def member_or_404(guild: Guild, user_id: int) -> Member:
        member = guild.members.get(user_id)
        if member is None:
            raise errors.unknown("member")
        return member

    def bot_member(self, guild: Guild) -> Member:
        return guild.members[self.bot_user.id]

    def bot_role(self, guild: Guild) -> Role:
        """The managed role Discord gives the bot when it joins."""
        return next(r for r in guild.roles.values() if r.bot_id == self.bot_user.id)

    # ----- users, guilds, roles, members --------------------------------------------------

    def create_user(self, name: str, *, bot: bool = False, global_name: str | None = None) -> User:
        user = User(id=self.next_id(), username=name, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def create_guild(
        self,
        name: str,
        *,
        owner: User | None = None,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        locale: str = "en-US",
    ) -> Guild:
        owner = owner or self.create_user(f"{name} owner")
        guild = Guild(id=self.next_id(), name=name, owner_id=owner.id, preferred_locale=locale)
        guild.roles[guild.id] = Role(
            id=guild.id, guild_id=guild.id, name="@everyone", permissions=everyone_permissions
        )
        bot_role = Role(
            id=self.next_id(),
            guild_id=guild.id,
            name=self.bot_user.username,
            permissions=bot_permissions,
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.members[owner.id] = Member(user=owner, guild_id=guild.id)
        guild.members[self.bot_user.id] = Member(
            user=self.bot_user, guild_id=guild.id, roles=[bot_role.id]
        )
        self.guilds[guild.id] = guild
        self.dispatch("GUILD_CREATE", self._guild_create_for_session(guild), guild_id=guild.id)
        return guild

    def _guild_create_for_session(self, guild: Guild) -> Callable[[Any], dict[str, Any]]:
        def build(session: Any) -> dict[str, Any]:
            data = self.guild_create_payload(guild, all_members=session.gets_all_members)
            del data["unavailable"]  # absent on a join; false when lazily loaded after READY
            return data

        return build

    def create_role(
        self,
        guild: Guild,
        *,
        name: str = "new role",
        permissions: int = 0,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
        position: int | None = None,
    ) -> Role:
        if position is None:
            # Discord puts new roles right above @everyone and pushes the others up.
            position = 1
            for other in sorted(guild.roles.values(), key=lambda r: r.position):
                if other.id != guild.id and other.position >= 1:
                    other.position += 1
                    self._role_event("GUILD_ROLE_UPDATE", guild, other)
        role = Role(
            id=self.next_id(),
            guild_id=guild.id,
            name=name,
            permissions=permissions,
            color=color,
            hoist=hoist,
            mentionable=mentionable,
            position=position,
        )
        guild.roles[role.id] = role
        self._role_event("GUILD_ROLE_CREATE", guild, role)
        return role

    def _role_event(self, event: str, guild: Guild, role: Role) -> None:
        self.dispatch(event, {"guild_id": str(guild.id), "role": role.payload()}, guild_id=guild.id)

    def update_role(self, guild: Guild, role: Role, **changes: Any) -> Role:
        for key, value in changes.items():
            setattr(role, key, value)
        self._role_event("GUILD_ROLE_UPDATE", guild, role)
        return role

    def delete_role(self, guild: Guild, role: Role) -> None:
        del guild.roles[role.id]
        for member in guild.members.values():
            if role.id in member.roles:
                member.roles.remove(role.id)
        for channel in self.guild_channels(guild):
            channel.overwrites.pop(role.id, None)
        self.dispatch(
            "GUILD_ROLE_DELETE",
            {"guild_id": str(guild.id), "role_id": str(role.id)},
            guild_id=guild.id,
        )

    def join_member(
        self, guild: Guild, user: User, *, roles: Iterable[int] = (), nick: str | None = None
    ) -> Member:
        member = Member(user=user, guild_id=guild.id, roles=list(roles), nick=nick)
        guild.members[user.id] = member
        self.dispatch(
            "GUILD_MEMBER_ADD", {**member.payload(), "guild_id": str(guild.id)}, guild_id=guild.id
        )
        return member

    def update_member(self, guild: Guild, member: Member) -> None:
        data = member.payload()
        data["guild_id"] = str(guild.id)
        self.dispatch("GUILD_MEMBER_UPDATE", data, guild_id=guild.id)

    def remove_member(self, guild: Guild, member: Member) -> None:
        del guild.members[member.user.id]
        self.dispatch(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(guild.id), "user": member.user.payload()},
            guild_id=guild.id,
        )

    # ----- channels & threads -------------------------------------------------------------

    def create_channel(self, guild: Guild, *, type: int, name: str, **fields: Any) -> Channel:
        if fields.get("position") is None:
            positions = [c.position for c in self.guild_channels(guild)]
            fields["position"] = max(positions, default=-1) + 1
        channel = Channel(id=self.next_id(), type=type, guild_id=guild.id, name=name, **fields)
        self.channels[channel.id] = channel
        self.dispatch("CHANNEL_CREATE", self.channel_payload(channel), guild_id=guild.id)
        return channel

    def update_channel(self, channel: Channel) -> None:
        event = "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE"
        self.dispatch(event, self.channel_payload(channel), guild_id=channel.guild_id)

    def apply_overwrite(
        self, channel: Channel, overwrite: Overwrite | None, target_id: int
    ) -> None:
        if overwrite is None:
            channel.overwrites.pop(target_id, None)
        else:
            channel.overwrites[target_id] = overwrite
        self.update_channel(channel)

    def delete_channel(self, channel: Channel) -> None:
        payload = self.channel_payload(channel)
        channel.deleted = True
        if channel.is_thread:
            self.dispatch(
                "THREAD_DELETE",
                {
                    "id": str(channel.id),
                    "guild_id": str(channel.guild_id),
                    "parent_id": str(channel.parent_id),
                    "type": channel.type,
                },
                guild_id=channel.guild_id,
            )
            return
        self.dispatch("CHANNEL_DELETE", payload, guild_id=channel.guild_id)
        for other in list(self.channels.values()):
            if other.parent_id != channel.id or other.deleted:
                continue
            if other.is_thread:
                other.deleted = True
            else:
                other.parent_id = None
                self.update_channel(other)

    def open_dm(self, user: User) -> Channel:
        if user.dm_channel_id is not None:
            return self.channels[user.dm_channel_id]
        channel = Channel(id=self.next_id(), type=ChannelType.DM, recipient_ids=[user.id])
        self.channels[channel.id] = channel
        user.dm_channel_id = channel.id
        return channel

    def create_thread(
        self,
        parent: Channel,
        *,
        name: str,
        type: int,
        owner: User,
        thread_id: int | None = None,
        auto_archive_duration: int | None = None,
        invitable: bool = True,
        applied_tags: Iterable[int] = (),
        rate_limit_per_user: int = 0,
    ) -> Channel:
        thread = Channel(
            id=thread_id or self.next_id(),
            type=type,
            guild_id=parent.guild_id,
            name=name,
            parent_id=parent.id,
            owner_id=owner.id,
            auto_archive_duration=auto_archive_duration or parent.default_auto_archive_duration,
            invitable=invitable,
            applied_tags=list(applied_tags),
            rate_limit_per_user=rate_limit_per_user,
        )
        thread.member_ids[owner.id] = now()
        self.channels[thread.id] = thread
        if self.bot_sees_thread(thread):
            data = self.thread_payload_for_bot(thread)
            data["newly_created"] = True
            self.dispatch("THREAD_CREATE", data, guild_id=thread.guild_id)
        return thread

    def add_thread_member(self, thread: Channel, user: User) -> None:
        if user.id in thread.member_ids:
            return
        thread.member_ids[user.id] = now()
        guild = self.guilds[thread.guild_id] if thread.guild_id else None
        added = self.thread_member_payload(thread, user.id)
        if guild is not None and user.id in guild.members:
            added["member"] = guild.members[user.id].payload()
        if user.id == self.bot_user.id and thread.type == ChannelType.PRIVATE_THREAD:
            self.dispatch("THREAD_CREATE", self.thread_payload_for_bot(thread), guild_id=guild.id)
        self.dispatch(
            "THREAD_MEMBERS_UPDATE",
            {
                "id": str(thread.id),
                "guild_id": str(thread.guild_id),
                "member_count": min(len(thread.member_ids), 50),
                "added_members": [added],
            },
            guild_id=thread.guild_id,
        )

    def remove_thread_member(self, thread: Channel, user: User) -> None:
        if thread.member_ids.pop(user.id, None) is None:
            return
        self.dispatch(
            "THREAD_MEMBERS_UPDATE",
            {
                "id": str(thread.id),
                "guild_id": str(thread.guild_id),
                "member_count": min(len(thread.member_ids), 50),
                "removed_member_ids": [str(user.id)],
            },
            guild_id=thread.guild_id,
        )

    # ----- messages -----------------------------------------------------------------------

    def store_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        *,
        content_type: str | None = None,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> Attachment:
        attachment_id = self.next_id()
        attachment = Attachment(
            id=attachment_id,
            filename=filename,
            data=data,
            url=f"{self.cdn_base}/attachments/{channel_id}/{attachment_id}/{quote(filename)}",
            content_type=content_type,
            description=description,
            ephemeral=ephemeral,
        )
        self.attachments[attachment.id] = attachment
        return attachment

    def create_message(self, channel: Channel, author: User, **fields: Any) -> Message:
        msg = Message(
            id=fields.pop("id", None) or self.next_id(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            **fields,
        )
        self._compute_mentions(msg)
        self.messages[msg.id] = msg
        if msg.ephemeral:
            return msg
        channel.last_message_id = msg.id
        if channel.is_thread:
            channel.message_count += 1
            channel.total_message_sent += 1
            if channel.archived:
                channel.archived = False
                channel.archive_timestamp = now()
                self.update_channel(channel)
        self.dispatch("MESSAGE_CREATE", self.message_payload(msg), guild_id=channel.guild_id)
        return msg

    def edit_message(self, msg: Message, changes: dict[str, Any]) -> Message:
        msg.history.append(
            {
                "content": msg.content,
                "embeds": msg.embeds,
                "components": msg.components,
                "flags": msg.flags,
                "attachments": [a.id for a in msg.attachments],
            }
        )
        for key, value in changes.items():
            setattr(msg, key, value)
        msg.edited_at = now()
        self._compute_mentions(msg)
        if not msg.ephemeral:
            self.dispatch("MESSAGE_UPDATE", self.message_payload(msg), guild_id=msg.guild_id)
        return msg

    def delete_message(self, msg: Message) -> None:
        msg.deleted = True
        if msg.ephemeral:
            return
        data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        self.dispatch("MESSAGE_DELETE", data, guild_id=msg.guild_id)

    def _compute_mentions(self, msg: Message) -> None:
        allowed = msg.allowed_mentions
        parse = (
            {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
        )
        users = {int(u) for u in (allowed or {}).get("users") or []}
        roles = {int(r) for r in (allowed or {}).get("roles") or []}
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        found_users = [int(u) for u in _USER_MENTION.findall(msg.content or "")]
        mention_users = [
            u
            for u in dict.fromkeys(found_users)
            if u in self.users and ("users" in parse or u in users)
        ]
        ref = msg.message_reference
        if ref and ref.get("message_id"):
            replied = self.messages.get(int(ref["message_id"]))
            wants_reply_ping = allowed is None or allowed.get("replied_user", False)
            if replied is not None and wants_reply_ping and replied.author.id not in mention_users:
                mention_users.append(replied.author.id)
        msg.mention_user_ids = mention_users
        found_roles = [int(r) for r in _ROLE_MENTION.findall(msg.content or "")]
        msg.mention_role_ids = [
            r
            for r in dict.fromkeys(found_roles)
            if guild is not None and r in guild.roles and ("roles" in parse or r in roles)
        ]
        msg.mention_everyone = False
        if guild is not None and "everyone" in parse:
            text = msg.content or ""
            if "@everyone" in text or "@here" in text:
                member = guild.members.get(msg.author.id)
                channel = self.channels[msg.channel_id]
                perms = self.member_channel_permissions(member, channel) if member else 0
                msg.mention_everyone = (
                    bool(perms & Perm.MENTION_EVERYONE) or msg.webhook_id is not None
                )

    # ----- scheduled events ---------------------------------------------------------------

    def create_event(self, guild: Guild, **fields: Any) -> ScheduledEvent:
        event = ScheduledEvent(id=self.next_id(), guild_id=guild.id, **fields)
        guild.scheduled_events[event.id] = event
        self.dispatch("GUILD_SCHEDULED_EVENT_CREATE", self.event_payload(event), guild_id=guild.id)
        return event

    def update_event(self, event: ScheduledEvent, **changes: Any) -> ScheduledEvent:
        for key, value in changes.items():
            setattr(event, key, value)
        self.dispatch(
            "GUILD_SCHEDULED_EVENT_UPDATE", self.event_payload(event), guild_id=event.guild_id
        )
        return event

    def delete_event(self, event: ScheduledEvent) -> None:
        event.deleted = True
        self.guilds[event.guild_id].scheduled_events.pop(event.id, None)
        self.dispatch(
            "GUILD_SCHEDULED_EVENT_DELETE", self.event_payload(event), guild_id=event.guild_id
        )
