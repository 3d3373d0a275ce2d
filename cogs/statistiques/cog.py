"""/statistiques (staff only): members, ateliers and inscriptions by region and municipality
over a period, aggregated without names, with the chart as a PNG."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.command_text import CHOICES, p_
from bot.dates import parse_day
from bot.i18n import Translations
from bot.interactions import STAFF_DEFAULT_PERMISSIONS, reply, staff_only, tr_of
from cogs.questions.suivi import PollResult
from cogs.statistiques.cells import SMALL, SMALL_TEXT, masked
from cogs.statistiques.chart import TOP_MUNICIPALITES, ChartLabels, chart_png
from cogs.statistiques.service import Stats
from db.models import Region

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

EMBED_COLOUR = discord.Colour.from_rgb(0, 98, 155)
CHART_FILE = "partage-statistiques.png"
WORKBOOK_FILE = "partage-statistiques.xlsx"
FICHIERS = [app_commands.Choice(name=name, value=name) for name in CHOICES["fichier"]]
K = TypeVar("K")


def period_text(tr: Translations, debut: date | None, fin: date | None) -> str:
    if debut and fin:
        return tr._(
            "Du {debut} au {fin}",
            debut=tr.format_date(debut, "long"),
            fin=tr.format_date(fin, "long"),
        )
    if debut:
        return tr._("Depuis le {debut}", debut=tr.format_date(debut, "long"))
    if fin:
        return tr._("Jusqu'au {fin}", fin=tr.format_date(fin, "long"))
    return tr._("Depuis le début")


def breakdown(
    tr: Translations,
    rows: Sequence[tuple[K | None, int]],
    name: Mapping[K | None, str],
    other: str,
    top: int,
) -> str:
    """``Montréal : 4`` lines, the largest first, the rest summed, "non précisé" last."""
    known = [(k, n) for k, n in rows if k is not None]
    unknown = sum(n for k, n in rows if k is None)

    def line(label: str, n: int) -> str:
        shown = SMALL_TEXT if masked(n) else tr.format_number(n)
        return tr._("{nom} : {n}", nom=label, n=shown)

    lines = [line(name.get(k, str(k)), n) for k, n in known[:top]]
    rest = sum(n for _, n in known[top:])
    if rest:
        lines.append(line(other, rest))
    if unknown:
        lines.append(line(name[None], unknown))
    return "\n".join(lines)[:1024] or "—"


def stats_embed(tr: Translations, stats: Stats, labels: ChartLabels) -> discord.Embed:
    embed = discord.Embed(
        title=labels.titre,
        description=period_text(tr, stats.debut, stats.fin),
        colour=EMBED_COLOUR,
    )
    embed.add_field(
        name=labels.membres,
        value=tr.n_(
            "{n} membre, dont {profils} avec un profil",
            "{n} membres, dont {profils} avec un profil",
            stats.membres,
            profils=stats.membres_avec_profil,
        ),
    )
    embed.add_field(
        name=tr._("Ateliers"),
        value=", ".join(
            (
                tr.n_("{n} atelier tenu", "{n} ateliers tenus", stats.ateliers_tenus),
                tr.n_("{n} séance", "{n} séances", stats.seances_tenues),
            )
        ),
    )
    embed.add_field(
        name=labels.inscriptions,
        value=", ".join(
            (
                tr.n_("{n} inscription", "{n} inscriptions", stats.inscriptions),
                tr.n_("{n} personne différente", "{n} personnes différentes", stats.participants),
            )
        ),
    )
    embed.add_field(name=tr._("Présences"), value=attendance_text(tr, stats))
    regions: dict[Region | None, str] = {r: r.nom for r in Region}
    regions[None] = labels.non_precise
    towns: dict[str | None, str] = {None: labels.non_precise}
    sections = (
        (tr._("Membres par région"), stats.membres_par_region, regions),
        (tr._("Inscriptions par région"), stats.inscriptions_par_region, regions),
        (tr._("Membres par municipalité"), stats.membres_par_municipalite, towns),
        (tr._("Inscriptions par municipalité"), stats.inscriptions_par_municipalite, towns),
        (tr._("Présences par région"), stats.presences_par_region, regions),
    )
    for title, rows, names in sections:
        embed.add_field(
            name=title,
            value=breakdown(tr, rows, names, labels.autres, TOP_MUNICIPALITES),
            inline=True,
        )
    embed.add_field(name=tr._("Ateliers comptés"), value=counted_text(tr, stats), inline=False)
    embed.set_image(url=f"attachment://{CHART_FILE}")
    embed.set_footer(
        text=tr._(
            "Chiffres agrégés : une case de moins de {n} membres est montrée « < {n} ». Seuls "
            "les ateliers tenus (non annulés, une séance commencée dans la période) sont "
            "comptés. Les membres sans profil sont comptés comme « non précisé ».",
            n=SMALL,
        )
    )
    return embed


def attendance_text(tr: Translations, stats: Stats) -> str:
    rate = stats.taux_presence
    lines = [
        tr.n_("{n} présence notée", "{n} présences notées", stats.presences),
        tr._(
            "Taux de présence : {taux}",
            taux="—" if rate is None else tr.format_percent(rate),
        ),
        tr.n_(
            "{n} venue sans inscription",
            "{n} venues sans inscription",
            stats.presences_sans_inscription,
        ),
    ]
    return "\n".join(lines)


def counted_text(tr: Translations, stats: Stats) -> str:
    """The ateliers held in the period, which the figures count."""
    if not stats.ateliers:
        return tr._("Aucun atelier tenu dans la période.")
    lines = [
        tr._(
            "{titre} ({date})",
            titre=a.titre,
            date=tr.format_date(a.premiere, "medium"),
        )
        for a in stats.ateliers
    ]
    text = ""
    for n, line in enumerate(lines):
        more = tr.n_("… et {n} autre", "… et {n} autres", len(lines) - n)
        if len(text) + len(line) + len(more) + 2 > 1024:
            return text + more
        text += ("\n" if text else "") + line
    return text


def poll_lines(tr: Translations, polls: Sequence[PollResult]) -> str:
    """One line per atelier: its title and the votes for each answer (« en cours » until the
    poll closes)."""
    lines = []
    for poll in polls[-10:]:
        votes = " · ".join(
            tr._("{reponse} : {n}", reponse=tr._(answer), n=tr.format_number(n))
            for answer, n in poll.counts.items()
        )
        state = "" if poll.final else " " + tr._("(en cours)")
        lines.append(f"**{poll.titre[:80]}**{state} — {votes or '—'}")
    return "\n".join(lines)[:1024]


class StatistiquesCog(commands.Cog):
    def __init__(self, bot: PartageBot) -> None:
        self.bot = bot
        self.service = bot.services.stats

    @app_commands.command(
        name=p_("command-name", "statistiques"),
        description=p_(
            "command-description",
            "Membres et inscriptions par région et municipalité, avec un graphique",
        ),
    )
    @app_commands.describe(
        debut=p_("option-description", "À partir de cette date, par exemple 2026-09-01"),
        fin=p_("option-description", "Jusqu'à cette date, par exemple 2026-12-31"),
        fichier=p_(
            "option-description", "png (le graphique, par défaut) ou xlsx (aussi un classeur)"
        ),
    )
    @app_commands.choices(fichier=FICHIERS)
    @app_commands.guild_only()
    @app_commands.default_permissions(STAFF_DEFAULT_PERMISSIONS)
    @staff_only()
    async def statistiques(
        self,
        interaction: discord.Interaction,
        debut: app_commands.Range[str, 1, 60] | None = None,
        fin: app_commands.Range[str, 1, 60] | None = None,
        fichier: str = "png",
    ) -> None:
        tr = tr_of(interaction)
        guild_id = interaction.guild_id
        if guild_id is None:
            raise app_commands.NoPrivateMessage()
        now = self.bot.clock.now()
        start = parse_day(debut, zone=self.bot.zone, now=now) if debut else None
        end = parse_day(fin, zone=self.bot.zone, now=now) if fin else None
        await interaction.response.defer(ephemeral=True, thinking=True)
        stats = await self.service.participation(guild_id, start, end)
        labels = ChartLabels().translated(tr._)
        subtitle = " · ".join(
            (
                period_text(tr, start, end),
                tr.n_("{n} membre", "{n} membres", stats.membres),
                tr.n_("{n} inscription", "{n} inscriptions", stats.inscriptions),
            )
        )
        png = await asyncio.to_thread(chart_png, stats, replace(labels, sous_titre=subtitle))
        log.info(
            "guild %s: user %s got the statistics %s..%s (%d bytes of chart)",
            guild_id,
            interaction.user.id,
            start,
            end,
            len(png),
        )
        files = [discord.File(io.BytesIO(png), filename=CHART_FILE)]
        if fichier == "xlsx":
            # openpyxl is imported on first use (not at every start of the bot).
            from cogs.statistiques.workbook import stats_xlsx

            book = await asyncio.to_thread(
                stats_xlsx, tr, stats, labels, period_text(tr, start, end)
            )
            files.append(discord.File(io.BytesIO(book), filename=WORKBOOK_FILE))
        embed = stats_embed(tr, stats, labels)
        # Between the ateliers: the follow-up polls' counts, as the questions feature read them.
        polls = await self.bot.services.suivi.results(guild_id)
        if polls:
            embed.add_field(
                name=tr._("Sondages après les ateliers"), value=poll_lines(tr, polls), inline=False
            )
        await reply(interaction, embed=embed, files=files)
