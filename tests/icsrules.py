"""The RFC 5545 rules that Outlook, Google Calendar and Apple Calendar are known to enforce,
checked on the bytes of an ``.ics`` file (no test here). ``problems(data)`` lists every rule a
file breaks; ``parse(data)`` reads it with ``vobject``, a second parser independent of the
``icalendar`` package that wrote it."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import vobject

#: RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break
#: (Outlook truncates or refuses longer ones).
MAX_OCTETS = 75
STATUSES = {"TENTATIVE", "CONFIRMED", "CANCELLED"}
UTC_STAMP = re.compile(r"^\d{8}T\d{6}Z$")
LOCAL_TIME = re.compile(r"^\d{8}T\d{6}$")
DATE = re.compile(r"^\d{8}$")
OFFSET = re.compile(r"^[+-]\d{4}(\d{2})?$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.split("\r\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _split(line: str) -> tuple[str, dict[str, str], str]:
    """NAME;PARAM=VALUE:value (parameter values may be quoted)."""
    match = re.match(r'^([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^;:]*))*):(.*)$', line)
    if match is None:
        raise ValueError(line)
    params = {}
    for part in re.findall(r';([A-Za-z0-9-]+)=("[^"]*"|[^;:]*)', match.group(2)):
        params[part[0].upper()] = part[1].strip('"')
    return match.group(1).upper(), params, match.group(3)


def problems(data: bytes) -> list[str]:
    found: list[str] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"not UTF-8: {exc}"]
    if not text.endswith("\r\n"):
        found.append("the file does not end with CRLF")
    if re.search(r"(?<!\r)\n", text):
        found.append("a line ends with a bare LF")
    for number, raw in enumerate(data.split(b"\r\n"), 1):
        if len(raw) > MAX_OCTETS:
            found.append(f"line {number} is {len(raw)} octets long")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            found.append(f"line {number}: folding cut a UTF-8 character")
    lines = _unfold(text)
    if not lines or lines[0] != "BEGIN:VCALENDAR" or lines[-1] != "END:VCALENDAR":
        found.append("not one VCALENDAR")
        return found
    stack: list[str] = []
    components: list[tuple[str, list[tuple[str, dict[str, str], str]]]] = []
    current: list[list[tuple[str, dict[str, str], str]]] = []
    for line in lines:
        if CONTROL.search(line):
            found.append(f"control character in {line[:40]!r}")
        try:
            name, params, value = _split(line)
        except ValueError:
            found.append(f"unreadable content line {line[:60]!r}")
            continue
        if name == "BEGIN":
            stack.append(value)
            current.append([])
        elif name == "END":
            if not stack or stack[-1] != value:
                found.append(f"END:{value} does not close {stack[-1:] or 'anything'}")
                return found
            stack.pop()
            components.append((value, current.pop()))
        elif current:
            current[-1].append((name, params, value))
    if stack:
        found.append(f"unclosed {stack}")
    by_kind: dict[str, list[list[tuple[str, dict[str, str], str]]]] = {}
    for kind, props in components:
        by_kind.setdefault(kind, []).append(props)
    [calendar] = by_kind.get("VCALENDAR", [[]])
    names = Counter(n for n, _, _ in calendar)
    if names["VERSION"] != 1 or ("VERSION", {}, "2.0") not in calendar:
        found.append("VERSION:2.0 missing or repeated")
    if names["PRODID"] != 1:
        found.append("PRODID missing or repeated")
    methods = [v for n, _, v in calendar if n == "METHOD"]
    if methods and methods != ["PUBLISH"]:
        found.append(f"METHOD {methods}: Outlook treats anything but PUBLISH as an invitation")
    if not by_kind.get("VEVENT") and not by_kind.get("VTIMEZONE"):
        found.append("a VCALENDAR needs at least one component")
    zones: set[str] = set()
    for props in by_kind.get("VTIMEZONE", []):
        tzids = [v for n, _, v in props if n == "TZID"]
        if len(tzids) != 1:
            found.append("a VTIMEZONE without exactly one TZID")
        zones.update(tzids)
    for kind in ("STANDARD", "DAYLIGHT"):
        for props in by_kind.get(kind, []):
            got = {n: v for n, _, v in props}
            for needed in ("DTSTART", "TZOFFSETFROM", "TZOFFSETTO"):
                if needed not in got:
                    found.append(f"{kind} without {needed}")
            if not LOCAL_TIME.match(got.get("DTSTART", "")):
                found.append(f"{kind} DTSTART is not a local date-time")
            for offset in ("TZOFFSETFROM", "TZOFFSETTO"):
                if offset in got and not OFFSET.match(got[offset]):
                    found.append(f"{kind} {offset} {got[offset]!r}")
    uids: Counter[str] = Counter()
    for props in by_kind.get("VEVENT", []):
        got = Counter(n for n, _, _ in props)
        for needed in ("UID", "DTSTAMP", "DTSTART"):
            if got[needed] != 1:
                found.append(f"a VEVENT has {got[needed]} {needed}")
        if got["DTEND"] and got["DURATION"]:
            found.append("a VEVENT has both DTEND and DURATION")
        values = {n: (p, v) for n, p, v in props}
        uid = values.get("UID", ({}, ""))[1]
        uids[uid] += 1
        if not UTC_STAMP.match(values.get("DTSTAMP", ({}, ""))[1]):
            found.append(f"{uid}: DTSTAMP is not in UTC")
        status = values.get("STATUS", ({}, "CONFIRMED"))[1]
        if status not in STATUSES:
            found.append(f"{uid}: STATUS {status}")
        if "SEQUENCE" in values and not values["SEQUENCE"][1].isdigit():
            found.append(f"{uid}: SEQUENCE {values['SEQUENCE'][1]!r}")
        for name in ("DTSTART", "DTEND"):
            if name not in values:
                continue
            params, value = values[name]
            if params.get("VALUE") == "DATE":
                if not DATE.match(value):
                    found.append(f"{uid}: {name} {value!r} is not a DATE")
            elif "TZID" in params:
                if params["TZID"] not in zones:
                    found.append(f"{uid}: TZID {params['TZID']} has no VTIMEZONE")
                if not LOCAL_TIME.match(value):
                    found.append(f"{uid}: {name} with TZID is not a local time")
            elif not UTC_STAMP.match(value):
                found.append(f"{uid}: {name} {value!r} is floating (no zone)")
        if "DTSTART" in values and "DTEND" in values and values["DTEND"][1] <= values["DTSTART"][1]:
            found.append(f"{uid}: DTEND is not after DTSTART")
    found.extend(f"UID {u} appears {n} times" for u, n in uids.items() if n > 1)
    return found


def parse(data: bytes) -> Any:
    """The calendar as ``vobject`` reads it (raises on what it cannot read)."""
    return vobject.readOne(data.decode("utf-8"))


def events(data: bytes) -> dict[str, Any]:
    """UID → vobject VEVENT."""
    return {e.uid.value: e for e in parse(data).contents.get("vevent", [])}
