"""The composition root: every service is built here, once, from the settings, the session
factory and the clock; the bot and the command line receive what it built (STYLE.md)."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Settings
from cogs.ateliers.service import AtelierService
from cogs.attestations.service import AttestationService
from cogs.calendrier.service import CalendrierService
from cogs.chantiers.service import ChantierService
from cogs.gestion.service import GestionService
from cogs.inscriptions.offres import OffreService
from cogs.inscriptions.service import InscriptionService
from cogs.jumelage.service import JumelageService
from cogs.membres.annuaire import AnnuaireService
from cogs.membres.service import ProfilService
from cogs.presences.service import PresenceService
from cogs.privacy.service import PrivacyService
from cogs.programme.service import ImportService
from cogs.questions.bibliotheque import BibliothequeService
from cogs.questions.service import QuestionService
from cogs.questions.suivi import SuiviService
from cogs.reminders.service import RappelService
from cogs.statistiques.service import StatsService
from db.session import Sessions

#: Loaded in this order by the bot; a broken extension stops start-up.
EXTENSIONS: tuple[str, ...] = (
    "cogs.aide",
    "cogs.chantiers",
    "cogs.ateliers",
    "cogs.presences",
    "cogs.attestations",
    "cogs.gestion",
    "cogs.inscriptions",
    "cogs.programme",
    "cogs.reminders",
    "cogs.membres",
    "cogs.jumelage",
    "cogs.privacy",
    "cogs.statistiques",
    "cogs.calendrier",
    "cogs.questions",
)


def worker_name() -> str:
    """This process's name in ``claimed_by`` columns: host, pid and a random tag (two bots in one
    process, or a restarted one with the same pid, are different workers)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Services:
    """Every feature's service, built once. Cogs reach them as ``bot.services.<name>``."""

    worker: str
    chantiers: ChantierService
    ateliers: AtelierService
    inscriptions: InscriptionService
    rappels: RappelService
    profils: ProfilService
    annuaire: AnnuaireService
    jumelage: JumelageService
    privacy: PrivacyService
    imports: ImportService
    stats: StatsService
    calendrier: CalendrierService
    presences: PresenceService
    attestations: AttestationService
    gestion: GestionService
    offres: OffreService
    # Between the ateliers (issue 13)
    questions: QuestionService
    bibliotheque: BibliothequeService
    suivi: SuiviService


def build_services(
    settings: Settings, sessions: Sessions, clock: Clock, *, worker: str | None = None
) -> Services:
    worker = worker or worker_name()
    chantiers = ChantierService(sessions, clock)
    rappels = RappelService(
        sessions,
        clock,
        settings.reminders.offsets,
        worker=worker,
        max_attempts=settings.reminders.dm_retry_attempts,
    )
    offer_hours = settings.ateliers.offer_hours
    ateliers = AtelierService(sessions, clock, rappels, offer_hours=offer_hours)
    return Services(
        worker=worker,
        chantiers=chantiers,
        ateliers=ateliers,
        inscriptions=InscriptionService(sessions, clock, offer_hours=offer_hours),
        rappels=rappels,
        profils=ProfilService(sessions, clock),
        annuaire=AnnuaireService(sessions, clock),
        jumelage=JumelageService(sessions, clock, settings.jumelage),
        privacy=PrivacyService(sessions, clock, settings.privacy, offer_hours=offer_hours),
        imports=ImportService(
            sessions,
            clock,
            ateliers,
            chantiers,
            horizon_years=settings.time.horizon_years,
            annonces_salon=settings.ateliers.annonces_salon,
        ),
        stats=StatsService(sessions, clock),
        calendrier=CalendrierService(sessions, clock, guild_id=settings.discord.guild_id),
        presences=PresenceService(sessions, clock),
        attestations=AttestationService(sessions, clock),
        gestion=GestionService(sessions, clock, offer_hours=offer_hours),
        offres=OffreService(sessions, clock, offer_hours),
        questions=QuestionService(sessions, clock, settings.questions),
        bibliotheque=BibliothequeService(sessions, clock),
        suivi=SuiviService(sessions, clock),
    )
