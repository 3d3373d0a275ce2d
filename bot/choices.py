"""Autocomplete and option parsing shared by several features' commands: chantiers, ateliers
and séances offered as the user types, the ids they put in options, and the fixed choice lists
of ``genre`` and ``reponse``. They reach the features through ``bot.services`` only."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.command_text import CHOICES
from bot.errors import N_, InvalidInput, UserError
from bot.interactions import bot_of, is_staff, tr_of

GENRES = [app_commands.Choice(name=name, value=name) for name in CHOICES["genre"]]
REPONSES = [app_commands.Choice(name=name, value=name) for name in CHOICES["reponse"]]
# Staff operations (issue 12): a series' rhythm; what a change of one of its ateliers covers.
REPETITIONS = [app_commands.Choice(name=name, value=name) for name in CHOICES["repetition"]]
PORTEES = [app_commands.Choice(name=name, value=name) for name in CHOICES["portee"]]
NOT_AN_ATELIER = N_("« {valeur} » n'est pas un atelier : choisissez-en un dans la liste.")
NOT_A_SEANCE = N_("« {valeur} » n'est pas une séance : choisissez-en une dans la liste.")
CHOICE_MAX = 100
CHOICES_MAX = 25


def _id(text: str, message: str) -> int:
    value = text.strip().lstrip("#").strip()
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput(message, valeur=text[:50])
    return int(value)


def parse_atelier_id(text: str) -> int:
    """The atelier id an autocomplete put in an option (``12``; ``#12`` typed by hand)."""
    return _id(text, NOT_AN_ATELIER)


def parse_seance_id(text: str) -> int:
    return _id(text, NOT_A_SEANCE)


async def chantier_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Active chantiers whose name or slug contains what was typed (value: the slug)."""
    if interaction.guild_id is None:
        return []
    needle = current.strip().lower()
    chantiers = await bot_of(interaction).services.chantiers.chantiers(interaction.guild_id)
    return [
        app_commands.Choice(name=c.label[:CHOICE_MAX], value=c.slug)
        for c in chantiers
        if needle in c.nom.lower() or needle in c.slug
    ][:CHOICES_MAX]


async def atelier_choices(
    interaction: discord.Interaction, current: str, *, upcoming_only: bool = True
) -> list[app_commands.Choice[str]]:
    """Ateliers matching what was typed (value: the atelier id), with their first date."""
    if interaction.guild_id is None:
        return []
    bot, tr = bot_of(interaction), tr_of(interaction)
    found = await bot.services.ateliers.choices(
        interaction.guild_id,
        current,
        upcoming_only=upcoming_only,
        published_only=not is_staff(interaction.user, bot.settings.discord.staff_role),
    )
    choices = []
    for c in found:
        suffix = f" — {tr.format_date(c.first_start.date(), 'medium')}" if c.first_start else ""
        if c.cancelled:
            suffix += " " + tr._("(annulé)")
        name = c.titre[: CHOICE_MAX - len(suffix)] + suffix
        choices.append(app_commands.Choice(name=name, value=str(c.id)))
    return choices


async def seance_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The séances not yet begun of the atelier already chosen in the ``atelier`` option."""
    tr, bot = tr_of(interaction), bot_of(interaction)
    try:
        atelier_id = parse_atelier_id(str(interaction.namespace.atelier or ""))
        info = await bot.services.ateliers.get(atelier_id, guild_id=interaction.guild_id)
    except UserError:
        return []
    now = bot.clock.now()
    wanted = current.strip().casefold()
    choices = []
    for n, seance in enumerate(info.seances, 1):
        if seance.local_time is None:
            when = tr.format_date(seance.local_date)
        else:
            when = tr.format_datetime(seance.starts_at, seance.zone)
        name = f"{n}. {when}"
        if seance.starts_at > now and wanted in name.casefold():
            choices.append(app_commands.Choice(name=name[:CHOICE_MAX], value=str(seance.id)))
    return choices[:CHOICES_MAX]
