"""Every model, so that ``Base.metadata`` is complete once this package is imported."""

from db.models.ateliers import Annonce, Atelier, Inscription, Seance, SeanceReponse
from db.models.base import Base
from db.models.calendrier import CalendrierJeton, SeanceRetiree
from db.models.core import AuditLog, BotState, Chantier, Guild, Membre
from db.models.enums import (
    DeliveryStatus,
    EtatAtelier,
    EtatInscription,
    Genre,
    RappelKind,
    RappelStatus,
    Reponse,
)
from db.models.membres import (
    ConversationProposal,
    JumelagePair,
    JumelagePairMembre,
    JumelageParticipant,
    JumelageRound,
    MembreDepart,
    Profil,
    ProfilChantier,
    ProposalStatus,
    Region,
)
from db.models.outbox import Intake, IntakeStatus, OutboxKind, OutboxMessage, OutboxStatus
from db.models.presences import Coanimateur, Presence
from db.models.questions import (
    AtelierSuivi,
    Document,
    EtatQuestion,
    PersonneRessource,
    Question,
    QuestionMention,
    Relance,
)
from db.models.rappels import Livraison, Rappel

__all__ = [
    "Annonce",
    "Atelier",
    "AtelierSuivi",
    "AuditLog",
    "Base",
    "BotState",
    "CalendrierJeton",
    "Chantier",
    "Coanimateur",
    "ConversationProposal",
    "DeliveryStatus",
    "Document",
    "EtatAtelier",
    "EtatInscription",
    "EtatQuestion",
    "Genre",
    "Guild",
    "Inscription",
    "Intake",
    "IntakeStatus",
    "JumelagePair",
    "JumelagePairMembre",
    "JumelageParticipant",
    "JumelageRound",
    "Livraison",
    "Membre",
    "MembreDepart",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "PersonneRessource",
    "Presence",
    "Profil",
    "ProfilChantier",
    "ProposalStatus",
    "Question",
    "QuestionMention",
    "Rappel",
    "RappelKind",
    "RappelStatus",
    "Region",
    "Relance",
    "Reponse",
    "Seance",
    "SeanceReponse",
    "SeanceRetiree",
]
