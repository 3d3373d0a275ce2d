"""A VTIMEZONE built from an IANA zone (``zoneinfo``), as calendar clients expect it: one
STANDARD and one DAYLIGHT part, each with a yearly RRULE (« the 2nd Sunday of March at 2:00 »),
which is the form Outlook writes and reads best. A zone without daylight saving time gets one
STANDARD part."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    """A change of offset: ``local`` is the wall-clock moment it happens, read with the
    offset in force before it (as RFC 5545 wants DTSTART of a STANDARD/DAYLIGHT part)."""

    local: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    dst: bool


def transitions(zone: str, year: int) -> list[Transition]:
    """The offset changes of ``zone`` during ``year``, found hour by hour then to the second."""
    tz = ZoneInfo(zone)
    found: list[Transition] = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    step = timedelta(hours=1)
    before = moment.astimezone(tz).utcoffset()
    while moment < end:
        after_moment = moment + step
        after = after_moment.astimezone(tz).utcoffset()
        if after != before and before is not None and after is not None:
            low, high = moment, after_moment
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                if mid.astimezone(tz).utcoffset() == before:
                    low = mid
                else:
                    high = mid
            at = high.replace(microsecond=0)
            local = (at + before).replace(tzinfo=None)
            shown = at.astimezone(tz)
            found.append(
                Transition(
                    local,
                    before,
                    after,
                    shown.tzname() or zone,
                    bool(shown.dst()),
                )
            )
            before = after
        moment = after_moment
    return found


#: The year every STANDARD/DAYLIGHT part starts (as Google Calendar writes them): the rules of
#: the calendar's first year then cover every date it shows.
EPOCH_YEAR = 1970


def _rank(local: datetime) -> int:
    """The n-th (1 to 4) or last (-1) weekday of its month that ``local`` falls on."""
    days_in_month = calendar.monthrange(local.year, local.month)[1]
    return -1 if local.day + 7 > days_in_month else (local.day - 1) // 7 + 1


def _rule(local: datetime) -> vRecur:
    """The yearly rule of a transition's date: the n-th (or last) weekday of its month."""
    day = f"{_rank(local)}{_DAYS[local.weekday()]}"
    return vRecur({"FREQ": "YEARLY", "BYMONTH": local.month, "BYDAY": day})


def _same_rule_in(year: int, local: datetime) -> datetime:
    """The date in ``year`` that the rule of ``local`` gives, at the same time of day."""
    rank, weekday = _rank(local), local.weekday()
    days = [
        d
        for d in range(1, calendar.monthrange(year, local.month)[1] + 1)
        if calendar.weekday(year, local.month, d) == weekday
    ]
    day = days[-1] if rank == -1 else days[rank - 1]
    return local.replace(year=year, day=day)


@lru_cache(maxsize=64)
def vtimezone(zone: str, year: int) -> Timezone:
    """The VTIMEZONE of ``zone`` with the rules in force in ``year`` (the first year the
    calendar shows), valid from that year on."""
    tz = ZoneInfo(zone)
    component = Timezone()
    component.add("TZID", zone)
    changes = transitions(zone, year)
    if len(changes) != 2:  # no daylight saving time (or an irregular year): a fixed offset
        offset = datetime(year, 1, 1, 12, tzinfo=tz).utcoffset() or timedelta(0)
        part = TimezoneStandard()
        part.add("DTSTART", datetime(EPOCH_YEAR, 1, 1))  # noqa: DTZ001 (a floating local time)
        part.add("TZOFFSETFROM", offset)
        part.add("TZOFFSETTO", offset)
        part.add("TZNAME", datetime(year, 1, 1, 12, tzinfo=tz).tzname() or zone)
        component.add_component(part)
        return component
    for change in changes:
        part = TimezoneDaylight() if change.dst else TimezoneStandard()
        part.add("DTSTART", _same_rule_in(EPOCH_YEAR, change.local))
        part.add("RRULE", _rule(change.local))
        part.add("TZOFFSETFROM", change.offset_from)
        part.add("TZOFFSETTO", change.offset_to)
        part.add("TZNAME", change.name)
        component.add_component(part)
    return component
