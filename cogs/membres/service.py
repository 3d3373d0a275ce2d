"""Member profiles, consent first.

Privacy by design (Québec's Loi 25): no profile field is stored before the member consents to a
stated purpose (``CONSENT_TEXT``, versioned by ``CONSENT_VERSION``); withdrawing consent erases
the profile and everything built on it; the directory (``annuaire.py``) lists only members who
chose to be listed (``visible_annuaire`` is off by default). Names and keywords are normalized in
``noms.py``; queries shared with the jumelage and privacy are in ``queries.py``. No Discord here
(STYLE.md rule 2).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, Forbidden, InvalidInput, NotFound
from cogs.membres.noms import (
    best_spelling,
    clean_text,
    fold,
    municipalite_cle,
    normalize_municipalite,
    parse_region,
    split_keywords,
)
from cogs.membres.queries import (
    chantier_ids_of,
    delete_profile_data,
    lock_membre,
    municipality_spellings,
    profil_of,
)
from db import repositories as repo
from db.models import Chantier, Membre, Profil, ProfilChantier, Region

log = logging.getLogger(__name__)

CONSENT_VERSION = "2026-11"
# TRANSLATORS: shown before a member fills in their profile; keep CONSENT_VERSION in step.
CONSENT_TEXT = N_(
    "Pour l'annuaire des membres, le jumelage entre municipalités et des statistiques "
    "anonymes, Partage conserve les renseignements de profil que vous donnez : municipalité, "
    "région, fonction, chantiers d'intérêt et expertise. Vous choisissez si vous paraissez "
    "dans l'annuaire. Vous pouvez consulter ces renseignements avec /mes-donnees, les "
    "corriger avec /profil modifier et les effacer en tout temps avec /profil supprimer."
)

MUNICIPALITE_MAX = 100
FONCTION_MAX = 100
MOT_CLE_MAX = 40
MOTS_CLES_MAX = 10
CHANTIERS_MAX = 10


class ConsentRequired(Forbidden):
    """The member has not consented yet: the cog shows ``CONSENT_TEXT`` and asks."""


CONSENT_FIRST = N_(
    "Donnez d'abord votre consentement : aucun renseignement de profil n'est conservé sans lui."
)


# --- data returned ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfilInfo:
    membre_id: int
    user_id: int
    municipalite: str | None
    region: Region | None
    fonction: str | None
    chantier_ids: tuple[int, ...]
    expertise: tuple[str, ...]
    visible_annuaire: bool
    consent_at: datetime
    consent_version: str
    updated_at: datetime


@dataclass(frozen=True)
class ProfilChanges:
    """A profile edit: ``None`` leaves a field unchanged; ``""`` (or an empty list) clears it.
    ``region`` takes a ``Region`` or text (``06``, ``Montréal``); ``expertise`` a list or text
    separated by commas."""

    municipalite: str | None = None
    region: Region | str | None = None
    fonction: str | None = None
    chantier_ids: Sequence[int] | None = None
    expertise: Sequence[str] | str | None = None
    visible_annuaire: bool | None = None

    def is_empty(self) -> bool:
        return all(
            getattr(self, name) is None
            for name in (
                "municipalite",
                "region",
                "fonction",
                "chantier_ids",
                "expertise",
                "visible_annuaire",
            )
        )


def _profil_info(membre: Membre, profil: Profil, chantier_ids: Sequence[int]) -> ProfilInfo:
    assert membre.user_id is not None
    return ProfilInfo(
        membre_id=membre.id,
        user_id=membre.user_id,
        municipalite=profil.municipalite,
        region=Region(profil.region) if profil.region else None,
        fonction=profil.fonction,
        chantier_ids=tuple(chantier_ids),
        expertise=tuple(profil.expertise or ()),
        visible_annuaire=profil.visible_annuaire,
        consent_at=profil.consent_at,
        consent_version=profil.consent_version,
        updated_at=profil.updated_at,
    )


# --- profiles -----------------------------------------------------------------------------------


class ProfilService:
    """Consent, the profile, and the municipalities known on a server."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def give_consent(
        self,
        guild_id: int,
        user_id: int,
        *,
        version: str = CONSENT_VERSION,
        display_name: str | None = None,
        locale: str | None = None,
    ) -> ProfilInfo:
        """Record the member's consent (an empty profile, not listed). Consenting again to a
        newer text updates the version and time."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            membre = await repo.upsert_membre(
                session, guild_id, user_id, now, display_name=display_name, locale=locale
            )
            await lock_membre(session, membre.id)
            profil = await profil_of(session, membre.id)
            if profil is None:
                profil = Profil(
                    guild_id=guild_id,
                    membre_id=membre.id,
                    expertise=[],
                    recherche_cle="",
                    visible_annuaire=False,
                    consent_at=now,
                    consent_version=version[:20],
                    created_at=now,
                    updated_at=now,
                )
                session.add(profil)
                log.info("guild %s: membre %s consented (version %s)", guild_id, membre.id, version)
            elif profil.consent_version != version[:20]:
                profil.consent_at, profil.consent_version = now, version[:20]
                profil.updated_at = now
            await session.flush()
            ids = (await chantier_ids_of(session, [profil.id]))[profil.id]
            return _profil_info(membre, profil, ids)

    async def get(self, guild_id: int, user_id: int) -> ProfilInfo | None:
        """The member's profile, None before consent."""
        async with self.sessions() as session:
            membre = await repo.find_membre(session, guild_id, user_id)
            profil = await profil_of(session, membre.id) if membre else None
            if membre is None or profil is None:
                return None
            ids = (await chantier_ids_of(session, [profil.id]))[profil.id]
            return _profil_info(membre, profil, ids)

    async def update(self, guild_id: int, user_id: int, changes: ProfilChanges) -> ProfilInfo:
        """Edit the profile; ``ConsentRequired`` before consent, nothing stored."""
        if changes.is_empty():
            raise InvalidInput(N_("Rien à modifier : donnez au moins une option."))
        fonction = self._fonction(changes.fonction)
        expertise = self._expertise(changes.expertise)
        region = parse_region(changes.region) if changes.region else None
        municipalite = None
        if changes.municipalite:
            municipalite = self._municipalite(changes.municipalite)
        if changes.chantier_ids is not None and len(set(changes.chantier_ids)) > CHANTIERS_MAX:
            raise InvalidInput(
                N_("Au plus {max} chantiers d'intérêt (reçu : {n})."),
                max=CHANTIERS_MAX,
                n=len(set(changes.chantier_ids)),
            )
        now = self.clock.now()
        async with self.sessions.begin() as session:
            membre = await repo.find_membre(session, guild_id, user_id)
            if membre is None:
                raise ConsentRequired(CONSENT_FIRST)
            await lock_membre(session, membre.id)
            profil = await profil_of(session, membre.id)
            if profil is None:
                raise ConsentRequired(CONSENT_FIRST)
            if changes.municipalite is not None:
                if municipalite is None:
                    profil.municipalite = profil.municipalite_cle = None
                else:
                    known = await municipality_spellings(
                        session, guild_id, listed_only=False, exclude_membre_id=membre.id
                    )
                    cle = municipalite_cle(municipalite)
                    spellings = Counter(known.get(cle, Counter()))
                    spellings[municipalite] += 0
                    profil.municipalite = best_spelling(spellings)
                    profil.municipalite_cle = cle
            if changes.region is not None:
                profil.region = region
            if changes.fonction is not None:
                profil.fonction = fonction
            if expertise is not None:
                profil.expertise = expertise
            if changes.visible_annuaire is not None:
                profil.visible_annuaire = changes.visible_annuaire
            if changes.chantier_ids is not None:
                await self._set_chantiers(session, guild_id, profil, changes.chantier_ids)
            profil.recherche_cle = "\n".join(
                fold(t) for t in [profil.fonction or "", *(profil.expertise or [])] if t
            )
            profil.updated_at = now
            await session.flush()
            ids = (await chantier_ids_of(session, [profil.id]))[profil.id]
            info = _profil_info(membre, profil, ids)
        log.info("guild %s: membre %s updated their profile", guild_id, info.membre_id)
        return info

    async def withdraw_consent(self, guild_id: int, user_id: int) -> bool:
        """Withdraw consent: the profile, its chantiers, the jumelage participation and
        history, and the conversation proposals are erased. Atelier inscriptions are kept
        (a full erasure is ``PrivacyService.erase``). Returns whether there was a profile."""
        async with self.sessions.begin() as session:
            membre = await repo.find_membre(session, guild_id, user_id)
            if membre is None:
                return False
            await lock_membre(session, membre.id)
            existed = await delete_profile_data(session, membre.id)
        if existed:
            log.info("guild %s: membre %s withdrew consent; profile erased", guild_id, membre.id)
        return existed

    delete_profile = withdraw_consent

    async def known_municipalities(
        self, guild_id: int, prefix: str = "", *, limit: int = 25
    ) -> list[str]:
        """Municipalities of listed members, for autocomplete: names starting with the prefix
        first, then names with a word starting with it; case and accents ignored."""
        needle = municipalite_cle(prefix) if prefix.strip() else ""
        async with self.sessions() as session:
            known = await municipality_spellings(session, guild_id, listed_only=True)
        starts, words = [], []
        for cle, spellings in known.items():
            if cle.startswith(needle):
                starts.append((cle, best_spelling(spellings)))
            elif any(w.startswith(needle) for w in cle.split(" ")):
                words.append((cle, best_spelling(spellings)))
        return [name for _, name in sorted(starts) + sorted(words)][:limit]

    # -- validation --

    @staticmethod
    def _municipalite(text: str) -> str:
        name = normalize_municipalite(text)
        if len(name) > MUNICIPALITE_MAX:
            raise InvalidInput(
                N_("La municipalité dépasse {max} caractères ({n})."),
                max=MUNICIPALITE_MAX,
                n=len(name),
            )
        if not any(c.isalpha() for c in name):
            raise InvalidInput(
                N_("« {municipalite} » n'est pas un nom de municipalité."), municipalite=name[:60]
            )
        return name

    @staticmethod
    def _fonction(text: str | None) -> str | None:
        if text is None:
            return None
        fonction = clean_text(text)
        if len(fonction) > FONCTION_MAX:
            raise InvalidInput(
                N_("La fonction dépasse {max} caractères ({n})."), max=FONCTION_MAX, n=len(fonction)
            )
        return fonction or None

    @staticmethod
    def _expertise(value: Sequence[str] | str | None) -> list[str] | None:
        if value is None:
            return None
        words = split_keywords(value)
        if len(words) > MOTS_CLES_MAX:
            raise InvalidInput(
                N_("Au plus {max} mots-clés d'expertise (reçu : {n})."),
                max=MOTS_CLES_MAX,
                n=len(words),
            )
        for word in words:
            if len(word) > MOT_CLE_MAX:
                raise InvalidInput(
                    N_("Le mot-clé « {mot} » dépasse {max} caractères."),
                    mot=word[:MOT_CLE_MAX] + "…",
                    max=MOT_CLE_MAX,
                )
        return words

    @staticmethod
    async def _set_chantiers(
        session: AsyncSession, guild_id: int, profil: Profil, chantier_ids: Sequence[int]
    ) -> None:
        wanted = sorted(set(chantier_ids))
        if wanted:
            found = set(
                (
                    await session.execute(
                        select(Chantier.id).where(
                            Chantier.id.in_(wanted),
                            Chantier.guild_id == guild_id,
                            Chantier.archived.is_(False),
                        )
                    )
                ).scalars()
            )
            if set(wanted) - found:
                raise NotFound(N_("Chantier introuvable."))
        await session.execute(delete(ProfilChantier).where(ProfilChantier.profil_id == profil.id))
        for chantier_id in wanted:
            session.add(ProfilChantier(profil_id=profil.id, chantier_id=chantier_id))
