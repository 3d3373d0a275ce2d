"""REST routes for the application, its commands, interaction callbacks and follow-ups."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from . import errors
from .handles import CallbackRecord
from .messages import LOADING, edit_changes, new_message_fields
from .models import AppCommand, Guild, Message
from .rest import Reply, RestRequest, RouteSet
from .validation import validate_autocomplete, validate_modal
from .validation_guild import validate_command, validate_commands

if TYPE_CHECKING:
    from .handles import InteractionHandle

log = logging.getLogger(__name__)

routes = RouteSet()

#: interaction type -> callback types Discord accepts as the first response
_ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}
_COMMAND_LIMITS = {1: 100, 2: 15, 3: 15}


# ----- application ------------------------------------------------------------------------


def _app_info(req: RestRequest) -> dict[str, Any]:
    fake = req.fake
    return {
        "id": str(fake.application_id),
        "name": fake.bot_user.username,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": fake.app_owner.payload(),
        "team": None,
        "verify_key": "0" * 64,
        "flags": 0,
        "rpc_origins": [],
        "bot": fake.bot_user.payload(),
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "approximate_guild_count": len(fake.guilds),
    }


@routes("GET", "/oauth2/applications/@me")
async def oauth_app(req: RestRequest) -> Any:
    return _app_info(req)


@routes("GET", "/applications/@me")
async def app_me(req: RestRequest) -> Any:
    return _app_info(req)


# ----- application commands ---------------------------------------------------------------


def _scope(req: RestRequest) -> tuple[dict[int, AppCommand], Guild | None]:
    fake = req.fake
    if req.id("application_id") != fake.application_id:
        raise errors.missing_access()
    if "guild_id" not in req.params:
        return fake.global_commands, None
    guild = fake.guilds.get(req.id("guild_id"))
    if guild is None or fake.bot_user.id not in guild.members:
        raise errors.missing_access()
    return fake.guild_commands.setdefault(guild.id, {}), guild


def _store(
    req: RestRequest, pool: dict[int, AppCommand], guild: Guild | None, data: dict[str, Any]
) -> AppCommand:
    fake = req.fake
    ctype = data.get("type", 1)
    existing = next((c for c in pool.values() if c.name == data["name"] and c.type == ctype), None)
    cmd = AppCommand(
        id=existing.id if existing else fake.next_id(),
        application_id=fake.application_id,
        guild_id=guild.id if guild else None,
        data=dict(data),
        version=fake.next_id(),
    )
    pool[cmd.id] = cmd
    return cmd


def _check_limits(commands: list[dict[str, Any]]) -> None:
    for ctype, limit in _COMMAND_LIMITS.items():
        if sum(1 for c in commands if c.get("type", 1) == ctype) > limit:
            raise errors.ApiError(400, 30032, "Maximum number of application commands reached")


@routes("GET", "/applications/{application_id}/commands")
@routes("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
async def list_commands(req: RestRequest) -> Any:
    pool, _ = _scope(req)
    return [c.payload() for c in pool.values()]


@routes("PUT", "/applications/{application_id}/commands")
@routes("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
async def bulk_overwrite(req: RestRequest) -> Any:
    pool, guild = _scope(req)
    commands = req.json if isinstance(req.json, list) else []
    validate_commands(commands)
    _check_limits(commands)
    previous = dict(pool)
    pool.clear()
    for data in commands:
        old = next(
            (
                c
                for c in previous.values()
                if c.name == data["name"] and c.type == data.get("type", 1)
            ),
            None,
        )
        if old is not None:
            pool[old.id] = old
        _store(req, pool, guild, data)
    return [c.payload() for c in pool.values()]


@routes("POST", "/applications/{application_id}/commands")
@routes("POST", "/applications/{application_id}/guilds/{guild_id}/commands")
async def upsert_command(req: RestRequest) -> Any:
    pool, guild = _scope(req)
    validate_command(req.body)
    exists = any(c.name == req.body.get("name") for c in pool.values())
    if not exists:
        _check_limits([c.data for c in pool.values()] + [req.body])
    cmd = _store(req, pool, guild, req.body)
    return Reply(200 if exists else 201, cmd.payload())


def _command(req: RestRequest) -> tuple[dict[int, AppCommand], Guild | None, AppCommand]:
    pool, guild = _scope(req)
    cmd = pool.get(req.id("command_id"))
    if cmd is None:
        raise errors.unknown("command")
    return pool, guild, cmd


@routes("GET", "/applications/{application_id}/commands/{command_id}")
@routes("GET", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
async def get_command(req: RestRequest) -> Any:
    return _command(req)[2].payload()


@routes("PATCH", "/applications/{application_id}/commands/{command_id}")
@routes("PATCH", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
async def edit_command(req: RestRequest) -> Any:
    _, _, cmd = _command(req)
    data = {**cmd.data, **req.body}
    validate_command(data)
    cmd.data = data
    cmd.version = req.fake.next_id()
    return cmd.payload()


@routes("DELETE", "/applications/{application_id}/commands/{command_id}")
@routes("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
async def delete_command(req: RestRequest) -> Any:
    pool, _, cmd = _command(req)
    del pool[cmd.id]
    return None


# ----- interaction callback ---------------------------------------------------------------


def _interaction_message(
    req: RestRequest, handle: InteractionHandle, fields: dict[str, Any]
) -> Message:
    fake = req.fake
    channel = fake.channels[handle.channel_id]
    kind = 20 if handle.type == 2 else 0
    return fake.create_message(
        channel,
        fake.bot_user,
        webhook_id=fake.application_id,
        application_id=fake.application_id,
        interaction_metadata=handle.metadata(),
        **{"type": kind, **fields},
    )


@routes("POST", "/interactions/{interaction_id}/{token}/callback")
async def interaction_callback(req: RestRequest) -> Any:
    fake, body = req.fake, req.body
    handle = fake.injector.handles.get(req.id("interaction_id"))
    if handle is None or handle.token != req.params["token"]:
        raise errors.unknown("interaction")
    if handle.callbacks:
        raise errors.ApiError(400, 40060, "Interaction has already been acknowledged.")
    deadline = fake.interaction_deadline
    if deadline is not None and handle.age > deadline:
        raise errors.unknown("interaction")
    ctype = int(body.get("type") or 0)
    data = body.get("data") or {}
    allowed = _ALLOWED_CALLBACKS.get(handle.type, set())
    if handle.type == 5 and handle.source_message_id is None:
        allowed = allowed - {6, 7}
    if ctype not in allowed:
        raise errors.ApiError(
            400,
            50035,
            "Invalid Form Body",
            {
                "type": {
                    "_errors": [{"code": "INTERACTION_RESPONSE_TYPE_INVALID", "message": "Invalid"}]
                }
            },
        )
    channel = fake.channels[handle.channel_id]
    msg: Message | None = None
    if ctype == 4:
        fields = new_message_fields(fake, channel, data, req.files, allow_ephemeral=True)
        msg = _interaction_message(req, handle, fields)
    elif ctype == 5:
        flags = (int(data.get("flags") or 0) & 64) | LOADING
        msg = _interaction_message(req, handle, {"flags": flags})
    elif ctype in (6, 7):
        msg = fake.messages[handle.source_message_id]  # type: ignore[index]
        if ctype == 7:
            fake.edit_message(msg, edit_changes(fake, msg, data, req.files))
    elif ctype == 8:
        validate_autocomplete(data)
    elif ctype == 9:
        validate_modal(data)
    if msg is not None:
        handle.original_message_id = msg.id
    handle.callbacks.append(CallbackRecord(type=ctype, data=data or None, files=req.files))
    handle.notify()
    resource: dict[str, Any] = {"type": ctype}
    if msg is not None and ctype != 6:
        resource["message"] = fake.message_payload(msg)
    return {
        "interaction": {
            "id": str(handle.id),
            "type": handle.type,
            "activity_instance_id": None,
            "response_message_id": str(msg.id) if msg is not None else None,
            "response_message_loading": ctype == 5,
            "response_message_ephemeral": bool(msg is not None and msg.ephemeral),
        },
        "resource": resource,
    }


# ----- follow-ups (interaction webhooks) --------------------------------------------------


def _webhook_handle(req: RestRequest) -> InteractionHandle:
    fake = req.fake
    handle = fake.injector.by_token.get(req.params["webhook_token"])
    if handle is None or req.id("webhook_id") != fake.application_id:
        raise errors.unknown("webhook")
    if handle.age > fake.interaction_token_ttl:
        raise errors.ApiError(401, 50027, "Invalid Webhook Token")
    if not handle.callbacks:
        raise errors.unknown("webhook")
    return handle


@routes("POST", "/webhooks/{webhook_id}/{webhook_token}")
async def followup(req: RestRequest) -> Any:
    fake = req.fake
    handle = _webhook_handle(req)
    original = handle.message
    deferred = handle.callbacks[0].type == 5
    if deferred and original is not None and original.flags & LOADING and not handle.followup_ids:
        # The first follow-up after a "thinking" defer replaces the loading message.
        fake.edit_message(original, edit_changes(fake, original, req.body, req.files))
        msg = original
    else:
        channel = fake.channels[handle.channel_id]
        fields = new_message_fields(fake, channel, req.body, req.files, allow_ephemeral=True)
        msg = _interaction_message(req, handle, fields)
    handle.followup_ids.append(msg.id)
    handle.notify()
    if req.query.get("wait") in ("1", "true", "True"):
        return fake.message_payload(msg)
    return None


def _webhook_message(req: RestRequest, handle: InteractionHandle) -> Message:
    raw = req.params.get("message_id", "@original")
    if raw == "@original":
        msg_id = handle.original_message_id
    else:
        msg_id = req.id("message_id")
        if msg_id != handle.original_message_id and msg_id not in handle.followup_ids:
            msg_id = None
    msg = req.fake.messages.get(msg_id) if msg_id is not None else None
    if msg is None or msg.deleted:
        raise errors.unknown("message")
    return msg


@routes("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
@routes("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def get_webhook_message(req: RestRequest) -> Any:
    handle = _webhook_handle(req)
    return req.fake.message_payload(_webhook_message(req, handle))


@routes("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
@routes("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def edit_webhook_message(req: RestRequest) -> Any:
    fake = req.fake
    handle = _webhook_handle(req)
    msg = _webhook_message(req, handle)
    fake.edit_message(msg, edit_changes(fake, msg, req.body, req.files))
    handle.notify()
    return fake.message_payload(msg)


@routes("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/@original")
@routes("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
async def delete_webhook_message(req: RestRequest) -> Any:
    handle = _webhook_handle(req)
    req.fake.delete_message(_webhook_message(req, handle))
    handle.notify()
    return None
