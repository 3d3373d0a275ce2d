"""Series and copies of ateliers. No Discord here.

* ``occurrences``: the séances of a series, computed with ``dateutil.rrule`` on wall-clock
  time in the séance's zone, so that 13 h 30 stays 13 h 30 across a change of daylight time;
  ``mensuelle`` keeps the weekday's rank in the month (the 2nd Tuesday).
* ``copy_draft``: ``/atelier dupliquer``, everything but the dates, the answers and the
  announcement.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday

from bot.dates import SeanceSpec, localize
from bot.errors import N_, InvalidInput
from cogs.ateliers.info import AtelierInfo
from cogs.ateliers.service import AtelierDraft

#: At most this many ateliers in one series (a year of weekly ateliers).
SERIE_MAX = 53


class Repetition(enum.StrEnum):
    HEBDOMADAIRE = "hebdomadaire"
    AUX_DEUX_SEMAINES = "aux-deux-semaines"
    MENSUELLE = "mensuelle"


class Portee(enum.StrEnum):
    """What a change or a cancellation of one atelier of a series applies to."""

    CETTE_SEANCE = "cette-seance"
    LA_SUITE = "la-suite"


def _rule(repetition: Repetition, first: datetime, until: datetime) -> rrule:
    if repetition == Repetition.MENSUELLE:
        rank = (first.day - 1) // 7 + 1  # the 2nd Tuesday: rank 2
        return rrule(MONTHLY, dtstart=first, until=until, byweekday=weekday(first.weekday(), rank))
    interval = 2 if repetition == Repetition.AUX_DEUX_SEMAINES else 1
    return rrule(WEEKLY, dtstart=first, until=until, interval=interval)


def occurrences(first: SeanceSpec, repetition: Repetition, jusqu_au: date) -> list[SeanceSpec]:
    """The séance of each atelier of the series, from ``first`` to ``jusqu_au`` included, at
    the same wall-clock time in the same zone."""
    if first.local_time is None:
        raise InvalidInput(N_("Une série demande une heure de séance (par exemple 13 h 30)."))
    if jusqu_au < first.local_date:
        raise InvalidInput(
            N_("La date de fin de la série ({fin}) précède sa première séance."),
            fin=jusqu_au.isoformat(),
        )
    duration = first.ends_at - first.starts_at if first.ends_at is not None else None
    start = datetime.combine(first.local_date, first.local_time)  # wall clock, no zone
    until = datetime.combine(jusqu_au, time.max)
    out: list[SeanceSpec] = []
    for local in _rule(repetition, start, until):
        if len(out) == SERIE_MAX:
            raise InvalidInput(
                N_(
                    "Une série compte au plus {max} ateliers : choisissez une date de fin "
                    "plus proche."
                ),
                max=SERIE_MAX,
            )
        starts = localize(local.date(), local.time(), first.zone)
        out.append(
            SeanceSpec(
                local.date(),
                local.time(),
                first.zone,
                starts,
                starts + duration if duration is not None else None,
            )
        )
    return out


def series_drafts(
    draft: AtelierDraft, repetition: Repetition, jusqu_au: date
) -> list[AtelierDraft]:
    """One draft per occurrence: the same atelier, each with its own séance."""
    if len(draft.seances) != 1:
        raise InvalidInput(
            N_("Une série part d'une seule séance : donnez une seule date avec repetition.")
        )
    return [
        replace(draft, seances=[s]) for s in occurrences(draft.seances[0], repetition, jusqu_au)
    ]


def copy_draft(
    info: AtelierInfo, seances: Sequence[SeanceSpec], organizer_user_id: int | None
) -> AtelierDraft:
    """``/atelier dupliquer``: the atelier's title, chantier, genre, place, link, capacity,
    duration and description, with new séances; no answers, no announcement, no series."""
    duree = info.duree_minutes
    spans = {s.ends_at - s.starts_at for s in seances if s.ends_at is not None}
    if len(spans) == 1:
        duree = int(spans.pop() / timedelta(minutes=1))
    return AtelierDraft(
        titre=info.titre,
        seances=seances,
        chantier_id=info.chantier_id,
        duree_minutes=duree,
        lieu=info.lieu,
        lien=info.lien,
        capacite=info.capacite,
        genre=info.genre,
        description=info.description,
        organizer_user_id=organizer_user_id,
    )
