"""The staff's planning steps behind ``/atelier creer``, ``dupliquer`` and ``modifier`` (the
commands themselves are in ``cog.py``): holidays and overlaps asked first (``confirm.py``), then
the save through the outbox and the answer; series, closing and publication times read from the
options. A mixin of ``AteliersCog``."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from bot.i18n import discord_timestamp
from bot.interactions import commit_then_defer, reply, tr_of
from cogs.ateliers import closing, confirm
from cogs.ateliers.service import AtelierChanges, AtelierDraft

if TYPE_CHECKING:
    from bot.core import PartageBot

log = logging.getLogger(__name__)

#: ``/atelier modifier lien:aucun`` removes the meeting link (and ``cloture:aucun`` the closing).
CLEAR_WORDS = ("aucun", "none")


class PlanningSteps:
    bot: PartageBot

    async def _announced(
        self, atelier_id: int, previous: int | None = None, channel_id: int | None = None
    ) -> bool:
        raise NotImplementedError  # AteliersCog's

    def _timed(
        self, draft: AtelierDraft, cloture: str | None, publier_le: str | None
    ) -> AtelierDraft:
        """The draft with its closing and publication times (``closing``)."""
        when = {"zone": self.bot.zone, "now": self.bot.clock.now()}
        horizon = self.bot.settings.time.horizon_years
        first = min(draft.seances, key=lambda s: s.starts_at)
        return replace(
            draft,
            cloture=closing.cloture_at(cloture, first, horizon_years=horizon, **when)
            if cloture
            else None,
            publie_le=closing.publication_at(
                publier_le, draft.seances, horizon_years=horizon, **when
            )
            if publier_le
            else None,
        )

    async def _checked_create(
        self,
        interaction: discord.Interaction,
        guild_id: int,
        drafts: list[AtelierDraft],
        channel_id: int | None,
        *,
        serie: bool = False,
    ) -> None:
        """Holidays and overlaps first: with any, staff confirm before anything is saved."""
        warnings = await self.bot.services.ateliers.planning_warnings(
            guild_id, drafts[0].chantier_id, [s for d in drafts for s in d.seances]
        )

        async def save(i: discord.Interaction) -> None:
            await self._create(i, guild_id, drafts, channel_id, serie=serie)

        if warnings:
            await confirm.ask(interaction, tr_of(interaction), warnings, save)
            return
        await save(interaction)

    async def _create(
        self,
        interaction: discord.Interaction,
        guild_id: int,
        drafts: list[AtelierDraft],
        channel_id: int | None,
        *,
        serie: bool = False,
    ) -> None:
        """Save the atelier(s) (announcements go through the outbox), then say where."""
        tr = tr_of(interaction)
        infos = await commit_then_defer(
            interaction,
            self.bot.services.ateliers.create_many(
                guild_id,
                drafts,
                actor_user_id=interaction.user.id,
                channel_id=channel_id,
                serie=serie,
            ),
        )
        info = infos[0]
        values = {"titre": info.titre, "id": info.id}
        lines = []
        if serie:
            lines.append(
                tr.n_(
                    "Série « {titre} » : {n} atelier, n° {premier} à {dernier}.",
                    "Série « {titre} » : {n} ateliers, n° {premier} à {dernier}.",
                    len(infos),
                    titre=info.titre,
                    premier=info.id,
                    dernier=infos[-1].id,
                )
            )
        if channel_id is None:
            text = tr._(
                "Atelier « {titre} » créé (n° {id}). Son chantier n'a pas de salon : "
                "publiez l'annonce avec /atelier annoncer et l'option salon.",
                **values,
            )
        elif info.publie_le is not None:
            text = tr._(
                "Atelier « {titre} » créé (n° {id}) : son annonce sera publiée dans {salon} "
                "le {date}. D'ici là, seule l'équipe d'animation le voit.",
                salon=f"<#{channel_id}>",
                date=discord_timestamp(info.publie_le, "F"),
                **values,
            )
        elif await self._announced(info.id):
            text = tr._(
                "Atelier « {titre} » créé (n° {id}) : annonce publiée dans {salon}.",
                salon=f"<#{channel_id}>",
                **values,
            )
        else:
            log.warning("atelier %s: announcement not posted yet", info.id)
            text = tr._(
                "Atelier « {titre} » créé (n° {id}). Discord n'a pas encore accepté son "
                "annonce dans {salon} : elle sera publiée dès que possible (sinon, "
                "/atelier annoncer).",
                salon=f"<#{channel_id}>",
                **values,
            )
        lines.append(text)
        await reply(interaction, "\n".join(lines))

    def _cloture_change(self, cloture: str | None) -> dict[str, Any]:
        """``cloture`` of ``/atelier modifier``: « aucun » removes it; a delay counts from each
        atelier's first séance (as it will be after the change)."""
        if cloture is None:
            return {}
        if cloture.strip().casefold() in CLEAR_WORDS:
            return {"clear_cloture": True}
        delay = closing.cloture_delay(cloture)
        if delay is not None:
            return {"cloture_delay": delay}
        return {
            "cloture": closing.cloture_at(
                cloture,
                None,
                zone=self.bot.zone,
                now=self.bot.clock.now(),
                horizon_years=self.bot.settings.time.horizon_years,
            )
        }

    async def _modify(
        self,
        interaction: discord.Interaction,
        guild_id: int,
        atelier_id: int,
        changes: AtelierChanges,
        la_suite: bool = False,
    ) -> None:
        tr = tr_of(interaction)
        service = self.bot.services.ateliers
        actor = interaction.user.id
        if la_suite:
            results = await commit_then_defer(
                interaction,
                service.modify_series(guild_id, atelier_id, changes, actor_user_id=actor),
            )
        else:
            results = [
                await commit_then_defer(
                    interaction,
                    service.modify(guild_id, atelier_id, changes, actor_user_id=actor),
                )
            ]
        told = sum(len(r.notify) for r in results)  # the promoted among them too
        text = tr.n_(
            "Atelier « {titre} » modifié. {n} personne prévenue.",
            "Atelier « {titre} » modifié. {n} personnes prévenues.",
            told,
            titre=results[0].atelier.titre,
        )
        if la_suite:
            text += "\n" + tr.n_(
                "{n} atelier de la série modifié en tout.",
                "{n} ateliers de la série modifiés en tout.",
                len(results),
            )
        await reply(interaction, text)
