"""What every cog needs around an interaction: the caller's language, staff checks, replies,
and the one error handler for commands, buttons, selects and modals (STYLE.md rule 12)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.i18n import Translations, reader_locale
from db.session import CommitTooLate, commit_by

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


class StaffOnly(app_commands.CheckFailure):
    """The caller is not staff (the configured role or Manage Server)."""


def bot_of(interaction: discord.Interaction) -> PartageBot:
    return interaction.client  # type: ignore[return-value]


def locale_of(interaction: discord.Interaction) -> str:
    """The caller's language as stored for later messages: ``"en-GB"`` for a British reader
    (dates day first), ``"en"`` for any other English Discord locale, else ``"fr"``."""
    return reader_locale(str(interaction.locale) if interaction.locale else None)


def tr_of(interaction: discord.Interaction) -> Translations:
    """The caller's texts: their language, and for English their date order (en-GB)."""
    return bot_of(interaction).i18n.for_reader(
        str(interaction.locale) if interaction.locale else None
    )


def is_staff(member: discord.abc.User | None, staff_role: str) -> bool:
    """Staff hold the configured role (by id or name) or the Manage Server permission."""
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild or member.guild_permissions.administrator:
        return True
    wanted = staff_role.strip()
    return any(str(role.id) == wanted or role.name == wanted for role in member.roles)


#: What Discord asks by default to see a staff command (members do not see them in their
#: command list; a server admin can grant them to the staff role under Server Settings →
#: Integrations → Partage). The run-time check (``staff_only``) stays.
STAFF_DEFAULT_PERMISSIONS = discord.Permissions(manage_events=True)


def staff_only() -> Any:
    """An ``app_commands.check`` evaluated at run time on every call."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild is None or not is_staff(
            interaction.user, bot_of(interaction).settings.discord.staff_role
        ):
            raise StaffOnly()
        return True

    predicate.partage_staff_only = True  # type: ignore[attr-defined]  # read by is_staff_command
    return app_commands.check(predicate)


def is_staff_command(command: app_commands.Command[Any, Any, Any]) -> bool:
    """Whether ``command`` carries the ``staff_only`` check (``/aide`` lists it for staff)."""
    return any(getattr(check, "partage_staff_only", False) for check in command.checks)


#: Discord drops an interaction not acknowledged within 3 s of its creation. A change must be
#: ready to commit this many seconds after the interaction was created, or it is not made.
ACK_BY = 2.4
#: The interaction's age is read from its id (Discord's clock) and ours: a larger age is taken
#: for clock skew, so that a clock a few seconds ahead does not refuse every command.
MAX_TRUSTED_AGE = 1.5

_T = TypeVar("_T")


class Dropped(Exception):
    """The interaction was not acknowledged in time: Discord told its user that the application
    did not respond, and there is nobody left to answer. Logged where it happens."""


async def commit_then_defer(interaction: discord.Interaction, change: Awaitable[_T]) -> _T:
    """Run a command's change (one transaction, with its outbox rows), *then* acknowledge the
    interaction (an ephemeral "thinking…"); answer afterwards with ``reply``.

    The acknowledgement always follows the commit: a process killed after it has saved the
    change, whose notices go out after the restart. A change not ready to commit within
    Discord's deadline (``ACK_BY`` seconds after the interaction's creation) is rolled back and
    never acknowledged: its user sees that the application did not respond, nothing changed,
    and trying again is safe."""
    age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    try:
        with commit_by(ACK_BY - min(max(age, 0.0), MAX_TRUSTED_AGE)):
            result = await change
    except CommitTooLate:
        log.warning(
            "interaction %s (%s): its change was not ready %.1f s after the interaction was "
            "created; rolled back, not acknowledged",
            interaction.id,
            _what(interaction),
            (discord.utils.utcnow() - interaction.created_at).total_seconds(),
        )
        raise Dropped() from None
    try:
        await interaction.response.defer(ephemeral=True, thinking=True)
    except discord.NotFound:
        log.warning(
            "interaction %s (%s): saved, but Discord had dropped it before its acknowledgement",
            interaction.id,
            _what(interaction),
        )
        raise Dropped() from None
    return result


async def reply(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    ephemeral: bool = True,
    **kwargs: Any,
) -> None:
    """Answer, or follow up when the interaction was already answered or deferred."""
    kwargs.setdefault("allowed_mentions", NO_MENTIONS)
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=ephemeral, **kwargs)
    else:
        await interaction.response.send_message(content, ephemeral=ephemeral, **kwargs)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Turn any failure into a short translated ephemeral reply; log what is not the user's."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, Dropped):
        return  # logged where it happened; the interaction is gone
    tr = tr_of(interaction)
    if isinstance(error, UserError):
        text = tr.user_error(error)
    elif isinstance(error, StaffOnly):
        text = tr._("Cette commande est réservée à l'équipe d'animation.")
    elif isinstance(error, app_commands.NoPrivateMessage | app_commands.CheckFailure):
        text = tr._("Cette commande s'utilise sur le serveur de l'Opération Partage.")
    elif isinstance(error, discord.Forbidden):
        log.warning(
            "interaction %s (%s) by user %s: Discord refused an action: %s",
            interaction.id,
            _what(interaction),
            interaction.user.id,
            error.text,
        )
        text = tr._(
            "Discord a refusé l'action : il manque une permission au bot. "
            "L'équipe d'animation a été prévenue dans le journal."
        )
    else:
        log.error(
            "interaction %s (%s) by user %s in guild %s failed",
            interaction.id,
            _what(interaction),
            interaction.user.id,
            interaction.guild_id,
            exc_info=error,
        )
        text = tr._("Désolé, une erreur imprévue est survenue. Réessayez dans un instant.")
    try:
        await reply(interaction, text, ephemeral=True)
    except discord.HTTPException:
        log.warning("interaction %s: could not deliver the error message", interaction.id)


def claimed(client: discord.Client, interaction: discord.Interaction) -> bool:
    """Whether a component interaction has a handler: a registered ``DynamicItem`` whose
    template matches its custom id, or a live view holding that component (discord.py's own
    lookup, ``ViewStore.dispatch_view``, which drops anything else without a word)."""
    data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
    custom_id = str(data.get("custom_id", ""))
    store = client._connection._view_store
    if any(pattern.fullmatch(custom_id) for pattern in store._dynamic_items):
        return True
    key = (int(data.get("component_type", 0)), custom_id)
    message_id = interaction.message.id if interaction.message is not None else None
    return key in store._views.get(message_id, {}) or key in store._views.get(None, {})


async def answer_unclaimed(interaction: discord.Interaction) -> None:
    """A button or menu nothing handles any more (an old message, a malformed or forged custom
    id): say so, instead of leaving Discord to show « Échec de l'interaction »."""
    if interaction.type != discord.InteractionType.component or claimed(
        interaction.client, interaction
    ):
        return
    log.info("interaction %s: no handler for %s", interaction.id, _what(interaction))
    tr = tr_of(interaction)
    try:
        await reply(interaction, tr._("Ce bouton n'est plus valide."), ephemeral=True)
    except discord.HTTPException:
        log.warning("interaction %s: could not say the button is no longer valid", interaction.id)


def _what(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data = interaction.data or {}
    return str(data.get("custom_id", interaction.type.name))


class PartageView(discord.ui.View):
    """A view whose errors go through the one handler."""

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_error(interaction, error)


class PartageModal(discord.ui.Modal):
    """A modal whose errors go through the one handler."""

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:
        await report_error(interaction, error)


async def run_safely(interaction: discord.Interaction, coro: Any) -> None:
    """Await a component callback; errors go through the one handler. discord.py only logs
    exceptions of ``DynamicItem`` callbacks, so persistent buttons call through this."""
    try:
        await coro
    except Exception as exc:
        await report_error(interaction, exc)


CogT = TypeVar("CogT", bound=commands.Cog)


def cog_of(client: discord.Client, kind: type[CogT]) -> CogT:
    """A loaded cog, by its class (typed; a feature's views reach their own cog this way)."""
    cog = client.get_cog(kind.__cog_name__) if isinstance(client, commands.Bot) else None
    if not isinstance(cog, kind):
        raise RuntimeError(f"the cog {kind.__cog_name__} is not loaded")
    return cog


async def edit_original(bot: discord.Client, application_id: int, token: str, content: str) -> None:
    """Edit an interaction's first response knowing only its application id and token (an
    answer told after a restart; the token lives 15 minutes). Editing is idempotent."""
    from discord.webhook.async_ import async_context

    webhook = discord.Webhook.partial(application_id, token, client=bot)
    await async_context.get().edit_original_interaction_response(
        application_id,
        token,
        session=webhook.session,
        proxy=bot.http.proxy,
        proxy_auth=bot.http.proxy_auth,
        payload={"content": content, "allowed_mentions": NO_MENTIONS.to_dict()},
    )
