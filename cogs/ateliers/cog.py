"""Ateliers on Discord: /atelier creer|modifier|annuler|participants|annoncer (staff) and
/ateliers. What follows a change (the announcement, its scheduled events, the notices) is
written to the outbox by the service, in the change's transaction, and delivered by the
handlers of ``delivery.py``; the announcement's buttons belong to the inscriptions feature."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import GENRES, atelier_choices, chantier_choices, parse_atelier_id
from bot.cohosts import staff_or_cohost
from bot.command_text import DESCRIPTIONS, option_descriptions
from bot.dates import SeanceSpec, parse_seances
from bot.errors import N_, Conflict, InvalidInput, NotFound
from bot.interactions import commit_then_defer, reply, staff_only, tr_of
from cogs.ateliers.delivery import AtelierDelivery
from cogs.ateliers.export import participants_csv, participants_xlsx
from cogs.ateliers.info import SeanceInfo
from cogs.ateliers.service import (
    DEFAULT_LIEU,
    AtelierChanges,
    AtelierDraft,
    validate_numbers,
)
from cogs.ateliers.text import compact_line, counts_lines, jump_url, short_status
from cogs.chantiers.service import ChantierInfo
from db.models import Genre

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

LISTED_MAX = 10
ANNOUNCED_WAIT = 3.0  # seconds /atelier creer waits for its announcement before answering


def _ranged_minutes(seances: list[SeanceSpec]) -> int | None:
    """The duration the séances' time ranges give (« de 13 h 30 à 15 h »: 90), when they all
    give the same one; None otherwise (then the ``duree`` option stands)."""
    spans = {s.ends_at - s.starts_at for s in seances if s.ends_at is not None}
    if len(spans) != 1 or any(s.local_time is not None and s.ends_at is None for s in seances):
        return None
    return int(spans.pop().total_seconds() // 60)


def _respan(seances: tuple[SeanceInfo, ...], minutes: int) -> list[SeanceSpec]:
    """The same séances with a new duration."""
    return [
        SeanceSpec(
            s.local_date,
            s.local_time,
            s.zone,
            s.starts_at,
            s.starts_at + timedelta(minutes=minutes) if s.local_time else None,
        )
        for s in seances
    ]


class AteliersCog(commands.Cog):
    atelier = app_commands.Group(
        name="atelier", description=DESCRIPTIONS["atelier"], guild_only=True
    )

    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.delivery = AtelierDelivery(bot)

    async def cog_load(self) -> None:
        self.delivery.register()

    async def _announced(self, atelier_id: int, previous: int | None = None) -> bool:
        """Whether the announcement got posted within ``ANNOUNCED_WAIT`` seconds (the outbox
        delivers it right after the commit; a slow or failing Discord only delays it)."""
        deadline = self.bot.clock.monotonic() + ANNOUNCED_WAIT
        while True:
            info = await self.bot.services.ateliers.get(atelier_id)
            if info.announcement_message_id not in (None, previous):
                return True
            if self.bot.clock.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.05)

    async def _chantier(self, guild_id: int, slug: str) -> ChantierInfo:
        found = await self.bot.services.chantiers.by_slug(guild_id, slug.strip())
        if found is None:
            raise NotFound(N_("Le chantier « {slug} » n'existe pas."), slug=slug[:40])
        return found

    def _seances(self, dates: str, minutes: int) -> list[SeanceSpec]:
        return parse_seances(
            dates,
            zone=self.bot.zone,
            now=self.bot.clock.now(),
            duration=timedelta(minutes=minutes),
            horizon_years=self.bot.settings.time.horizon_years,
        )

    # --- staff -------------------------------------------------------------------------------

    @atelier.command(name="creer", description=DESCRIPTIONS["atelier creer"])
    @app_commands.describe(**option_descriptions("atelier creer"))
    @app_commands.choices(genre=GENRES)
    @staff_only()
    async def creer(
        self,
        interaction: discord.Interaction,
        titre: str,
        chantier: str,
        dates: str,
        duree: int = 90,
        lieu: str = DEFAULT_LIEU,
        lien: str | None = None,
        capacite: int | None = None,
        genre: str = Genre.ATELIER.value,
        description: str = "",
    ) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id or 0
        found = await self._chantier(guild_id, chantier)
        validate_numbers(duree_minutes=duree, capacite=capacite)
        seances = self._seances(dates, duree)
        duree = _ranged_minutes(seances) or duree
        validate_numbers(duree_minutes=duree, capacite=capacite)
        draft = AtelierDraft(
            titre=titre,
            seances=seances,
            chantier_id=found.id,
            duree_minutes=duree,
            lieu=lieu,
            lien=lien,
            capacite=capacite,
            genre=Genre(genre),
            description=description,
            organizer_user_id=interaction.user.id,
        )
        info = await commit_then_defer(
            interaction,
            self.bot.services.ateliers.create(
                guild_id, draft, actor_user_id=interaction.user.id, channel_id=found.channel_id
            ),
        )
        values = {"titre": info.titre, "id": info.id}
        if found.channel_id is None:
            text = tr._(
                "Atelier « {titre} » créé (n° {id}). Son chantier n'a pas de salon : "
                "publiez l'annonce avec /atelier annoncer et l'option salon.",
                **values,
            )
        elif await self._announced(info.id):
            text = tr._(
                "Atelier « {titre} » créé (n° {id}) : annonce publiée dans {salon}.",
                salon=f"<#{found.channel_id}>",
                **values,
            )
        else:
            log.warning("atelier %s: announcement not posted yet", info.id)
            text = tr._(
                "Atelier « {titre} » créé (n° {id}). Discord n'a pas encore accepté son "
                "annonce dans {salon} : elle sera publiée dès que possible (sinon, "
                "/atelier annoncer).",
                salon=f"<#{found.channel_id}>",
                **values,
            )
        await reply(interaction, text)

    @atelier.command(name="modifier", description=DESCRIPTIONS["atelier modifier"])
    @app_commands.describe(**option_descriptions("atelier modifier"))
    @app_commands.choices(genre=GENRES)
    @staff_or_cohost()
    async def modifier(
        self,
        interaction: discord.Interaction,
        atelier: str,
        titre: str | None = None,
        chantier: str | None = None,
        dates: str | None = None,
        duree: int | None = None,
        lieu: str | None = None,
        lien: str | None = None,
        capacite: int | None = None,
        genre: str | None = None,
        description: str | None = None,
    ) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id or 0
        before = await self.bot.services.ateliers.get(parse_atelier_id(atelier), guild_id=guild_id)
        validate_numbers(duree_minutes=duree, capacite=capacite)
        if dates is not None:
            seances: list[SeanceSpec] | None = self._seances(dates, duree or before.duree_minutes)
        else:
            seances = _respan(before.seances, duree) if duree is not None else None
        changes = AtelierChanges(
            titre=titre,
            seances=seances,
            chantier_id=(await self._chantier(guild_id, chantier)).id if chantier else None,
            duree_minutes=duree,
            lieu=lieu,
            lien=lien,
            capacite=capacite,
            genre=Genre(genre) if genre else None,
            description=description,
        )
        result = await commit_then_defer(
            interaction,
            self.bot.services.ateliers.modify(
                guild_id, before.id, changes, actor_user_id=interaction.user.id
            ),
        )
        told = len(result.notify)  # the promoted among them, told of their place
        await reply(
            interaction,
            tr.n_(
                "Atelier « {titre} » modifié. {n} personne prévenue.",
                "Atelier « {titre} » modifié. {n} personnes prévenues.",
                told,
                titre=result.atelier.titre,
            ),
        )

    @atelier.command(name="annuler", description=DESCRIPTIONS["atelier annuler"])
    @app_commands.describe(**option_descriptions("atelier annuler"))
    @staff_only()
    async def annuler(
        self, interaction: discord.Interaction, atelier: str, raison: str | None = None
    ) -> None:
        tr = tr_of(interaction)
        result = await commit_then_defer(
            interaction,
            self.bot.services.ateliers.cancel(
                interaction.guild_id or 0,
                parse_atelier_id(atelier),
                raison=raison,
                actor_user_id=interaction.user.id,
            ),
        )
        told = len(result.notify)
        await reply(
            interaction,
            tr.n_(
                "Atelier « {titre} » annulé. {n} personne prévenue.",
                "Atelier « {titre} » annulé. {n} personnes prévenues.",
                told,
                titre=result.atelier.titre,
            ),
        )

    @atelier.command(name="participants", description=DESCRIPTIONS["atelier participants"])
    @app_commands.describe(**option_descriptions("atelier participants"))
    @staff_or_cohost()
    async def participants(self, interaction: discord.Interaction, atelier: str) -> None:
        tr = tr_of(interaction)
        export = await self.bot.services.ateliers.participants(
            interaction.guild_id or 0, parse_atelier_id(atelier), actor_user_id=interaction.user.id
        )
        name = f"atelier-{export.atelier.id}"
        files = [
            discord.File(io.BytesIO(participants_csv(tr, export)), filename=f"{name}.csv"),
            discord.File(io.BytesIO(participants_xlsx(tr, export)), filename=f"{name}.xlsx"),
        ]
        await reply(
            interaction,
            tr.n_(
                "« {titre} » : {n} réponse.",
                "« {titre} » : {n} réponses.",
                len(export.rows),
                titre=export.atelier.titre,
            ),
            files=files,
        )

    @atelier.command(name="annoncer", description=DESCRIPTIONS["atelier annoncer"])
    @app_commands.describe(**option_descriptions("atelier annoncer"))
    @staff_only()
    async def annoncer(
        self,
        interaction: discord.Interaction,
        atelier: str,
        salon: discord.TextChannel | None = None,
    ) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id or 0
        info = await self.bot.services.ateliers.get(parse_atelier_id(atelier), guild_id=guild_id)
        if info.cancelled:
            raise Conflict(N_("L'atelier « {titre} » est annulé."), titre=info.titre)
        channel_id = salon.id if salon else await self.delivery.default_channel(info)
        if channel_id is None:
            raise InvalidInput(
                N_(
                    "L'atelier « {titre} » n'a pas de chantier avec un salon : "
                    "indiquez où publier avec l'option salon."
                ),
                titre=info.titre,
            )
        previous = info.announcement_message_id
        info = await commit_then_defer(
            interaction, self.bot.services.ateliers.announce(guild_id, info.id, channel_id)
        )
        if await self._announced(info.id, previous):
            text = tr._(
                "Annonce de l'atelier « {titre} » publiée dans {salon}.",
                titre=info.titre,
                salon=f"<#{channel_id}>",
            )
        else:
            text = tr._(
                "Discord n'a pas encore accepté l'annonce de l'atelier « {titre} » dans {salon} : "
                "elle sera publiée dès que possible.",
                titre=info.titre,
                salon=f"<#{channel_id}>",
            )
        await reply(interaction, text)

    @modifier.autocomplete("atelier")
    @annuler.autocomplete("atelier")
    async def _upcoming_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await atelier_choices(interaction, current)

    @participants.autocomplete("atelier")
    @annoncer.autocomplete("atelier")
    async def _any_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await atelier_choices(interaction, current, upcoming_only=False)

    @creer.autocomplete("chantier")
    @modifier.autocomplete("chantier")
    async def _chantier_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await chantier_choices(interaction, current)

    # --- members -----------------------------------------------------------------------------

    @app_commands.command(name="ateliers", description=DESCRIPTIONS["ateliers"])
    @app_commands.describe(**option_descriptions("ateliers"))
    @app_commands.guild_only()
    async def ateliers(self, interaction: discord.Interaction, chantier: str | None = None) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id or 0
        chantier_id = (await self._chantier(guild_id, chantier)).id if chantier else None
        upcoming = await self.bot.services.ateliers.upcoming(
            guild_id, chantier_id=chantier_id, limit=LISTED_MAX
        )
        if not upcoming:
            await reply(interaction, tr._("Aucun atelier à venir."))
            return
        mine = await self.bot.services.inscriptions.statuses(
            guild_id, interaction.user.id, [info.id for info in upcoming]
        )
        embed = discord.Embed(title=tr._("Prochains ateliers"))
        for info in upcoming:
            lines = [compact_line(tr, s) for s in info.seances[:5]]
            if len(info.seances) > 5:
                lines.append(tr.n_("… et {n} autre", "… et {n} autres", len(info.seances) - 5))
            lines.append(counts_lines(tr, info.counts)[0])
            lines.append(short_status(tr, *mine.get(info.id, (None, None))))
            if url := jump_url(info):
                lines.append(url)
            name = tr._("{titre} (n° {id})", titre=info.titre, id=info.id)
            embed.add_field(name=name[:256], value="\n".join(lines)[:1024], inline=False)
        embed.set_footer(text=tr._("Répondez avec les boutons de l'annonce ou avec /rsvp."))
        await reply(interaction, embed=embed)

    @ateliers.autocomplete("chantier")
    async def _ateliers_chantier(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await chantier_choices(interaction, current)
