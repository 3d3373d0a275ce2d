"""The domain's enumerations, shared by models and services."""

from __future__ import annotations

import enum


class Genre(enum.StrEnum):
    ATELIER = "atelier"
    REFERENTIEL = "referentiel"
    FORMATION = "formation"
    ECHANGE = "echange"
    SYNTHESE = "synthese"


class EtatAtelier(enum.StrEnum):
    PLANIFIE = "planifie"
    ANNULE = "annule"


class Reponse(enum.StrEnum):
    """What a member answers."""

    OUI = "oui"
    PEUT_ETRE = "peut-etre"
    NON = "non"


class EtatInscription(enum.StrEnum):
    """Where a member stands for a whole atelier."""

    INSCRIT = "oui"
    ATTENTE = "attente"
    PEUT_ETRE = "peut-etre"
    NON = "non"


class RappelKind(enum.StrEnum):
    RAPPEL = "rappel"  # before a séance, at a configured offset
    DEBUT = "debut"  # "ça commence", at the start of a séance
    SUIVI = "suivi"  # the follow-up after an atelier's last séance


class RappelStatus(enum.StrEnum):
    PLANNED = "planned"
    CLAIMED = "claimed"
    SENT = "sent"
    MISSED = "missed"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting (first time, or for a retry)
    SENDING = "sending"  # claimed by the holder of its rappel, in flight
    SENT = "sent"
    FAILED = "failed"
