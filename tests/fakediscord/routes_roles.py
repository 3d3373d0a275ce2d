"""REST routes for roles and members."""

from __future__ import annotations

import logging
from typing import Any

from . import errors
from .models import Guild
from .permissions import Perm, role_key, top_role_key
from .rest import RestRequest, RouteSet
from .routes_guilds import guild_of
from .validation_guild import parse_time, validate_role

log = logging.getLogger(__name__)

routes = RouteSet()


# ----- roles ------------------------------------------------------------------------------


def _manageable_role(req: RestRequest, guild: Guild, role_id: int) -> Any:
    fake = req.fake
    role = fake.role_or_404(guild, role_id)
    fake.require_guild_permissions(guild, Perm.MANAGE_ROLES)
    is_owner = guild.owner_id == fake.bot_user.id
    if not is_owner and role_key(role.position, role.id) >= top_role_key(
        guild, fake.bot_member(guild)
    ):
        raise errors.missing_permissions()
    return role


def _check_role_permissions(req: RestRequest, guild: Guild, permissions: int) -> None:
    perms = req.fake.bot_guild_permissions(guild)
    if perms != Perm.ALL and permissions & ~perms:
        raise errors.missing_permissions()


def _role_changes(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in ("name", "hoist", "mentionable"):
        if key in body and body[key] is not None:
            changes[key] = body[key]
    if body.get("permissions") is not None:
        changes["permissions"] = int(body["permissions"])
    color = body.get("color")
    if body.get("colors"):
        color = body["colors"].get("primary_color", color)
    if color is not None:
        changes["color"] = int(color)
    return changes


@routes("GET", "/guilds/{guild_id}/roles")
async def get_roles(req: RestRequest) -> Any:
    return [r.payload() for r in guild_of(req).roles.values()]


@routes("GET", "/guilds/{guild_id}/roles/{role_id}")
async def get_role(req: RestRequest) -> Any:
    return req.fake.role_or_404(guild_of(req), req.id("role_id")).payload()


@routes("POST", "/guilds/{guild_id}/roles")
async def create_role(req: RestRequest) -> Any:
    fake, guild, body = req.fake, guild_of(req), req.body
    fake.require_guild_permissions(guild, Perm.MANAGE_ROLES)
    validate_role(body)
    changes = _role_changes(body)
    _check_role_permissions(req, guild, changes.get("permissions", 0))
    if len(guild.roles) >= 250:
        raise errors.ApiError(400, 30005, "Maximum number of guild roles reached (250)")
    role = fake.create_role(guild, **changes)
    return role.payload()


@routes("PATCH", "/guilds/{guild_id}/roles")
async def move_roles(req: RestRequest) -> Any:
    fake, guild = req.fake, guild_of(req)
    top = top_role_key(guild, fake.bot_member(guild))
    for item in req.json or []:
        role = _manageable_role(req, guild, int(item["id"]))
        position = int(item["position"])
        if guild.owner_id != fake.bot_user.id and role_key(position, role.id) >= top:
            raise errors.missing_permissions()
        fake.update_role(guild, role, position=position)
    return [r.payload() for r in guild.roles.values()]


@routes("PATCH", "/guilds/{guild_id}/roles/{role_id}")
async def edit_role(req: RestRequest) -> Any:
    fake, guild, body = req.fake, guild_of(req), req.body
    role = _manageable_role(req, guild, req.id("role_id"))
    validate_role(body)
    changes = _role_changes(body)
    if "permissions" in changes:
        _check_role_permissions(req, guild, changes["permissions"] & ~role.permissions)
    if role.id == guild.id and "name" in changes:
        changes.pop("name")
    return fake.update_role(guild, role, **changes).payload()


@routes("DELETE", "/guilds/{guild_id}/roles/{role_id}")
async def delete_role(req: RestRequest) -> Any:
    fake, guild = req.fake, guild_of(req)
    role = _manageable_role(req, guild, req.id("role_id"))
    if role.id == guild.id or role.managed:
        raise errors.ApiError(400, 50028, "Invalid Role")
    fake.delete_role(guild, role)
    return None


# ----- members ----------------------------------------------------------------------------


@routes("GET", "/guilds/{guild_id}/members")
async def list_members(req: RestRequest) -> Any:
    from .gateway import Intent

    guild = guild_of(req)
    if not req.fake.privileged_intents & Intent.GUILD_MEMBERS:
        raise errors.missing_access()
    limit = min(int(req.query.get("limit", 1)), 1000)
    after = int(req.query.get("after", 0))
    members = sorted((m for m in guild.members.values() if m.user.id > after), key=lambda m: m.id)
    return [m.payload() for m in members[:limit]]


@routes("GET", "/guilds/{guild_id}/members/search")
async def search_members(req: RestRequest) -> Any:
    guild = guild_of(req)
    query = req.query.get("query", "").lower()
    limit = min(int(req.query.get("limit", 1)), 1000)
    found = [
        m
        for m in guild.members.values()
        if m.user.username.lower().startswith(query) or (m.nick or "").lower().startswith(query)
    ]
    return [m.payload() for m in found[:limit]]


@routes("GET", "/guilds/{guild_id}/members/{user_id}")
async def get_member(req: RestRequest) -> Any:
    guild = guild_of(req)
    return req.fake.member_or_404(guild, req.id("user_id")).payload()


def _assignable_role(req: RestRequest, guild: Guild, role_id: int) -> Any:
    role = _manageable_role(req, guild, role_id)
    if role.managed or role.id == guild.id:
        raise errors.missing_permissions()
    return role


@routes("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def add_member_role(req: RestRequest) -> Any:
    fake, guild = req.fake, guild_of(req)
    member = fake.member_or_404(guild, req.id("user_id"))
    role = _assignable_role(req, guild, req.id("role_id"))
    if role.id not in member.roles:
        member.roles.append(role.id)
        fake.update_member(guild, member)
    return None


@routes("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def remove_member_role(req: RestRequest) -> Any:
    fake, guild = req.fake, guild_of(req)
    member = fake.member_or_404(guild, req.id("user_id"))
    role = _assignable_role(req, guild, req.id("role_id"))
    if role.id in member.roles:
        member.roles.remove(role.id)
        fake.update_member(guild, member)
    return None


@routes("PATCH", "/guilds/{guild_id}/members/{user_id}")
async def edit_member(req: RestRequest) -> Any:
    fake, guild, body = req.fake, guild_of(req), req.body
    member = fake.member_or_404(guild, req.id("user_id"))
    if "roles" in body:
        wanted = [int(r) for r in body["roles"] or []]
        for role_id in set(wanted) ^ set(member.roles):
            role = fake.role_or_404(guild, role_id)
            if not role.managed:
                _assignable_role(req, guild, role_id)
        member.roles = wanted
    if "nick" in body:
        if member.user.id == guild.owner_id:
            raise errors.missing_permissions()
        fake.require_guild_permissions(guild, Perm.MANAGE_NICKNAMES)
        member.nick = body["nick"] or None
    if "communication_disabled_until" in body:
        fake.require_guild_permissions(guild, Perm.MODERATE_MEMBERS)
        member.communication_disabled_until = parse_time(
            errors.FormErrors(), (), body["communication_disabled_until"]
        )
    fake.update_member(guild, member)
    return member.payload()


@routes("PATCH", "/guilds/{guild_id}/members/@me")
async def edit_own_member(req: RestRequest) -> Any:
    fake, guild = req.fake, guild_of(req)
    fake.require_guild_permissions(guild, Perm.CHANGE_NICKNAME)
    member = fake.bot_member(guild)
    member.nick = req.body.get("nick") or None
    fake.update_member(guild, member)
    return member.payload()


@routes("DELETE", "/guilds/{guild_id}/members/{user_id}")
async def kick_member(req: RestRequest) -> Any:
    fake, guild = req.fake, guild_of(req)
    member = fake.member_or_404(guild, req.id("user_id"))
    fake.require_guild_permissions(guild, Perm.KICK_MEMBERS)
    if member.user.id == guild.owner_id or top_role_key(guild, member) >= top_role_key(
        guild, fake.bot_member(guild)
    ):
        raise errors.missing_permissions()
    fake.remove_member(guild, member)
    return None
