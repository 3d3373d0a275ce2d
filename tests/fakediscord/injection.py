"""Test API to inject interactions (slash commands, autocomplete, clicks, selects, modal
submits) as INTERACTION_CREATE, built the way Discord builds them for a user action."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

from .handles import InteractionHandle, Upload
from .models import AppCommand, Channel, Guild, Member, Message, Role, User
from .permissions import Perm
from .state import id_of

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger(__name__)

SELECT_TYPES = (3, 5, 6, 7, 8)
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class Injector:
    """Builds INTERACTION_CREATE payloads the way Discord would for a user action."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.handles: dict[int, InteractionHandle] = {}
        self.by_token: dict[str, InteractionHandle] = {}

    # ----- common -------------------------------------------------------------------------

    def _where(self, channel: Any, user: Any) -> tuple[Channel, User, Guild | None, Member | None]:
        fake = self.fake
        user_obj = fake.users[id_of(user)]
        chan = fake.open_dm(user_obj) if channel is None else fake.channels[id_of(channel)]
        guild = fake.guilds.get(chan.guild_id) if chan.guild_id else None
        member = None
        if guild is not None:
            member = guild.members.get(user_obj.id)
            if member is None:
                raise ValueError(f"{user_obj.username} is not a member of guild {guild.name}")
            if not fake.member_channel_permissions(member, chan) & Perm.VIEW_CHANNEL:
                raise ValueError(f"{user_obj.username} cannot see channel {chan.name}")
        return chan, user_obj, guild, member

    def _base(
        self,
        itype: int,
        channel: Channel,
        user: User,
        guild: Guild | None,
        member: Member | None,
        *,
        locale: str,
        guild_locale: str | None,
    ) -> dict[str, Any]:
        fake = self.fake
        channel_payload = fake.channel_payload(channel)
        payload: dict[str, Any] = {
            "id": str(fake.next_id()),
            "application_id": str(fake.application_id),
            "type": itype,
            "token": "fake-itoken-" + secrets.token_urlsafe(24),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel.id),
            "app_permissions": str(fake.bot_channel_permissions(channel)),
        }
        if guild is not None and member is not None:
            perms = fake.member_channel_permissions(member, channel)
            channel_payload["permissions"] = str(perms)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild_locale or guild.preferred_locale,
                member={**member.payload(), "permissions": str(perms)},
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.payload(),
                authorizing_integration_owners={"1": str(user.id)},
                context=1,
            )
        payload["channel"] = channel_payload
        return payload

    def _send(self, handle: InteractionHandle) -> InteractionHandle:
        if not any(s.connected for s in self.fake.gateway.live_sessions):
            raise RuntimeError("no bot is connected to the fake gateway")
        self.handles[handle.id] = handle
        self.by_token[handle.token] = handle
        self.fake.interactions.append(handle)
        self.fake.dispatch("INTERACTION_CREATE", handle.payload, guild_id=handle.guild_id)
        return handle

    # ----- application commands -----------------------------------------------------------

    def find_command(self, name: str, guild: Guild | None, ctype: int = 1) -> AppCommand:
        fake = self.fake
        pools = []
        if guild is not None:
            pools.append(fake.guild_commands.get(guild.id, {}).values())
        pools.append(fake.global_commands.values())
        for pool in pools:
            for cmd in pool:
                if cmd.name == name and cmd.type == ctype:
                    return cmd
        raise LookupError(f"command {name!r} (type {ctype}) is not registered; did the bot sync?")

    def _command_data(
        self,
        command: str,
        options: dict[str, Any] | None,
        guild: Guild | None,
        channel: Channel,
        member: Member | None,
        *,
        focused: str | None = None,
        focused_value: str = "",
    ) -> dict[str, Any]:
        name, *path = command.split()
        cmd = self.find_command(name, guild)
        resolved: dict[str, dict[str, Any]] = {}
        specs = cmd.options
        chain: list[dict[str, Any]] = []
        for part in path:
            spec = next((o for o in specs if o["name"] == part and o["type"] in (1, 2)), None)
            if spec is None:
                raise LookupError(f"{command!r}: no sub-command {part!r} on {name!r}")
            chain.append({"name": part, "type": spec["type"]})
            specs = spec.get("options") or []
        leaf = self._options(
            specs, options or {}, resolved, channel, member, focused, focused_value
        )
        nested = leaf
        for link in reversed(chain):
            nested = [{**link, "options": nested}]
        data: dict[str, Any] = {"id": str(cmd.id), "name": name, "type": 1, "options": nested}
        if resolved:
            data["resolved"] = resolved
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        return data

    def _options(
        self,
        specs: list[dict[str, Any]],
        values: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        channel: Channel,
        member: Member | None,
        focused: str | None,
        focused_value: str,
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in specs}
        out: list[dict[str, Any]] = []
        for name, value in values.items():
            spec = by_name.get(name)
            if spec is None:
                raise ValueError(f"no option {name!r}; known: {sorted(by_name)}")
            out.append(
                {
                    "name": name,
                    "type": spec["type"],
                    "value": self._value(spec, value, resolved, channel, member),
                }
            )
        if focused is not None:
            spec = by_name.get(focused)
            if spec is None or not spec.get("autocomplete"):
                raise ValueError(f"option {focused!r} has no autocomplete")
            out.append(
                {"name": focused, "type": spec["type"], "value": focused_value, "focused": True}
            )
        else:
            missing = [o["name"] for o in specs if o.get("required") and o["name"] not in values]
            if missing:
                raise ValueError(f"required options missing: {missing}")
        return out

    def _value(
        self,
        spec: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        channel: Channel,
        member: Member | None,
    ) -> Any:
        fake, otype = self.fake, spec["type"]
        choices = spec.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"{value!r} is not a choice of {spec['name']!r}")
        if otype == 3:
            return str(value)
        if otype == 4:
            return int(value)
        if otype == 5:
            return bool(value)
        if otype == 10:
            return float(value)
        if otype == 11:
            upload = value if isinstance(value, Upload) else Upload(*value)
            att = fake.store_attachment(
                channel.id,
                upload.filename,
                upload.data,
                content_type=upload.content_type,
                ephemeral=True,
            )
            resolved.setdefault("attachments", {})[str(att.id)] = att.payload()
            return str(att.id)
        if otype == 8 or (otype == 9 and isinstance(value, Role)):
            role = value if isinstance(value, Role) else None
            role_id = id_of(value)
            guild = fake.guilds[channel.guild_id] if channel.guild_id else None
            role = role or (guild.roles[role_id] if guild else None)
            if role is None:
                raise ValueError("role options need a guild")
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
            return str(role.id)
        if otype in (6, 9):
            self._resolve_user(fake.users[id_of(value)], channel, resolved)
            return str(id_of(value))
        if otype == 7:
            target = fake.channels[id_of(value)]
            allowed = spec.get("channel_types")
            if allowed and target.type not in allowed:
                raise ValueError(f"channel type {target.type} not allowed for {spec['name']!r}")
            resolved.setdefault("channels", {})[str(target.id)] = self._partial_channel(
                target, member
            )
            return str(target.id)
        raise ValueError(f"unsupported option type {otype}")

    def _resolve_user(
        self, user: User, channel: Channel, resolved: dict[str, dict[str, Any]]
    ) -> None:
        resolved.setdefault("users", {})[str(user.id)] = user.payload()
        guild = self.fake.guilds.get(channel.guild_id) if channel.guild_id else None
        if guild is not None and user.id in guild.members:
            target = guild.members[user.id]
            perms = self.fake.member_channel_permissions(target, channel)
            resolved.setdefault("members", {})[str(user.id)] = {
                **target.payload(with_user=False),
                "permissions": str(perms),
            }

    def _partial_channel(self, target: Channel, member: Member | None) -> dict[str, Any]:
        perms = self.fake.member_channel_permissions(member, target) if member else 0
        data: dict[str, Any] = {
            "id": str(target.id),
            "name": target.name,
            "type": target.type,
            "permissions": str(perms),
            "parent_id": str(target.parent_id) if target.parent_id else None,
            "guild_id": str(target.guild_id) if target.guild_id else None,
        }
        if target.is_thread:
            data["thread_metadata"] = self.fake.channel_payload(target)["thread_metadata"]
        return data

    def slash(
        self,
        command: str,
        *,
        user: Any,
        channel: Any = None,
        options: dict[str, Any] | None = None,
        locale: str = "en-US",
        guild_locale: str | None = None,
    ) -> InteractionHandle:
        chan, user_obj, guild, member = self._where(channel, user)
        data = self._command_data(command, options, guild, chan, member)
        payload = self._base(
            2, chan, user_obj, guild, member, locale=locale, guild_locale=guild_locale
        )
        payload["data"] = data
        return self._send(
            InteractionHandle(self.fake, payload, channel=chan, user=user_obj, command_name=command)
        )

    def autocomplete(
        self,
        command: str,
        *,
        user: Any,
        focused: str,
        value: str = "",
        channel: Any = None,
        options: dict[str, Any] | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        chan, user_obj, guild, member = self._where(channel, user)
        data = self._command_data(
            command, options, guild, chan, member, focused=focused, focused_value=value
        )
        data.pop("resolved", None)  # Discord sends no resolved data with autocomplete
        payload = self._base(4, chan, user_obj, guild, member, locale=locale, guild_locale=None)
        payload["data"] = data
        return self._send(InteractionHandle(self.fake, payload, channel=chan, user=user_obj))

    def context_menu(
        self,
        name: str,
        target: Any,
        *,
        user: Any,
        channel: Any = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """A user command (target is a user/member) or message command (target a Message)."""
        chan, user_obj, guild, member = self._where(channel, user)
        is_message = isinstance(target, Message)
        cmd = self.find_command(name, guild, 3 if is_message else 2)
        resolved: dict[str, dict[str, Any]] = {}
        if is_message:
            resolved["messages"] = {str(target.id): self.fake.message_payload(target)}
        else:
            self._resolve_user(self.fake.users[id_of(target)], chan, resolved)
        data: dict[str, Any] = {
            "id": str(cmd.id),
            "name": name,
            "type": cmd.type,
            "target_id": str(id_of(target)),
            "resolved": resolved,
        }
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        payload = self._base(2, chan, user_obj, guild, member, locale=locale, guild_locale=None)
        payload["data"] = data
        return self._send(
            InteractionHandle(self.fake, payload, channel=chan, user=user_obj, command_name=name)
        )

    # ----- components ---------------------------------------------------------------------

    def _component(self, message: Any, custom_id: str, user: Any) -> tuple[Message, dict[str, Any]]:
        msg = self.fake.messages[id_of(message)]
        if msg.deleted:
            raise ValueError(f"message {msg.id} was deleted")
        comp = msg.find_component(custom_id)
        if comp is None:
            raise ValueError(f"no component {custom_id!r} on message {msg.id}: {msg.custom_ids()}")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        return msg, comp

    def _component_interaction(
        self, msg: Message, data: dict[str, Any], user: Any, locale: str
    ) -> InteractionHandle:
        chan, user_obj, guild, member = self._where(msg.channel_id, user)
        payload = self._base(3, chan, user_obj, guild, member, locale=locale, guild_locale=None)
        payload["data"] = data
        payload["message"] = self.fake.message_payload(msg)
        return self._send(
            InteractionHandle(
                self.fake, payload, channel=chan, user=user_obj, source_message_id=msg.id
            )
        )

    def click(
        self, message: Any, custom_id: str, *, user: Any, locale: str = "en-US"
    ) -> InteractionHandle:
        msg, comp = self._component(message, custom_id, user)
        if comp.get("type") != 2 or comp.get("style") in (5, 6):
            raise ValueError(f"{custom_id!r} is not a clickable button")
        data = {"custom_id": custom_id, "component_type": 2}
        if "id" in comp:
            data["id"] = comp["id"]
        return self._component_interaction(msg, data, user, locale)

    def select(
        self,
        message: Any,
        custom_id: str,
        values: list[Any],
        *,
        user: Any,
        locale: str = "en-US",
    ) -> InteractionHandle:
        msg, comp = self._component(message, custom_id, user)
        ctype = comp.get("type")
        if ctype not in SELECT_TYPES:
            raise ValueError(f"{custom_id!r} is not a select menu")
        low, high = comp.get("min_values", 1), comp.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ValueError(f"select {custom_id!r} takes {low}..{high} values, got {len(values)}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if ctype == 3:
            allowed = [o["value"] for o in comp.get("options") or []]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ValueError(f"{bad} are not options of {custom_id!r}: {allowed}")
            data["values"] = list(values)
        else:
            channel = self.fake.channels[msg.channel_id]
            member = self._where(channel, user)[3]
            resolved: dict[str, dict[str, Any]] = {}
            for value in values:
                if isinstance(value, Role):
                    resolved.setdefault("roles", {})[str(value.id)] = value.payload()
                elif isinstance(value, Channel):
                    resolved.setdefault("channels", {})[str(value.id)] = self._partial_channel(
                        value, member
                    )
                else:
                    self._resolve_user(self.fake.users[id_of(value)], channel, resolved)
            data["values"] = [str(id_of(v)) for v in values]
            data["resolved"] = resolved
        if "id" in comp:
            data["id"] = comp["id"]
        return self._component_interaction(msg, data, user, locale)

    def submit_modal(
        self,
        source: InteractionHandle,
        values: dict[str, str | list[str]],
        *,
        user: Any = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        modal = source.modal
        if modal is None:
            raise ValueError(f"interaction {source.id} opened no modal")
        remaining = dict(values)
        components = [self._modal_component(c, remaining) for c in modal.get("components") or []]
        if remaining:
            raise ValueError(f"modal {modal['custom_id']!r} has no inputs {sorted(remaining)}")
        chan, user_obj, guild, member = self._where(source.channel_id, user or source.user)
        payload = self._base(5, chan, user_obj, guild, member, locale=locale, guild_locale=None)
        payload["data"] = {
            "custom_id": modal["custom_id"],
            "components": [c for c in components if c is not None],
        }
        if source.source_message_id is not None:
            payload["message"] = self.fake.message_payload(
                self.fake.messages[source.source_message_id]
            )
        return self._send(
            InteractionHandle(
                self.fake,
                payload,
                channel=chan,
                user=user_obj,
                source_message_id=source.source_message_id,
            )
        )

    def _modal_component(
        self, comp: dict[str, Any], values: dict[str, Any]
    ) -> dict[str, Any] | None:
        ctype = comp.get("type")
        if ctype == 1:
            child = comp["components"][0]
            return {"type": 1, "components": [self._modal_input(child, values)]}
        if ctype == 18:
            return {
                "type": 18,
                "id": comp.get("id"),
                "component": self._modal_input(comp["component"], values),
            }
        return None

    @staticmethod
    def _modal_input(child: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        custom_id = child["custom_id"]
        if child.get("type") == 4:
            value = values.pop(custom_id, child.get("value") or "")
            if child.get("required", True) and not value:
                raise ValueError(f"text input {custom_id!r} is required")
            if value and not child.get("min_length", 0) <= len(value) <= child.get(
                "max_length", 4000
            ):
                raise ValueError(f"text input {custom_id!r}: length {len(value)} out of bounds")
            return {"type": 4, "custom_id": custom_id, "value": value}
        picked = values.pop(custom_id, [])
        return {"type": child.get("type"), "custom_id": custom_id, "values": list(picked)}
