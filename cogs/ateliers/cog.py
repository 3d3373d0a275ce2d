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

from bot.choices import (
    GENRES,
    PORTEES,
    REPETITIONS,
    atelier_choices,
    chantier_choices,
    parse_atelier_id,
)
from bot.cohosts import staff_or_cohost
from bot.command_text import p_
from bot.dates import SeanceSpec, parse_day, parse_seances
from bot.errors import N_, Conflict, InvalidInput, NotFound
from bot.interactions import (
    STAFF_DEFAULT_PERMISSIONS,
    commit_then_defer,
    is_staff,
    reply,
    staff_only,
    tr_of,
)
from cogs.ateliers import confirm, series
from cogs.ateliers.delivery import AtelierDelivery
from cogs.ateliers.export import participants_csv, participants_xlsx
from cogs.ateliers.info import SeanceInfo
from cogs.ateliers.planning import CLEAR_WORDS, PlanningSteps
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


class AteliersCog(PlanningSteps, commands.Cog):
    atelier = app_commands.Group(
        name=p_("command-name", "atelier"),
        description=p_("command-description", "Gérer les ateliers (équipe d'animation)"),
        guild_only=True,
        default_permissions=STAFF_DEFAULT_PERMISSIONS,
    )

    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.delivery = AtelierDelivery(bot)

    async def cog_load(self) -> None:
        self.delivery.register()

    async def _announced(
        self, atelier_id: int, previous: int | None = None, channel_id: int | None = None
    ) -> bool:
        """Whether the announcement (in ``channel_id``: the one in that channel) got posted
        within ``ANNOUNCED_WAIT`` seconds (the outbox delivers it right after the commit; a
        slow or failing Discord only delays it)."""
        deadline = self.bot.clock.monotonic() + ANNOUNCED_WAIT
        while True:
            if channel_id is not None:
                posted = await self.bot.services.ateliers.announcement_in(atelier_id, channel_id)
            else:
                posted = (await self.bot.services.ateliers.get(atelier_id)).announcement_message_id
            if posted not in (None, previous):
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

    @atelier.command(
        name=p_("command-name", "creer"),
        description=p_("command-description", "Créer un atelier et publier son annonce"),
    )
    @app_commands.describe(
        titre=p_("option-description", "Le titre de l'atelier"),
        chantier=p_("option-description", "Le chantier de l'atelier"),
        dates=p_(
            "option-description",
            "Les séances séparées par des points-virgules, par exemple 3 décembre 2026 13 h 30",
        ),
        duree=p_("option-description", "La durée de chaque séance, en minutes (90 par défaut)"),
        lieu=p_("option-description", "Le lieu (visioconférence par défaut)"),
        lien=p_("option-description", "Le lien de la réunion, montré aux inscrits seulement"),
        capacite=p_("option-description", "Le nombre de places"),
        genre=p_("option-description", "Le genre d'atelier (atelier par défaut)"),
        description=p_("option-description", "La description de l'atelier"),
        repetition=p_(
            "option-description", "Répéter l'atelier (une série), jusqu'à la date jusqu-au"
        ),
        jusqu_au=p_(
            "option-description",
            "La date de la dernière séance de la série, par exemple 2027-06-15",
        ),
        cloture=p_(
            "option-description",
            "Les réponses ferment ce délai avant la première séance (2d, 12h) ou à cette date",
        ),
        publier_le=p_(
            "option-description", "Publier l'annonce à cette date et heure plutôt que tout de suite"
        ),
    )
    @app_commands.rename(jusqu_au="jusqu-au", publier_le="publier-le")
    @app_commands.choices(genre=GENRES, repetition=REPETITIONS)
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
        repetition: str | None = None,
        jusqu_au: str | None = None,
        cloture: str | None = None,
        publier_le: str | None = None,
    ) -> None:
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
        drafts = [draft]
        if repetition is not None or jusqu_au is not None:
            if repetition is None or jusqu_au is None:
                raise InvalidInput(N_("Une série demande les deux options repetition et jusqu-au."))
            fin = parse_day(jusqu_au, zone=self.bot.zone, now=self.bot.clock.now())
            drafts = series.series_drafts(draft, series.Repetition(repetition), fin)
        if cloture is not None or publier_le is not None:
            drafts = [self._timed(d, cloture, publier_le) for d in drafts]
        await self._checked_create(
            interaction, guild_id, drafts, found.channel_id, serie=repetition is not None
        )

    @atelier.command(
        name=p_("command-name", "dupliquer"),
        description=p_(
            "command-description", "Copier un atelier avec de nouvelles dates (sans les réponses)"
        ),
    )
    @app_commands.describe(
        atelier=p_("option-description", "L'atelier à copier"),
        dates=p_("option-description", "Les séances de la copie, séparées par des points-virgules"),
    )
    @staff_only()
    async def dupliquer(self, interaction: discord.Interaction, atelier: str, dates: str) -> None:
        """A copy with new dates: everything but the dates, the answers and the announcement."""
        guild_id = interaction.guild_id or 0
        source = await self.bot.services.ateliers.get(parse_atelier_id(atelier), guild_id=guild_id)
        draft = series.copy_draft(
            source, self._seances(dates, source.duree_minutes), interaction.user.id
        )
        channel_id = await self.delivery.default_channel(source)
        await self._checked_create(interaction, guild_id, [draft], channel_id)

    @atelier.command(
        name=p_("command-name", "modifier"),
        description=p_("command-description", "Modifier un atelier et prévenir les inscrits"),
    )
    @app_commands.describe(
        atelier=p_("option-description", "L'atelier à modifier"),
        titre=p_("option-description", "Le nouveau titre"),
        chantier=p_("option-description", "Le nouveau chantier"),
        dates=p_("option-description", "Les nouvelles séances, séparées par des points-virgules"),
        duree=p_("option-description", "La nouvelle durée de chaque séance, en minutes"),
        lieu=p_("option-description", "Le nouveau lieu"),
        lien=p_("option-description", "Le nouveau lien de la réunion (aucun pour le retirer)"),
        capacite=p_("option-description", "Le nouveau nombre de places (0 pour sans limite)"),
        genre=p_("option-description", "Le nouveau genre d'atelier"),
        description=p_("option-description", "La nouvelle description"),
        cloture=p_(
            "option-description",
            "Le nouveau délai ou la nouvelle date de clôture (aucun pour la retirer)",
        ),
        portee=p_(
            "option-description",
            "Dans une série, cette séance seulement (défaut) ou aussi la suite",
        ),
    )
    @app_commands.choices(genre=GENRES, portee=PORTEES)
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
        portee: str = series.Portee.CETTE_SEANCE.value,
        cloture: str | None = None,
    ) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id or 0
        la_suite = portee == series.Portee.LA_SUITE
        before = await self.bot.services.ateliers.get(parse_atelier_id(atelier), guild_id=guild_id)
        # « lien:aucun » removes the link; « capacite:0 » removes the limit.
        clear_lien = lien is not None and lien.strip().casefold() in CLEAR_WORDS
        clear_capacite = capacite == 0
        lien = None if clear_lien else lien
        capacite = None if clear_capacite else capacite
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
            clear_lien=clear_lien,
            clear_capacite=clear_capacite,
            **self._cloture_change(cloture),
        )
        if seances is not None or changes.chantier_id is not None:
            warnings = await self.bot.services.ateliers.planning_warnings(
                guild_id,
                changes.chantier_id or before.chantier_id,
                seances if seances is not None else _respan(before.seances, before.duree_minutes),
                exclude=[before.id],
            )
            if warnings:
                await confirm.ask(
                    interaction,
                    tr,
                    warnings,
                    lambda i: self._modify(i, guild_id, before.id, changes, la_suite),
                )
                return
        await self._modify(interaction, guild_id, before.id, changes, la_suite)

    @atelier.command(
        name=p_("command-name", "annuler"),
        description=p_("command-description", "Annuler un atelier et prévenir les inscrits"),
    )
    @app_commands.describe(
        atelier=p_("option-description", "L'atelier à annuler"),
        raison=p_("option-description", "La raison, communiquée aux inscrits"),
        portee=p_(
            "option-description",
            "Dans une série, cette séance seulement (défaut) ou aussi la suite",
        ),
    )
    @app_commands.choices(portee=PORTEES)
    @staff_only()
    async def annuler(
        self,
        interaction: discord.Interaction,
        atelier: str,
        raison: str | None = None,
        portee: str = series.Portee.CETTE_SEANCE.value,
    ) -> None:
        tr = tr_of(interaction)
        service = self.bot.services.ateliers
        args = (interaction.guild_id or 0, parse_atelier_id(atelier))
        actor = interaction.user.id
        la_suite = portee == series.Portee.LA_SUITE
        if la_suite:
            results = await commit_then_defer(
                interaction, service.cancel_series(*args, raison=raison, actor_user_id=actor)
            )
        else:
            results = [
                await commit_then_defer(
                    interaction, service.cancel(*args, raison=raison, actor_user_id=actor)
                )
            ]
        told = sum(len(r.notify) for r in results)
        text = tr.n_(
            "Atelier « {titre} » annulé. {n} personne prévenue.",
            "Atelier « {titre} » annulé. {n} personnes prévenues.",
            told,
            titre=results[0].atelier.titre,
        )
        if la_suite:
            text += "\n" + tr.n_(
                "{n} atelier de la série annulé en tout.",
                "{n} ateliers de la série annulés en tout.",
                len(results),
            )
        await reply(interaction, text)

    @atelier.command(
        name=p_("command-name", "participants"),
        description=p_(
            "command-description", "Les réponses et la liste d'attente d'un atelier, en CSV"
        ),
    )
    @app_commands.describe(atelier=p_("option-description", "L'atelier"))
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

    @atelier.command(
        name=p_("command-name", "annoncer"),
        description=p_("command-description", "Publier de nouveau l'annonce d'un atelier"),
    )
    @app_commands.describe(
        atelier=p_("option-description", "L'atelier à annoncer"),
        salon=p_("option-description", "Le salon où publier (celui du chantier par défaut)"),
    )
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
        previous = await self.bot.services.ateliers.announcement_in(info.id, channel_id)
        info = await commit_then_defer(
            interaction, self.bot.services.ateliers.announce(guild_id, info.id, channel_id)
        )
        if await self._announced(info.id, previous, channel_id):
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
    @dupliquer.autocomplete("atelier")
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

    @app_commands.command(
        name=p_("command-name", "ateliers"),
        description=p_(
            "command-description", "Les prochains ateliers, les places restantes et votre réponse"
        ),
    )
    @app_commands.describe(
        chantier=p_("option-description", "Seulement les ateliers de ce chantier")
    )
    @app_commands.guild_only()
    async def ateliers(self, interaction: discord.Interaction, chantier: str | None = None) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id or 0
        chantier_id = (await self._chantier(guild_id, chantier)).id if chantier else None
        upcoming = await self.bot.services.ateliers.upcoming(
            guild_id,
            chantier_id=chantier_id,
            limit=LISTED_MAX,
            published_only=not is_staff(interaction.user, self.bot.settings.discord.staff_role),
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
