"""Member profiles (consent first), the directory and its conversation proposals.

Privacy by design (Québec's Loi 25): no profile field is stored before the member consents to a
stated purpose (``CONSENT_TEXT``, versioned by ``CONSENT_VERSION``); withdrawing consent erases
the profile and everything built on it; the directory lists only members who chose to be listed
(``visible_annuaire`` is off by default). No Discord here (STYLE.md rule 2).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from db import repositories as repo
from db.models import (
    Chantier,
    ConversationProposal,
    JumelagePairMembre,
    JumelageParticipant,
    Membre,
    MembreDepart,
    Profil,
    ProfilChantier,
    ProposalStatus,
    Region,
)
from db.models.membres import REGION_NOMS

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
PER_PAGE_MAX = 25
PENDING_PROPOSALS_MAX = 5
DECLINE_COOLDOWN = timedelta(days=90)


class ConsentRequired(Forbidden):
    """The member has not consented yet: the cog shows ``CONSENT_TEXT`` and asks."""


# --- text ---------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "–": "-", "—": "-"})
# Particles stay lowercase inside a place name (Commission de toponymie du Québec).
_PARTICLES = frozenset(
    {"de", "du", "des", "la", "le", "les", "l", "d", "sur", "sous", "en", "à", "aux", "et", "lès"}
)
_ABBREVIATIONS = {"st": "Saint", "ste": "Sainte", "sts": "Saints", "stes": "Saintes"}


def clean_text(text: str) -> str:
    """NFC, no control characters, whitespace collapsed, trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching: ``Saint-Jérôme`` → ``saint-jerome``."""
    decomposed = unicodedata.normalize("NFKD", clean_text(text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _capitalize(word: str, *, first: bool) -> str:
    """One word of a place name: particles lowercase unless first; an elided particle keeps
    its apostrophe (``l'Île``, ``d'Or``); words typed in mixed case (``McMasterville``) are
    kept as typed."""
    if "'" in word:
        head, _, rest = word.partition("'")
        head_out = _capitalize(head, first=first) if head else ""
        return f"{head_out}'{_capitalize(rest, first=False)}" if rest else f"{head_out}'"
    lower = word.lower()
    if lower in _ABBREVIATIONS:
        return _ABBREVIATIONS[lower]
    if not first and lower in _PARTICLES:
        return lower
    if word not in (lower, word.upper()):
        return word[0].upper() + word[1:]
    return lower[:1].upper() + lower[1:]


def normalize_municipalite(text: str) -> str:
    """Trim, collapse spaces, unify apostrophes and hyphens, expand ``St``/``Ste`` and
    capitalize as Québec's toponymy does: ``  saint-jean-SUR-richelieu`` →
    ``Saint-Jean-sur-Richelieu``, ``l'assomption`` → ``L'Assomption``, ``val-d'or`` →
    ``Val-d'Or``, ``les îles-de-la-madeleine`` → ``Les Îles-de-la-Madeleine``."""
    text = clean_text(text.translate(_APOSTROPHES))
    text = re.sub(r"\s*-\s*", "-", text)
    text = re.sub(r"\s*'\s*", "'", text)
    text = re.sub(r"\b(st|ste|sts|stes)\.(?=[\s-])", r"\1", text, flags=re.IGNORECASE)
    parts = re.split(r"([ -])", text)
    out: list[str] = []
    for index, part in enumerate(parts):
        out.append(part if part in (" ", "-", "") else _capitalize(part, first=index == 0))
    return "".join(out)


def municipalite_cle(text: str) -> str:
    """The matching key: ``St-Jérôme``, ``saint jerome`` and ``Saint-Jérôme`` share
    ``saint jerome``."""
    return " ".join(re.split(r"[\s'\-.]+", fold(normalize_municipalite(text)))).strip()[:100]


def _accents(text: str) -> int:
    return sum(1 for c in unicodedata.normalize("NFKD", text) if unicodedata.combining(c))


def best_spelling(spellings: Counter[str]) -> str:
    """Among spellings of one municipality, the most accented (accents are lost, rarely
    added, by hasty typing), then the most common, then the first alphabetically."""
    return min(spellings, key=lambda s: (-_accents(s), -spellings[s], s))


def split_keywords(value: str | Iterable[str]) -> list[str]:
    """Expertise keywords from a list or from text separated by commas, semicolons or lines;
    cleaned, without duplicates (compared without case or accents)."""
    items = re.split(r"[,;\n]", value) if isinstance(value, str) else list(value)
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        word = clean_text(item)
        if word and fold(word) not in seen:
            seen.add(fold(word))
            out.append(word)
    return out


def parse_region(value: Region | str) -> Region:
    """A region from its code (``6``, ``06``) or its name, without case or accents
    (``montreal``, ``Gaspésie-Îles-de-la-Madeleine``)."""
    if isinstance(value, Region):
        return value
    text = clean_text(value)
    if text.isdigit() and 1 <= int(text) <= len(Region):
        return Region(f"{int(text):02d}")
    key = municipalite_cle(text)
    for region, nom in REGION_NOMS.items():
        if municipalite_cle(nom) == key:
            return region
    raise InvalidInput(
        N_("Région inconnue : « {region} ». Donnez son numéro (01 à 17) ou son nom."),
        region=text[:60],
    )


def _like_pattern(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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


@dataclass(frozen=True)
class AnnuaireEntry:
    membre_id: int
    user_id: int
    display_name: str | None
    municipalite: str | None
    region: Region | None
    fonction: str | None
    chantier_ids: tuple[int, ...]
    expertise: tuple[str, ...]


@dataclass(frozen=True)
class AnnuairePage:
    entries: tuple[AnnuaireEntry, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class ProposalInfo:
    id: int
    guild_id: int
    from_membre_id: int
    to_membre_id: int
    from_user_id: int
    to_user_id: int
    status: ProposalStatus
    created_at: datetime
    answered_at: datetime | None = None
    thread_id: int | None = field(default=None)


# --- shared queries -----------------------------------------------------------------------------


async def lock_membre(session: AsyncSession, membre_id: int) -> None:
    """Serialize use cases on one member (PostgreSQL ``FOR UPDATE``; SQLite's write
    transactions already hold the database lock)."""
    await session.execute(select(Membre.id).where(Membre.id == membre_id).with_for_update())


async def profil_of(session: AsyncSession, membre_id: int) -> Profil | None:
    return (
        await session.execute(select(Profil).where(Profil.membre_id == membre_id))
    ).scalar_one_or_none()


async def chantier_ids_of(session: AsyncSession, profil_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in profil_ids}
    if profil_ids:
        rows = await session.execute(
            select(ProfilChantier.profil_id, ProfilChantier.chantier_id)
            .where(ProfilChantier.profil_id.in_(list(profil_ids)))
            .order_by(ProfilChantier.chantier_id)
        )
        for profil_id, chantier_id in rows:
            out[profil_id].append(chantier_id)
    return out


def listed() -> ColumnElement[bool]:
    """A profile the directory shows: the member chose to be listed, is not erased, and has
    not left the server."""
    return (
        Profil.visible_annuaire.is_(True)
        & Membre.user_id.is_not(None)
        & ~exists().where(MembreDepart.membre_id == Membre.id)
    )


async def delete_profile_data(session: AsyncSession, membre_id: int) -> bool:
    """Erase what exists under the consent: the profile and its chantiers, the jumelage
    participation and history, the conversation proposals. Returns whether a profile existed."""
    deleted = (await session.execute(delete(Profil).where(Profil.membre_id == membre_id))).rowcount
    await session.execute(
        delete(JumelageParticipant).where(JumelageParticipant.membre_id == membre_id)
    )
    await session.execute(
        delete(JumelagePairMembre).where(JumelagePairMembre.membre_id == membre_id)
    )
    await session.execute(
        delete(ConversationProposal).where(
            or_(
                ConversationProposal.from_membre_id == membre_id,
                ConversationProposal.to_membre_id == membre_id,
            )
        )
    )
    return bool(deleted)


async def municipality_spellings(
    session: AsyncSession, guild_id: int, *, listed_only: bool, exclude_membre_id: int | None = None
) -> dict[str, Counter[str]]:
    """Spellings of each municipality key on a server, with how many profiles use each."""
    stmt = (
        select(Profil.municipalite_cle, Profil.municipalite, func.count())
        .join(Membre, Membre.id == Profil.membre_id)
        .where(Profil.guild_id == guild_id, Profil.municipalite_cle.is_not(None))
        .group_by(Profil.municipalite_cle, Profil.municipalite)
    )
    if listed_only:
        stmt = stmt.where(listed())
    if exclude_membre_id is not None:
        stmt = stmt.where(Profil.membre_id != exclude_membre_id)
    out: dict[str, Counter[str]] = {}
    for cle, spelling, n in await session.execute(stmt):
        out.setdefault(cle, Counter())[spelling] += n
    return out


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


CONSENT_FIRST = N_(
    "Donnez d'abord votre consentement : aucun renseignement de profil n'est conservé sans lui."
)


# --- directory and conversation proposals -------------------------------------------------------


class AnnuaireService:
    """The directory of listed members and the conversations proposed through it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def search(
        self,
        guild_id: int,
        *,
        region: Region | str | None = None,
        chantier_id: int | None = None,
        municipalite: str | None = None,
        mot_cle: str | None = None,
        page: int = 0,
        per_page: int = 5,
        exclude_user_id: int | None = None,
    ) -> AnnuairePage:
        """Listed members matching every filter given (municipality and keyword ignore case
        and accents; the keyword is searched in the role and the expertise), by municipality.
        A page past the end gives the last page."""
        per_page = min(max(per_page, 1), PER_PAGE_MAX)
        stmt = (
            select(Profil, Membre)
            .join(Membre, Membre.id == Profil.membre_id)
            .where(Profil.guild_id == guild_id, listed())
        )
        if region:
            stmt = stmt.where(Profil.region == parse_region(region))
        if chantier_id is not None:
            stmt = stmt.where(
                exists().where(
                    ProfilChantier.profil_id == Profil.id,
                    ProfilChantier.chantier_id == chantier_id,
                )
            )
        if municipalite and municipalite.strip():
            stmt = stmt.where(Profil.municipalite_cle == municipalite_cle(municipalite))
        if mot_cle and mot_cle.strip():
            needle = fold(mot_cle)
            if len(needle) > MOT_CLE_MAX:
                raise InvalidInput(
                    N_("Le mot-clé « {mot} » dépasse {max} caractères."),
                    mot=mot_cle[:MOT_CLE_MAX] + "…",
                    max=MOT_CLE_MAX,
                )
            stmt = stmt.where(Profil.recherche_cle.like(_like_pattern(needle), escape="\\"))
        if exclude_user_id is not None:
            stmt = stmt.where(Membre.user_id != exclude_user_id)
        async with self.sessions() as session:
            total = (
                await session.execute(select(func.count()).select_from(stmt.subquery()))
            ).scalar_one()
            last = max(0, -(-total // per_page) - 1)
            page = min(max(page, 0), last)
            rows = (
                await session.execute(
                    stmt.order_by(Profil.municipalite_cle.is_(None), Profil.municipalite_cle)
                    .order_by(Profil.id)
                    .offset(page * per_page)
                    .limit(per_page)
                )
            ).all()
            chantiers = await chantier_ids_of(session, [p.id for p, _ in rows])
        entries = tuple(
            AnnuaireEntry(
                membre_id=m.id,
                user_id=m.user_id,
                display_name=m.display_name,
                municipalite=p.municipalite,
                region=Region(p.region) if p.region else None,
                fonction=p.fonction,
                chantier_ids=tuple(chantiers[p.id]),
                expertise=tuple(p.expertise or ()),
            )
            for p, m in rows
        )
        return AnnuairePage(entries=entries, total=total, page=page, per_page=per_page)

    async def propose(
        self,
        guild_id: int,
        from_user: int,
        to_user: int,
        *,
        display_name: str | None = None,
        locale: str | None = None,
    ) -> ProposalInfo:
        """Propose a conversation to a listed member. Refused to oneself, to someone not
        listed, when one is already pending between the two, within 90 days of a refusal, and
        beyond five pending proposals."""
        if from_user == to_user:
            raise InvalidInput(N_("Vous ne pouvez pas vous proposer une conversation à vous-même."))
        now = self.clock.now()
        async with self.sessions.begin() as session:
            target = (
                await session.execute(
                    select(Membre)
                    .join(Profil, Profil.membre_id == Membre.id)
                    .where(Membre.guild_id == guild_id, Membre.user_id == to_user, listed())
                )
            ).scalar_one_or_none()
            if target is None:
                raise NotFound(N_("Cette personne n'est pas dans l'annuaire."))
            sender = await repo.upsert_membre(
                session, guild_id, from_user, now, display_name=display_name, locale=locale
            )
            for membre_id in sorted((sender.id, target.id)):
                await lock_membre(session, membre_id)
            between = (
                (
                    await session.execute(
                        select(ConversationProposal).where(
                            or_(
                                (ConversationProposal.from_membre_id == sender.id)
                                & (ConversationProposal.to_membre_id == target.id),
                                (ConversationProposal.from_membre_id == target.id)
                                & (ConversationProposal.to_membre_id == sender.id),
                            )
                        )
                    )
                )
                .scalars()
                .all()
            )
            if any(p.status == ProposalStatus.PENDING for p in between):
                raise Conflict(
                    N_("Une proposition de conversation entre vous deux est déjà en attente.")
                )
            if any(
                p.status == ProposalStatus.DECLINED
                and p.from_membre_id == sender.id
                and p.answered_at is not None
                and p.answered_at > now - DECLINE_COOLDOWN
                for p in between
            ):
                raise Conflict(
                    N_(
                        "Cette personne a décliné votre dernière proposition ; vous pourrez en "
                        "refaire une dans quelques mois."
                    )
                )
            pending = (
                await session.execute(
                    select(func.count()).where(
                        ConversationProposal.from_membre_id == sender.id,
                        ConversationProposal.status == ProposalStatus.PENDING,
                    )
                )
            ).scalar_one()
            if pending >= PENDING_PROPOSALS_MAX:
                raise Conflict(
                    N_(
                        "Vous avez déjà {max} propositions en attente : attendez une réponse "
                        "avant d'en faire d'autres."
                    ),
                    max=PENDING_PROPOSALS_MAX,
                )
            proposal = ConversationProposal(
                guild_id=guild_id,
                from_membre_id=sender.id,
                to_membre_id=target.id,
                status=ProposalStatus.PENDING,
                created_at=now,
            )
            session.add(proposal)
            await session.flush()
            info = await self._info(session, proposal)
        log.info(
            "guild %s: proposal %s from membre %s to membre %s",
            guild_id,
            info.id,
            info.from_membre_id,
            info.to_membre_id,
        )
        return info

    async def accept(self, proposal_id: int, by_user: int) -> ProposalInfo:
        """The invited member accepts; the cog then opens a private thread with both."""
        return await self._answer(proposal_id, by_user, ProposalStatus.ACCEPTED)

    async def decline(self, proposal_id: int, by_user: int) -> ProposalInfo:
        return await self._answer(proposal_id, by_user, ProposalStatus.DECLINED)

    async def get_proposal(self, proposal_id: int) -> ProposalInfo:
        async with self.sessions() as session:
            proposal = await session.get(ConversationProposal, proposal_id)
            if proposal is None:
                raise NotFound(N_("Proposition n° {id} introuvable."), id=proposal_id)
            return await self._info(session, proposal)

    async def set_thread(self, proposal_id: int, thread_id: int) -> None:
        """Remember the private thread opened for an accepted proposal."""
        async with self.sessions.begin() as session:
            proposal = await session.get(ConversationProposal, proposal_id)
            if proposal is None:
                raise NotFound(N_("Proposition n° {id} introuvable."), id=proposal_id)
            if proposal.status != ProposalStatus.ACCEPTED:
                raise Conflict(N_("Cette proposition n'a pas été acceptée."))
            proposal.thread_id = thread_id

    async def _answer(self, proposal_id: int, by_user: int, status: ProposalStatus) -> ProposalInfo:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            proposal = (
                await session.execute(
                    select(ConversationProposal)
                    .where(ConversationProposal.id == proposal_id)
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if proposal is None:
                raise NotFound(N_("Proposition n° {id} introuvable."), id=proposal_id)
            invited = await session.get(Membre, proposal.to_membre_id)
            if invited is None or invited.user_id != by_user:
                raise Forbidden(N_("Seule la personne invitée peut répondre à cette proposition."))
            if proposal.status != ProposalStatus.PENDING:
                raise Conflict(N_("Cette proposition a déjà reçu une réponse."))
            proposal.status = status
            proposal.answered_at = now
            await session.flush()
            info = await self._info(session, proposal)
        log.info("proposal %s %s", proposal_id, status.value)
        return info

    @staticmethod
    async def _info(session: AsyncSession, proposal: ConversationProposal) -> ProposalInfo:
        sender = await session.get(Membre, proposal.from_membre_id)
        invited = await session.get(Membre, proposal.to_membre_id)
        if sender is None or invited is None or None in (sender.user_id, invited.user_id):
            raise NotFound(N_("Proposition n° {id} introuvable."), id=proposal.id)
        assert sender.user_id is not None and invited.user_id is not None
        return ProposalInfo(
            id=proposal.id,
            guild_id=proposal.guild_id,
            from_membre_id=sender.id,
            to_membre_id=invited.id,
            from_user_id=sender.user_id,
            to_user_id=invited.user_id,
            status=ProposalStatus(proposal.status),
            created_at=proposal.created_at,
            answered_at=proposal.answered_at,
            thread_id=proposal.thread_id,
        )
