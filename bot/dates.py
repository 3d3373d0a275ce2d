"""Séance dates: read what the staff type in ``/atelier creer`` and in programme files.

The grammar is strict: a text is read exactly or refused with an error naming the faulty part,
never guessed. Month and weekday names come from CLDR through Babel (French and English, wide and
abbreviated); the text is lowercased and its accents dropped first, so ``décembre``/``decembre``,
``févr.``/``fevr``/``fév.`` and ``août``/``aout`` are all read. A month may be written as any
unambiguous prefix of at least three letters of one of those names (``dec``, ``sept``, ``juil``).

Accepted séances (several are separated by ``;``):

- ISO: ``2026-12-03 13:30``, ``2026-12-03T13:30``, ``2026-12-03 13h30``, ``2026-12-03``;
- French: ``3 décembre 2026 13 h 30``, ``3 décembre 2026 à 13 h 30``, ``3 déc. 13h30``,
  ``1er mars 2027 9 h``, ``jeudi 3 décembre 2026 13:30``, ``3 décembre`` (no time);
- English: ``December 3, 2026 1:30 pm``, ``Dec 3 13:30``, ``3 December 2026 at 13:30``;
- several days sharing month, year and time: ``8 et 15 octobre 2026 13 h 30``,
  ``26 novembre et 3 décembre 2021``, ``5, 12 et 19 juin 2027 9 h 30``, ``June 5 and 12``;
- a time range, which gives the séance its end: ``3 décembre de 13 h 30 à 15 h``,
  ``Dec 3 from 1:30 pm to 3 pm``; ``midi`` and ``noon`` for 12:00;
- days relative to today: ``demain 9 h``, ``tomorrow 9 am``, ``jeudi prochain 13 h 30``,
  ``next Thursday 1:30 pm`` (the first such day after today). A weekday alone
  (``jeudi 13 h 30``) stays refused: which Thursday is meant is not said.

Wall-clock times are read in an IANA zone and returned as aware UTC datetimes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import get_day_names, get_month_names

from bot.errors import N_, InvalidInput

MAX_SEANCES = 20
_LOCALES = ("fr", "en")
_YEARS_AHEAD = 8  # a missing year is searched this far ahead (29 February needs up to 8)
_SEPARATORS = frozenset({"et", "and"})
_AT_WORDS = frozenset({"a", "at"})
_FROM_WORDS = frozenset({"de", "from"})
_TO_WORDS = frozenset({"a", "to"})
_TOMORROW = frozenset({"demain", "tomorrow"})
_NEXT_AFTER = frozenset({"prochain", "prochaine"})
_NEXT_BEFORE = frozenset({"next"})

EMPTY = N_("Indiquez au moins une séance, par exemple « 2026-12-03 13:30 ».")
UNREADABLE = N_(
    "La date « {part} » est illisible. Exemples : « 2026-12-03 13:30 », « 3 décembre 2026 13 h 30 »."  # noqa: E501
)
UNREADABLE_DAY = N_(
    "La date « {part} » est illisible. Exemples : « 2026-12-03 », « 3 décembre 2026 »."
)
BAD_TIME = N_(
    "L'heure « {part} » est invalide : les heures vont de 0 à 23 et les minutes de 0 à 59."
)
BAD_DATE = N_("La date « {part} » n'existe pas dans le calendrier.")
WRONG_WEEKDAY = N_("Le jour « {weekday} » ne correspond pas à la date « {part} ».")
NONEXISTENT = N_("L'heure « {part} » n'existe pas dans le fuseau {zone} (changement d'heure).")
PAST = N_("La séance « {part} » est dans le passé.")
TOO_FAR = N_(
    "La séance « {part} » est trop loin : une séance se planifie au plus {years} ans à "
    "l'avance, jusqu'au {limit}."
)
NO_TIME = N_("Il manque l'heure de la séance « {part} ».")
DUPLICATE = N_("La séance « {part} » est indiquée deux fois.")
END_BEFORE_START = N_("Dans « {part} », la fin doit venir après le début.")
TOO_MANY = N_("Un atelier compte au plus {max} séances : « {part} » est de trop.")


@dataclass(frozen=True)
class SeanceSpec:
    """One séance as read: its wall-clock date and time in ``zone`` and its UTC instants."""

    local_date: date
    local_time: time | None  # None: a date without a time (as in the historical programme)
    zone: str  # IANA name
    starts_at: datetime  # aware UTC; for a date without time, local midnight of that day
    ends_at: datetime | None  # starts_at + duration when the time is known, else None


def localize(local_date: date, local_time: time | None, zone: str) -> datetime:
    """Turn a wall-clock date and time in ``zone`` into an aware UTC datetime.

    A time that does not exist (inside the spring-forward gap, e.g. 02:30 on 2027-03-14 in
    America/Toronto) raises ``InvalidInput``. An ambiguous time (the repeated hour when clocks
    fall back, e.g. 01:30 on 2026-11-01) takes its first occurrence, ``fold=0``: daylight time.
    Without a time, the result is the start of the local day (midnight, or the end of the gap in
    the rare zones whose clocks jump at midnight).
    """
    instant = _to_utc(local_date, local_time, ZoneInfo(zone))
    if instant is None:  # only a given time can fall in a gap
        part = f"{local_date.isoformat()} {local_time or time.min:%H:%M}"
        raise InvalidInput(NONEXISTENT, part=part, zone=zone)
    return instant


def parse_seances(
    text: str,
    *,
    zone: str,
    now: datetime,
    duration: timedelta | None = None,
    allow_past: bool = False,
    allow_date_only: bool = True,
    horizon_years: int | None = None,
) -> list[SeanceSpec]:
    """Read the séances of ``text`` (see the module docstring), sorted by start.

    A missing year means the next such date: this year's if it is still ahead of ``now`` in
    ``zone``, else the next year's that exists. ``duration`` gives ``ends_at`` of timed séances.
    Refused with ``InvalidInput`` naming the faulty part: empty or unreadable text, an invalid
    time or calendar date, a weekday that does not match its date, a nonexistent local time
    (see ``localize``), a séance in the past (unless ``allow_past``; a date without time is past
    from the next day on), a date without time (unless ``allow_date_only``), the same start twice,
    more than ``MAX_SEANCES`` séances, a séance more than ``horizon_years`` ahead.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    if duration is not None and duration <= timedelta(0):
        raise ValueError("duration must be positive")
    tz = ZoneInfo(zone)
    local_now = now.astimezone(tz)
    limit = None if horizon_years is None else _years_after(local_now.date(), horizon_years)
    seances: list[SeanceSpec] = []
    starts: set[datetime] = set()
    for raw in text.split(";"):
        if not raw.strip():
            continue
        segment = _Segment(raw)
        reading = segment.read(allow_time=True)
        if reading is None:
            raise InvalidInput(UNREADABLE, part=segment.part)
        clock = _clock(reading.time, segment)
        end_clock = _clock(reading.end, segment)
        days = reading.days or [_relative_day(reading, local_now.date())]
        for day, month, year in days:
            local_date = _resolve_date(day, month, year, clock, local_now, segment.part)
            if reading.relative is None:
                _check_weekday(reading, local_date, segment)
            if limit is not None and local_date > limit:
                raise InvalidInput(TOO_FAR, part=segment.part, years=horizon_years, limit=limit)
            starts_at = _to_utc(local_date, clock, tz)
            if starts_at is None:
                raise InvalidInput(NONEXISTENT, part=segment.part, zone=zone)
            if clock is None and not allow_date_only:
                raise InvalidInput(NO_TIME, part=segment.part)
            past = local_date < local_now.date() if clock is None else starts_at < now
            if past and not allow_past:
                raise InvalidInput(PAST, part=segment.part)
            if starts_at in starts:
                raise InvalidInput(DUPLICATE, part=segment.part)
            if len(seances) == MAX_SEANCES:
                raise InvalidInput(TOO_MANY, part=segment.part, max=MAX_SEANCES)
            starts.add(starts_at)
            ends_at = None if clock is None or duration is None else starts_at + duration
            if end_clock is not None:
                ends_at = _to_utc(local_date, end_clock, tz)
                if ends_at is None:
                    raise InvalidInput(NONEXISTENT, part=segment.part, zone=zone)
                if ends_at <= starts_at:
                    raise InvalidInput(END_BEFORE_START, part=segment.part)
            seances.append(SeanceSpec(local_date, clock, zone, starts_at, ends_at))
    if not seances:
        raise InvalidInput(EMPTY, part=text.strip())
    return sorted(seances, key=lambda seance: seance.starts_at)


def parse_day(text: str, *, zone: str, now: datetime) -> date:
    """Read one date without time, ISO (``2026-12-03``) or written out (``3 décembre 2026``).

    Meant for ranges such as ``/statistiques debut/fin``: a missing year means the current year
    in ``zone``. Refused with ``InvalidInput`` when unreadable, not a calendar date, several
    dates, a time, or a weekday that does not match.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    segment = _Segment(text)
    reading = segment.read(allow_time=False)
    if reading is None or len(reading.days) != 1:
        raise InvalidInput(UNREADABLE_DAY, part=segment.part)
    day, month, year = reading.days[0]
    if year is None:
        year = now.astimezone(ZoneInfo(zone)).year
    try:
        local_date = date(year, month, day)
    except ValueError:
        raise InvalidInput(BAD_DATE, part=segment.part) from None
    _check_weekday(reading, local_date, segment)
    return local_date


# --- reading -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<iso>(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2}))(?!\d)(?:t(?=\d))?
    | (?P<time>(?:
          (?P<colon_h>\d{1,2})\s*:\s*(?P<colon_m>\d{2})(?:\s*(?P<colon_ap>[ap])\.?\s*m\b\.?)?
        | (?P<h_h>\d{1,2})\s*h(?:\s*(?P<h_m>\d{2}))?
        | (?P<ap_h>\d{1,2})\s*(?P<ap>[ap])\.?\s*m\b\.?
        | (?P<noon>midi|noon)
      )(?![\w:]))
    | (?P<year>\d{4})(?!\w)
    | (?P<day>(?P<day_n>\d{1,2})(?P<suffix>er|st|nd|rd|th)?)(?!\w)
    | (?P<word>[a-z]+\.?)
    | (?P<comma>,)
    | (?P<at>@)
    )""",
    re.VERBOSE,
)

_Token = re.Match[str]  # its kind is its ``lastgroup``
_Days = list[tuple[int, int, int | None]]  # day, month, year (None: not given)


@dataclass(frozen=True)
class _Reading:
    weekday: _Token | None
    days: _Days
    time: _Token | None
    #: The end of a time range (« de 13 h 30 à 15 h »), or None.
    end: _Token | None = None
    #: A day relative to today: "tomorrow", or "next" (the weekday's next occurrence).
    relative: str | None = None


class _Segment:
    """One séance as typed, normalized for reading, able to quote a token as typed."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.part = raw.strip()
        self.text, self._origin = _normalize(raw)

    def quote(self, token: _Token) -> str:
        start, end = token.span(token.lastgroup)
        return self.raw[self._origin[start] : self._origin[end - 1] + 1]

    def read(self, *, allow_time: bool) -> _Reading | None:
        tokens: list[_Token] = []
        pos = 0
        while self.text[pos:].strip():
            token = _TOKEN.match(self.text, pos)
            if token is None or not _ordinal_ok(token):
                return None
            tokens.append(token)
            pos = token.end()
        for with_weekday in (True, False):  # "mar" is both mardi and March
            reading = _Parser(tokens).read(with_weekday=with_weekday)
            if reading is not None and (allow_time or reading.time is None):
                return reading
        return None


class _Parser:
    """A recursive-descent reader over the tokens of one séance."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def is_kind(self, offset: int, *kinds: str) -> bool:
        token = self.peek(offset)
        return token is not None and token.lastgroup in kinds

    def is_separator(self) -> bool:
        """A comma, ``et`` or ``and``."""
        return self.is_kind(0, "comma") or self.is_word(0, _SEPARATORS)

    def is_word(self, offset: int, words: frozenset[str]) -> bool:
        token = self.peek(offset)
        return token is not None and token["word"] in words

    def is_month(self, offset: int) -> bool:
        token = self.peek(offset)
        return token is not None and token["word"] is not None and _month(token["word"]) > 0

    def take(self, *kinds: str) -> _Token | None:
        token = self.peek() if self.is_kind(0, *kinds) else None
        self.pos += token is not None
        return token

    def read(self, *, with_weekday: bool) -> _Reading | None:
        """``[le] [weekday[,]] date [[,] [à|at|@|de|from] time [à|to time]]``, where the date
        may also be ``demain``/``tomorrow`` or ``weekday prochain``/``next weekday``."""
        if self.is_word(0, frozenset({"le"})):
            self.pos += 1
        weekday = None
        relative = None
        if self.is_word(0, _TOMORROW):
            self.pos += 1
            relative = "tomorrow"
        elif with_weekday:
            if self.is_word(0, _NEXT_BEFORE):  # next Thursday
                self.pos += 1
                relative = "next"
            weekday = self.take("word")
            if weekday is None or _weekday(weekday["word"]) is None:
                return None
            if relative is None and self.is_word(0, _NEXT_AFTER):  # jeudi prochain
                self.pos += 1
                relative = "next"
            self.take("comma")
        if relative is not None:
            days = []
        else:
            start = self.pos
            for rule in (self.iso_day, self.day_first, self.month_first):
                self.pos = start  # each form is tried from the same token
                if (found := rule()) is not None:
                    days = found
                    break
            else:
                return None
        clock = end = None
        if self.peek() is not None:  # what follows the date must be its time
            self.take("comma")
            if self.is_word(0, _AT_WORDS | _FROM_WORDS) or self.is_kind(0, "at"):
                self.pos += 1
            clock = self.take("time")
            if clock is None:
                return None
            if self.is_word(0, _TO_WORDS):
                self.pos += 1
                end = self.take("time")
                if end is None:
                    return None
            if self.peek() is not None:
                return None
        if relative is not None and clock is None:
            return None  # « demain » alone: a séance needs its time here
        return _Reading(weekday, days, clock, end, relative)

    def iso_day(self) -> _Days | None:
        token = self.take("iso")
        if token is None:
            return None
        return [(int(token["iso_d"]), int(token["iso_m"]), int(token["iso_y"]))]

    def day_first(self) -> _Days | None:
        """``8 et 15 octobre 2026``, ``26 novembre et 3 décembre 2021``, ``1er mars``."""
        days: _Days = []
        while (numbers := self.numbers()) and (month := self.month()):
            days = self.with_year(days + [(number, month, None) for number in numbers])
            if not (self.is_separator() and self.is_kind(1, "day")):
                return days
            self.pos += 1
        return None

    def month_first(self) -> _Days | None:
        """``December 3, 2026``, ``Dec 3``, ``June 5 and 12``, ``June 26 and July 3``."""
        days: _Days = []
        while (month := self.month()) and (numbers := self.numbers()):
            days += [(number, month, None) for number in numbers]
            if self.is_kind(0, "comma") and self.is_kind(1, "year"):
                self.pos += 1
            days = self.with_year(days)
            if not (self.is_separator() and self.is_month(1)):
                return days
            self.pos += 1
        return None

    def numbers(self) -> list[int]:
        """Day numbers such as ``5, 12 et 19``; empty when none is there."""
        numbers: list[int] = []
        while (day := self.take("day")) is not None:
            numbers.append(int(day["day_n"]))
            if not (self.is_separator() and self.is_kind(1, "day")):
                break
            self.pos += 1
        return numbers

    def month(self) -> int:
        """The month named here (then skipped), or 0."""
        if not self.is_month(0):
            return 0
        self.pos += 1
        return _month(self.tokens[self.pos - 1]["word"])

    def with_year(self, days: _Days) -> _Days:
        """A year applies to every day before it that has none."""
        year = self.take("year")
        if year is None:
            return days
        return [(d, m, int(year["year"]) if y is None else y) for d, m, y in days]


# --- values --------------------------------------------------------------------------------


def _clock(token: _Token | None, segment: _Segment) -> time | None:
    """The time of a time token, or None; refuses hours and minutes out of range."""
    if token is None:
        return None
    if token["noon"]:
        return time(12, 0)
    hour = int(token["colon_h"] or token["h_h"] or token["ap_h"])
    minute = int(token["colon_m"] or token["h_m"] or 0)
    meridiem = token["colon_ap"] or token["ap"]
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise InvalidInput(BAD_TIME, part=segment.quote(token))
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if hour > 23 or minute > 59:
        raise InvalidInput(BAD_TIME, part=segment.quote(token))
    return time(hour, minute)


def _resolve_date(
    day: int, month: int, year: int | None, clock: time | None, local_now: datetime, part: str
) -> date:
    """The calendar date; without a year, the next such date still ahead of ``local_now``."""
    if year is not None:
        try:
            return date(year, month, day)
        except ValueError:
            raise InvalidInput(BAD_DATE, part=part) from None
    today = local_now.date()
    for candidate_year in range(today.year, today.year + _YEARS_AHEAD + 1):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if clock is None and candidate >= today:
            return candidate
        if clock is not None and (candidate, clock) >= (today, local_now.time()):
            return candidate
    raise InvalidInput(BAD_DATE, part=part)


def _relative_day(reading: _Reading, today: date) -> tuple[int, int, int]:
    """« demain »: tomorrow; « jeudi prochain »: the first Thursday after today."""
    if reading.relative == "tomorrow":
        day = today + timedelta(days=1)
    else:
        assert reading.weekday is not None
        wanted = _weekday(reading.weekday["word"])
        assert wanted is not None
        day = today + timedelta(days=(wanted - today.weekday() - 1) % 7 + 1)
    return day.day, day.month, day.year


def _check_weekday(reading: _Reading, local_date: date, segment: _Segment) -> None:
    if reading.weekday is not None and _weekday(reading.weekday["word"]) != local_date.weekday():
        raise InvalidInput(WRONG_WEEKDAY, part=segment.part, weekday=segment.quote(reading.weekday))


def _years_after(day: date, years: int) -> date:
    """The same day ``years`` later (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _to_utc(local_date: date, local_time: time | None, tz: ZoneInfo) -> datetime | None:
    """Aware UTC for a wall-clock time (fold=0), or None when it falls in a DST gap."""
    clock = time.min if local_time is None else local_time.replace(tzinfo=None, fold=0)
    try:
        instant = datetime.combine(local_date, clock, tzinfo=tz).astimezone(UTC)
        back = instant.astimezone(tz)
    except OverflowError:  # the last day of year 9999 in a zone west of UTC
        return None
    if local_time is not None and (back.date(), back.time()) != (local_date, clock):
        return None
    return instant


def _ordinal_ok(token: _Token) -> bool:
    """``1er`` in French; ``1st``, ``2nd``, ``3rd``, ``4th``, ``21st``… in English."""
    suffix = token["suffix"]  # only a day token has one
    if suffix is None:
        return True
    day = int(token["day_n"])
    if suffix == "er":
        return day == 1
    english = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return suffix == english


def _normalize(text: str) -> tuple[str, list[int]]:
    """Lowercase without accents, one space per blank; and each character's index in ``text``."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for piece in unicodedata.normalize("NFD", char.lower()):
            if unicodedata.combining(piece):
                continue
            chars.append(" " if piece.isspace() else piece)
            origin.append(index)
    return "".join(chars), origin


@cache
def _names(getter: Callable[..., Mapping[int, str]]) -> dict[str, int]:
    """Folded CLDR names (months 1…12 or weekdays 0…6 from Monday), wide and abbreviated, in
    French and in English, from Babel's ``get_month_names`` or ``get_day_names``."""
    return {
        _normalize(name)[0].rstrip("."): number
        for locale in _LOCALES
        for width in ("wide", "abbreviated")
        for number, name in getter(width, locale=locale).items()
    }


def _month(word: str) -> int:
    """The month a word names (a name, or a prefix of 3+ letters naming only one month), or 0."""
    word = word.rstrip(".")
    found = {number for name, number in _names(get_month_names).items() if name.startswith(word)}
    return found.pop() if len(word) >= 3 and len(found) == 1 else 0


def _weekday(word: str) -> int | None:
    return _names(get_day_names).get(word.rstrip("."))
