"""Test-side world building and read-back on top of the fake's state."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .models import (
    AppCommand,
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
from .permissions import DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS
from .state import FakeState, id_of

log = logging.getLogger(__name__)


class World(FakeState):
    """Methods tests call to shape the fake Discord and to inspect it. Arguments accept
    model objects or ids (and names where it says so)."""

    # ----- building the world -------------------------------------------------------------

    def add_user(self, name: str, *, bot: bool = False, global_name: str | None = None) -> User:
        return self.create_user(name, bot=bot, global_name=global_name)

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: User | None = None,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        locale: str = "en-US",
    ) -> Guild:
        """A guild with @everyone, the bot's managed role and member, and an owner member."""
        return self.create_guild(
            name,
            owner=owner,
            bot_permissions=bot_permissions,
            everyone_permissions=everyone_permissions,
            locale=locale,
        )

    def add_role(
        self,
        guild: Guild | int,
        name: str,
        *,
        permissions: int = 0,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
        position: int | None = None,
    ) -> Role:
        return self.create_role(
            self.guild(guild),
            name=name,
            permissions=permissions,
            color=color,
            hoist=hoist,
            mentionable=mentionable,
            position=position,
        )

    def add_member(
        self,
        guild: Guild | int,
        name: str | None = None,
        *,
        user: User | int | None = None,
        roles: Iterable[Role | int] = (),
        nick: str | None = None,
    ) -> Member:
        """Add a member (creating the user from ``name`` unless ``user`` is given)."""
        if user is None:
            if name is None:
                raise ValueError("give a name or a user")
            user_obj = self.create_user(name)
        else:
            user_obj = self.users[id_of(user)]
        return self.join_member(
            self.guild(guild), user_obj, roles=[id_of(r) for r in roles], nick=nick
        )

    def add_channel(
        self,
        guild: Guild | int,
        name: str,
        *,
        type: int = ChannelType.TEXT,
        parent: Channel | int | None = None,
        topic: str | None = None,
        overwrites: dict[Any, tuple[int, int]] | None = None,
        position: int | None = None,
        tags: Iterable[str] = (),
        flags: int = 0,
    ) -> Channel:
        """``overwrites`` maps a Role/Member/User (or id) to ``(allow, deny)``."""
        guild_obj = self.guild(guild)
        ows = {}
        for target, (allow, deny) in (overwrites or {}).items():
            target_id = id_of(target)
            kind = 0 if target_id in guild_obj.roles else 1
            ows[target_id] = Overwrite(id=target_id, type=kind, allow=allow, deny=deny)
        available = [
            {
                "id": str(self.next_id()),
                "name": t,
                "moderated": False,
                "emoji_id": None,
                "emoji_name": None,
            }
            for t in tags
        ]
        return self.create_channel(
            guild_obj,
            type=type,
            name=name,
            parent_id=id_of(parent) if parent is not None else None,
            topic=topic,
            overwrites=ows,
            position=position,
            available_tags=available,
            flags=flags,
        )

    def add_thread(
        self,
        channel: Channel | int,
        name: str,
        *,
        private: bool = False,
        owner: User | Member | int | None = None,
        members: Iterable[User | Member | int] = (),
    ) -> Channel:
        parent = self.channel(channel)
        owner_user = (
            self.users[id_of(owner)]
            if owner is not None
            else self.users[self.guild(parent.guild_id).owner_id]
        )
        thread = self.create_thread(
            parent,
            name=name,
            type=ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD,
            owner=owner_user,
        )
        for member in members:
            self.add_thread_member(thread, self.users[id_of(member)])
        return thread

    def set_overwrite(
        self, channel: Channel | int, target: Any, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set (or with allow=deny=0, remove) a permission overwrite, dispatching CHANNEL_UPDATE."""
        chan = self.channel(channel)
        target_id = id_of(target)
        guild = self.guild(chan.guild_id)
        kind = 0 if target_id in guild.roles else 1
        ow = Overwrite(id=target_id, type=kind, allow=allow, deny=deny) if allow or deny else None
        self.apply_overwrite(chan, ow, target_id)

    def set_bot_permissions(self, guild: Guild | int, permissions: int) -> None:
        """Replace the permissions of the bot's managed role (GUILD_ROLE_UPDATE)."""
        guild_obj = self.guild(guild)
        self.update_role(guild_obj, self.bot_role(guild_obj), permissions=permissions)

    def revoke_bot_permissions(self, guild: Guild | int, bits: int) -> None:
        guild_obj = self.guild(guild)
        role = self.bot_role(guild_obj)
        self.update_role(guild_obj, role, permissions=role.permissions & ~bits)

    def grant_bot_permissions(self, guild: Guild | int, bits: int) -> None:
        guild_obj = self.guild(guild)
        role = self.bot_role(guild_obj)
        self.update_role(guild_obj, role, permissions=role.permissions | bits)

    def set_member_roles(
        self, guild: Guild | int, user: Any, roles: Iterable[Role | int]
    ) -> Member:
        guild_obj = self.guild(guild)
        member = guild_obj.members[id_of(user)]
        member.roles = [id_of(r) for r in roles]
        self.update_member(guild_obj, member)
        return member

    def close_dms(self, user: User | Member | int) -> None:
        """The user refuses DMs: sending to their DM channel answers 403 50007."""
        self.users[id_of(user)].dms_open = False

    def open_dms(self, user: User | Member | int) -> None:
        self.users[id_of(user)].dms_open = True

    def user_sends(
        self,
        channel: Channel | int,
        author: User | Member | int,
        content: str = "",
        **fields: Any,
    ) -> Message:
        """A user posts a message (MESSAGE_CREATE, content hidden without the intent)."""
        return self.create_message(
            self.channel(channel), self.users[id_of(author)], content=content, **fields
        )

    def vote(self, message: Message | int, answer_id: int, user: User | Member | int) -> None:
        """A user votes for an answer of a poll (one answer each unless multiselect)."""
        msg = message if isinstance(message, Message) else self.messages[message]
        if msg.poll is None:
            raise ValueError(f"message {msg.id} has no poll")
        if answer_id not in {a["answer_id"] for a in msg.poll["answers"]}:
            raise ValueError(f"poll {msg.id} has no answer {answer_id}")
        uid = id_of(user)
        if not msg.poll["allow_multiselect"]:
            for voters in msg.poll_votes.values():
                if uid in voters:
                    voters.remove(uid)
        voters = msg.poll_votes.setdefault(answer_id, [])
        if uid not in voters:
            voters.append(uid)

    # ----- lookups for tests --------------------------------------------------------------

    def guild(self, ref: Guild | int | str | None = None) -> Guild:
        """A guild by object, id or name; with no argument, the only guild."""
        if isinstance(ref, Guild):
            return ref
        if ref is None:
            if len(self.guilds) != 1:
                raise LookupError("several guilds: name one")
            return next(iter(self.guilds.values()))
        if isinstance(ref, str) and not ref.isdigit():
            return next(g for g in self.guilds.values() if g.name == ref)
        return self.guilds[id_of(ref)]

    def channel(self, ref: Channel | int | str, guild: Guild | int | None = None) -> Channel:
        """A channel by object, id, or name (optionally within a guild)."""
        if isinstance(ref, Channel):
            return ref
        if isinstance(ref, str) and not ref.isdigit():
            gid = id_of(guild) if guild is not None else None
            for chan in self.channels.values():
                if chan.name == ref and not chan.deleted and (gid is None or chan.guild_id == gid):
                    return chan
            raise LookupError(f"no channel named {ref!r}")
        return self.channels[id_of(ref)]

    def role(self, guild: Guild | int, ref: Role | int | str) -> Role:
        guild_obj = self.guild(guild)
        if isinstance(ref, str) and not ref.isdigit():
            return next(r for r in guild_obj.roles.values() if r.name == ref)
        return guild_obj.roles[id_of(ref)]

    def member(self, guild: Guild | int, user: User | Member | int) -> Member:
        return self.guild(guild).members[id_of(user)]

    def member_roles(self, guild: Guild | int, user: User | Member | int) -> list[Role]:
        guild_obj = self.guild(guild)
        return [guild_obj.roles[r] for r in guild_obj.members[id_of(user)].roles]

    def channels_in(
        self, guild: Guild | int, *, type: int | None = None, threads: bool = False
    ) -> list[Channel]:
        guild_obj = self.guild(guild)
        chans = self.guild_channels(guild_obj) + (
            self.guild_threads(guild_obj, active_only=False) if threads else []
        )
        return [c for c in chans if type is None or c.type == type]

    def channel_messages(self, channel: Channel | int, *, ephemeral: bool = False) -> list[Message]:
        """Messages of a channel, oldest first (ephemeral ones only if asked)."""
        cid = id_of(channel)
        return [
            m
            for m in self.messages.values()
            if m.channel_id == cid and not m.deleted and (ephemeral or not m.ephemeral)
        ]

    def dms(self, user: User | Member | int) -> list[Message]:
        """Messages the bot sent (or received) in the DM channel of ``user``."""
        user_obj = self.users[id_of(user)]
        return (
            [] if user_obj.dm_channel_id is None else self.channel_messages(user_obj.dm_channel_id)
        )

    def scheduled_events(self, guild: Guild | int) -> list[ScheduledEvent]:
        return [e for e in self.guild(guild).scheduled_events.values() if not e.deleted]

    def commands(self, guild: Guild | int | None = None) -> list[AppCommand]:
        """Registered global commands, or the commands of ``guild``."""
        if guild is None:
            return list(self.global_commands.values())
        return list(self.guild_commands.get(id_of(guild), {}).values())

    def command(self, name: str, guild: Guild | int | None = None) -> AppCommand:
        return next(c for c in self.commands(guild) if c.name == name)
