"""Staff operations by hand on Discord: ``/atelier inscrire``, ``/atelier retirer`` (staff or
the atelier's co-hosts) and ``/atelier coanimer`` (staff). The commands join the ``/atelier``
group of the ateliers feature when this cog loads."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import atelier_choices, parse_atelier_id
from bot.cohosts import staff_or_cohost
from bot.command_text import p_
from bot.errors import N_, InvalidInput
from bot.i18n import Translations
from bot.interactions import bot_of, commit_then_defer, is_staff, reply, staff_only, tr_of
from db.models import EtatInscription

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)


def _person(membre: discord.Member | discord.User) -> tuple[int, str | None]:
    if membre.bot:
        raise InvalidInput(N_("Un bot ne peut pas participer à un atelier."))
    return membre.id, getattr(membre, "display_name", None)


async def _upcoming_atelier(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await atelier_choices(interaction, current)


async def _any_atelier(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await atelier_choices(interaction, current, upcoming_only=False)


def sees_atelier_by_default(membre: discord.Member, interaction: discord.Interaction) -> bool:
    """Whether Discord lists ``/atelier`` to ``membre`` without an override: it asks for Manage
    Events by default (``STAFF_DEFAULT_PERMISSIONS``); staff need no co-host rights at all."""
    perms = membre.guild_permissions
    return (
        perms.manage_events
        or perms.administrator
        or is_staff(membre, bot_of(interaction).settings.discord.staff_role)
    )


def _application_name(interaction: discord.Interaction) -> str:
    user = interaction.client.user
    return user.name if user is not None else "Partage"


def visibility_steps(tr: Translations, membre: discord.Member, application: str) -> str:
    """What staff do, once, so that a co-host sees ``/atelier`` in Discord's command list.

    Discord sets who sees a command for the top-level command only (``/atelier`` as a whole,
    not ``/atelier modifier``), and a bot cannot change it (Discord asks for an administrator's
    own authorisation): so the bot says exactly where to click. Giving the co-host Manage
    Events instead would give them every event of the server."""
    return tr._(
        "Pour que {membre} voie /atelier dans sa liste de commandes (Discord ne le montre "
        "qu'avec la permission « Gérer les événements »), une fois :\n"
        "1. Paramètres du serveur → Intégrations → {application} ;\n"
        "2. dans Commandes, /atelier → Ajouter des membres ou des rôles → {nom} ;\n"
        "3. cochez ✓, puis Enregistrer les modifications.\n"
        "Discord règle /atelier en entier : {membre} y verra aussi les autres sous-commandes, "
        "que le bot lui refuse. Si vous nommez souvent des coanimateurs, autorisez plutôt une "
        "fois un rôle (par exemple « Coanimation ») et donnez-le-leur.",
        membre=f"<@{membre.id}>",
        nom=discord.utils.escape_mentions(discord.utils.escape_markdown(membre.display_name)),
        application=application,
    )


def build_commands() -> tuple[app_commands.Command[Any, Any, Any], ...]:
    """``/atelier inscrire``, ``retirer`` and ``coanimer``, built for each bot (a command
    belongs to one group)."""

    @app_commands.command(
        name=p_("command-name", "inscrire"),
        description=p_(
            "command-description", "Inscrire un membre à un atelier (la liste d'attente s'applique)"
        ),
    )
    @app_commands.describe(
        atelier=p_("option-description", "L'atelier"),
        membre=p_("option-description", "Le membre à inscrire"),
    )
    @app_commands.autocomplete(atelier=_upcoming_atelier)
    @staff_or_cohost()
    async def inscrire(
        interaction: discord.Interaction, atelier: str, membre: discord.Member
    ) -> None:
        tr = tr_of(interaction)
        user_id, name = _person(membre)
        result = await commit_then_defer(
            interaction,
            bot_of(interaction).services.gestion.inscrire(
                interaction.guild_id or 0,
                parse_atelier_id(atelier),
                user_id,
                display_name=name,
                actor_user_id=interaction.user.id,
            ),
        )
        who = f"<@{user_id}>"
        if not result.changed:
            text = tr._(
                "{membre} était déjà à « {titre} » : rien n'a changé.",
                membre=who,
                titre=result.titre,
            )
        elif result.etat == EtatInscription.ATTENTE:
            text = tr._(
                "{membre} est ajouté·e à la liste d'attente de « {titre} » (n° {position}) et en "
                "est prévenu·e.",
                membre=who,
                titre=result.titre,
                position=result.position or 1,
            )
        else:
            text = tr._(
                "{membre} est inscrit·e à « {titre} » et en est prévenu·e.",
                membre=who,
                titre=result.titre,
            )
        await reply(interaction, text)

    @app_commands.command(
        name=p_("command-name", "retirer"),
        description=p_("command-description", "Retirer un membre d'un atelier et le prévenir"),
    )
    @app_commands.describe(
        atelier=p_("option-description", "L'atelier"),
        membre=p_("option-description", "Le membre à retirer"),
    )
    @app_commands.autocomplete(atelier=_any_atelier)
    @staff_or_cohost()
    async def retirer(
        interaction: discord.Interaction, atelier: str, membre: discord.Member
    ) -> None:
        tr = tr_of(interaction)
        result = await commit_then_defer(
            interaction,
            bot_of(interaction).services.gestion.retirer(
                interaction.guild_id or 0,
                parse_atelier_id(atelier),
                membre.id,
                actor_user_id=interaction.user.id,
            ),
        )
        text = tr._(
            "{membre} est retiré·e de « {titre} » et en est prévenu·e.",
            membre=f"<@{membre.id}>",
            titre=result.titre,
        )
        if result.promoted:
            text += "\n" + tr.n_(
                "{n} personne de la liste d'attente a reçu la place.",
                "{n} personnes de la liste d'attente ont reçu la place.",
                result.promoted,
            )
        await reply(interaction, text)

    @app_commands.command(
        name=p_("command-name", "coanimer"),
        description=p_(
            "command-description", "Nommer un membre coanimateur d'un atelier (ou le retirer)"
        ),
    )
    @app_commands.describe(
        atelier=p_("option-description", "L'atelier"),
        membre=p_("option-description", "Le membre qui coanime"),
        retirer=p_("option-description", "Retirer ce membre de la coanimation"),
    )
    @app_commands.autocomplete(atelier=_any_atelier)
    @staff_only()
    async def coanimer(
        interaction: discord.Interaction,
        atelier: str,
        membre: discord.Member,
        retirer: bool = False,
    ) -> None:
        tr = tr_of(interaction)
        user_id, name = _person(membre)
        result = await commit_then_defer(
            interaction,
            bot_of(interaction).services.gestion.coanimer(
                interaction.guild_id or 0,
                parse_atelier_id(atelier),
                user_id,
                display_name=name,
                actor_user_id=interaction.user.id,
                retirer=retirer,
            ),
        )
        values = {"membre": f"<@{user_id}>", "titre": result.titre}
        if not result.changed and result.added:
            text = tr._("{membre} coanime déjà « {titre} ».", **values)
        elif not result.changed:
            text = tr._("{membre} ne coanime pas « {titre} ».", **values)
        elif result.added:
            text = tr._(
                "{membre} coanime maintenant « {titre} » : modifier l'atelier, ses participants et "
                "ses présences, inscrire et retirer des membres.",
                **values,
            )
        else:
            text = tr._("{membre} ne coanime plus « {titre} ».", **values)
        if result.changed and not sees_atelier_by_default(membre, interaction):
            if result.added:
                text += "\n\n" + visibility_steps(tr, membre, _application_name(interaction))
            elif result.others == 0:
                text += "\n\n" + tr._(
                    "{membre} ne coanime plus aucun atelier : vous pouvez lui retirer l'accès à "
                    "/atelier au même endroit (Paramètres du serveur → Intégrations → "
                    "{application} → /atelier).",
                    membre=f"<@{user_id}>",
                    application=_application_name(interaction),
                )
        await reply(interaction, text)

    return (inscrire, retirer, coanimer)


class GestionCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.atelier_commands = build_commands()

    async def cog_load(self) -> None:
        group = self.bot.tree.get_command("atelier")
        if not isinstance(group, app_commands.Group):
            raise RuntimeError("the gestion feature needs the ateliers feature (/atelier)")
        for command in self.atelier_commands:
            group.add_command(command)

    async def cog_unload(self) -> None:
        group = self.bot.tree.get_command("atelier")
        if isinstance(group, app_commands.Group):
            for command in self.atelier_commands:
                group.remove_command(command.name)
