"""Reminders, the pure part: the values the service returns, due times, deadlines, nonces and
back-off. No database, no clock, no Discord.

Due times:

* An offset that is a whole number of days is subtracted **on the wall clock** in the séance's
  zone: a séance at 13:30 gets its 1-day reminder at 13:30 the day before, whatever daylight
  saving did in between. Any other offset (``90m``, ``1h``, ``36h``) is elapsed time before the
  séance's UTC start.
* A séance without a time is reminded relative to the start of its day (local midnight, which is
  its ``starts_at``); it gets no ``debut`` (its start is unknown: a "ça commence" at midnight would
  be noise), and its ``suivi`` is at the end of its day.
* A wall-clock due time that does not exist (spring-forward gap) is moved to the instant the
  clocks jump (02:30 on 2027-03-14 in Montréal → 03:00 EDT), as ``bot.dates`` does for a midnight
  in a gap. One that exists twice (fall-back overlap) takes its first occurrence (``fold=0``),
  as ``bot.dates`` does for séances.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cogs.ateliers.info import AtelierInfo, SeanceInfo
from db.models import DeliveryStatus, RappelKind, RappelStatus

DAY = timedelta(days=1)
DEBUT_GRACE = timedelta(minutes=15)  # a "ça commence" may go out until 15 min after the start
SUIVI_GRACE = timedelta(hours=24)  # a follow-up may go out until a day after it was due
NONCE_MAX = 25  # Discord's limit
STALE_AFTER = timedelta(minutes=5)  # a claim not refreshed for this long may be taken over
MAX_ATTEMPTS = 30  # per delivery, within its deadline (config: reminders.dm_retry_attempts)
INTERRUPTED = "interrupted: its sender stopped mid-send; not resent"
DM_CLOSED = "direct messages closed (50007)"
NOT_RECIPIENT = "no longer a recipient"
TOO_LATE = "too late: its séance has begun, or a later reminder supersedes it"
ERROR_MAX = 500
LIVE = (RappelStatus.PLANNED, RappelStatus.CLAIMED)
CHANNEL = "channel"
THREAD = "thread"  # the « Je suis là » post of a séance's start, in the atelier's thread


@dataclass(frozen=True)
class PlannedRappel:
    id: int
    atelier_id: int
    seance_id: int
    kind: RappelKind
    offset: timedelta
    due_at: datetime
    late: bool = False

    @property
    def job_id(self) -> str:
        return f"reminder:{self.id}"


@dataclass(frozen=True)
class ReplanResult:
    """``rescheduled``: (re)add these jobs; ``withdrawn`` and ``missed``: drop these jobs. Jobs of
    séances that were removed need nothing: their rows are gone and ``claim`` returns None."""

    rescheduled: tuple[PlannedRappel, ...]
    withdrawn: tuple[int, ...]
    missed: tuple[int, ...]


@dataclass(frozen=True)
class BulkPlanned:
    """What ``plan_unplanned`` did: the ateliers it planned (in step with their plan since)
    and the rows it inserted."""

    ateliers: frozenset[int]
    rows: int


@dataclass(frozen=True)
class OverdueResult:
    late: tuple[PlannedRappel, ...]  # send now (each one still goes through ``claim``)
    missed: tuple[int, ...]  # never sent


@dataclass(frozen=True)
class ClaimedRappel:
    """Everything the sender needs. ``resumed``: taken over from a stopped sender."""

    id: int
    kind: RappelKind
    offset: timedelta
    due_at: datetime
    late: bool
    resumed: bool
    atelier: AtelierInfo  # title, place, link, chantier, thread, counts and places left
    seance: SeanceInfo
    seance_number: int  # 1-based, among ``atelier.seances``
    attending: int  # members expected at this séance


@dataclass(frozen=True)
class Delivery:
    """One post or DM of a rappel. ``to_send``: waiting (first time, or for a retry after
    ``delivery_failed``); otherwise sent, failed for good, or held by a sender."""

    id: int
    rappel_id: int
    target: str  # "channel", "thread" or "dm:<membre id>"
    membre_id: int | None
    user_id: int | None
    locale: str | None
    status: DeliveryStatus
    nonce: str  # pass to Discord with enforce_nonce
    attempts: int
    message_id: int | None
    error: str | None

    @property
    def to_send(self) -> bool:
        return self.status == DeliveryStatus.PENDING


@dataclass(frozen=True)
class Round:
    """A rappel as ``RappelService.start`` leaves it: claimed, its deliveries created, and its
    channel post (``taken``, when it was waiting) already claimed for sending."""

    claimed: ClaimedRappel
    deliveries: tuple[Delivery, ...]
    taken: int | None  # the delivery claimed with the row: send it without ``claim_delivery``


@dataclass(frozen=True)
class Unfinished:
    """A claimed row; ``claim`` may take it over from ``reclaimable_at``."""

    rappel_id: int
    claimed_by: str | None
    claimed_at: datetime | None
    reclaimable_at: datetime


@dataclass(frozen=True)
class DigestEntry:
    atelier: AtelierInfo
    seances: tuple[SeanceInfo, ...]  # those in the window


@dataclass(frozen=True)
class SeanceTimes:
    """What the plan needs of a séance."""

    id: int
    local_date: date
    local_time: time | None
    zone: str
    starts_at: datetime  # aware UTC; local midnight for a date without time
    ends_at: datetime | None


def resolve(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in ``zone`` as an aware UTC instant (gap → the jump, overlap →
    the first occurrence)."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first
    # In a gap: fold=1 reads it with the offset after the change (an instant before the jump),
    # fold=0 with the offset before it (an instant after). Find the jump between them.
    lo = int(local.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    hi = int(first.timestamp())
    before = datetime.fromtimestamp(lo, UTC).astimezone(zone).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


def is_wall_clock(offset: timedelta) -> bool:
    """Whole days are counted on the wall clock; anything else is elapsed time."""
    return offset > timedelta(0) and offset % DAY == timedelta(0)


def reminder_due(seance: SeanceTimes, offset: timedelta) -> datetime:
    """When the reminder ``offset`` before ``seance`` is due (aware UTC)."""
    if not is_wall_clock(offset):
        return seance.starts_at - offset
    day = seance.local_date - timedelta(days=offset // DAY)
    return resolve(datetime.combine(day, seance.local_time or time.min), ZoneInfo(seance.zone))


def seance_end(seance: SeanceTimes, duree_minutes: int) -> datetime:
    """The end of a séance: its ``ends_at``; its start plus the atelier's duration; or, for a date
    without time, the end of its day (next local midnight)."""
    if seance.local_time is None:
        return resolve(datetime.combine(seance.local_date + DAY, time.min), ZoneInfo(seance.zone))
    return seance.ends_at or seance.starts_at + timedelta(minutes=duree_minutes)


def plan(
    seances: list[SeanceTimes], offsets: list[timedelta], duree_minutes: int
) -> dict[tuple[int, RappelKind, int], datetime]:
    """The whole plan of an atelier: every (séance id, kind, offset seconds) with its due time.
    A ``rappel`` per séance and offset, a ``debut`` per séance with a time, and one ``suivi``
    after the last séance."""
    out: dict[tuple[int, RappelKind, int], datetime] = {}
    for seance in seances:
        for offset in offsets:
            key = (seance.id, RappelKind.RAPPEL, int(offset.total_seconds()))
            out[key] = reminder_due(seance, offset)
        if seance.local_time is not None:
            out[(seance.id, RappelKind.DEBUT, 0)] = seance.starts_at
    if seances:
        last = max(seances, key=lambda s: (s.starts_at, s.id))
        out[(last.id, RappelKind.SUIVI, 0)] = seance_end(last, duree_minutes)
    return out


def deadline(kind: RappelKind, seance_start: datetime, due_at: datetime) -> datetime:
    """The last instant a row may still be sent (late): a reminder until its séance begins, a
    ``debut`` until 15 minutes after the start, a ``suivi`` until a day after it was due."""
    if kind == RappelKind.RAPPEL:
        return seance_start
    if kind == RappelKind.DEBUT:
        return due_at + DEBUT_GRACE
    return due_at + SUIVI_GRACE


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def nonce(rappel_id: int, membre_id: int | None, due_at: datetime, *, thread: bool = False) -> str:
    """A stable nonce, unique per delivery: the rappel, the target and the due minute (so a moved
    séance's new reminder is not taken by Discord for the old one). At most 25 characters for
    ids below 36**7 (78 billion)."""
    target = ("t" if thread else "c") if membre_id is None else _b36(membre_id)
    text = f"p{_b36(rappel_id)}.{target}.{_b36(int(due_at.timestamp()) // 60)}"
    if len(text) > NONCE_MAX:
        raise ValueError(f"nonce {text!r} is longer than {NONCE_MAX} characters")
    return text
