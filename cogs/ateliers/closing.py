"""When answers close (``cloture``) and when an atelier is published (``publier-le``). No
Discord here.

* ``cloture``: a delay before the first séance (``2d``, ``12h``) or a date (a date alone: the
  end of that day). After it, answers are refused with the date in the message, except « non »
  (a member may still say they will not come); a place freed then goes to nobody: no
  promotion after the closing.
* ``publie_le``: the announcement (its thread and Discord events with it) is an outbox row due
  then; before it, members cannot answer and ``/ateliers`` does not list the atelier; staff
  find it in their commands' lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.config.values import match_duration
from bot.dates import SeanceSpec, localize, parse_seances
from bot.errors import N_, Conflict, InvalidInput, UserError
from bot.i18n import discord_timestamp
from cogs.ateliers.info import AtelierInfo
from db.models import Reponse

#: A delay has at most this many units (« 9999h »); longer, the text is read as a date.
DELAY_AMOUNT_MAX = 9999


def _one(text: str, *, zone: str, now: datetime, horizon_years: int) -> SeanceSpec:
    specs = parse_seances(text, zone=zone, now=now, horizon_years=horizon_years)
    if len(specs) != 1:
        raise InvalidInput(N_("Donnez une seule date, par exemple 1 décembre 2026 17 h."))
    return specs[0]


def cloture_delay(text: str) -> timedelta | None:
    """``2d``, ``12h``: the delay before the first séance; None when ``text`` is a date."""
    found = match_duration(text)
    if found is None or found[0] > DELAY_AMOUNT_MAX:
        return None
    amount, unit = found
    if amount == 0:
        raise InvalidInput(N_("Le délai de clôture doit être positif (par exemple 2d ou 12h)."))
    return amount * unit


def cloture_at(
    text: str, first: SeanceSpec | None, *, zone: str, now: datetime, horizon_years: int
) -> datetime:
    """The instant answers close: ``first``'s start minus a delay, or a date (alone: the end
    of that day in ``zone``)."""
    delay = cloture_delay(text)
    if delay is not None and first is not None:
        return first.starts_at - delay
    spec = _one(text, zone=zone, now=now, horizon_years=horizon_years)
    if spec.local_time is None:
        return localize(spec.local_date + timedelta(days=1), None, spec.zone)
    return spec.starts_at


def publication_at(
    text: str, seances: Sequence[SeanceSpec], *, zone: str, now: datetime, horizon_years: int
) -> datetime:
    """When the announcement is due: before the first séance."""
    spec = _one(text, zone=zone, now=now, horizon_years=horizon_years)
    first = min(s.starts_at for s in seances)
    if spec.starts_at >= first:
        raise InvalidInput(N_("La publication doit précéder la première séance."))
    return spec.starts_at


def closed(cloture: datetime | None, now: datetime) -> bool:
    return cloture is not None and now >= cloture


def unpublished(publie_le: datetime | None, now: datetime) -> bool:
    return publie_le is not None and now < publie_le


def answer_refusal(atelier: AtelierInfo, reponse: Reponse, now: datetime) -> UserError | None:
    """Why this answer is refused now, if it is: not yet published, or answers closed."""
    if unpublished(atelier.publie_le, now):
        return Conflict(N_("L'atelier « {titre} » n'est pas encore publié."), titre=atelier.titre)
    if closed(atelier.cloture, now) and reponse != Reponse.NON:
        assert atelier.cloture is not None
        return Conflict(
            N_("Les réponses à « {titre} » sont closes depuis le {date}."),
            titre=atelier.titre,
            date=discord_timestamp(atelier.cloture, "F"),
        )
    return None
