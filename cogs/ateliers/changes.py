"""What a modification changed, said as before → after, and the séances matched explicitly: a
séance whose time is unchanged keeps its row (and every answer given for it) wherever it
stands in the new list; the others are paired in order and count as moved, so their per-séance
answers go with them and their members are told. No Discord here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.dates import SeanceSpec
from cogs.ateliers.info import SeanceInfo
from db import repositories as repo
from db.models import Atelier, Reponse, Seance


def seance_payload(
    starts_at: datetime, local_date: date, local_time: time | None, zone: str
) -> dict[str, Any]:
    """A séance as an outbox payload keeps it (JSON)."""
    return {
        "starts_at": starts_at.isoformat(),
        "local_date": local_date.isoformat(),
        "local_time": local_time.isoformat() if local_time else None,
        "zone": zone,
    }


def of_row(seance: Seance) -> dict[str, Any]:
    return seance_payload(seance.starts_at, seance.local_date, seance.local_time, seance.timezone)


def of_spec(spec: SeanceSpec) -> dict[str, Any]:
    return seance_payload(spec.starts_at, spec.local_date, spec.local_time, spec.zone)


def seance_from_payload(data: dict[str, Any]) -> SeanceInfo:
    """Back from the payload, to be written with ``text.seance_when``."""
    return SeanceInfo(
        id=0,
        starts_at=datetime.fromisoformat(data["starts_at"]),
        ends_at=None,
        local_date=date.fromisoformat(data["local_date"]),
        local_time=time.fromisoformat(data["local_time"]) if data.get("local_time") else None,
        zone=data["zone"],
        scheduled_event_id=None,
    )


def fields_before(atelier: Atelier, chantier_nom: str | None) -> dict[str, Any]:
    """The values a notice compares with the atelier after the change."""
    return {
        "titre": atelier.titre,
        "lieu": atelier.lieu,
        "capacite": atelier.capacite,
        "duree": atelier.duree_minutes,
        "genre": atelier.genre.value if atelier.genre else None,
        "chantier_id": chantier_nom,
        "lien": atelier.lien is not None,
    }


@dataclass
class SeanceMatch:
    """The old séances against the wanted ones: ``kept`` rows with their new spec, ``moved``
    (the row, what it was, its new spec; taken before the rows change), ``removed`` rows and
    ``added`` specs."""

    kept: list[tuple[Seance, SeanceSpec]]
    moved: list[tuple[Seance, dict[str, Any], SeanceSpec]]
    removed: list[Seance]
    added: list[SeanceSpec]

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.removed or self.added)


def _key(s: Seance) -> tuple[datetime, datetime | None, time | None]:
    return (s.starts_at, s.ends_at, s.local_time)


def _spec_key(spec: SeanceSpec) -> tuple[datetime, datetime | None, time | None]:
    return (spec.starts_at, spec.ends_at, spec.local_time)


def match_seances(current: Sequence[Seance], wanted: Sequence[SeanceSpec]) -> SeanceMatch:
    """Séances starting at the same instant keep their row; the rest pair up nearest first;
    what is left is added or removed."""
    wanted = sorted(wanted, key=lambda s: s.starts_at)
    by_start: dict[datetime, Seance] = {}
    for s in current:
        by_start.setdefault(s.starts_at, s)
    kept: list[tuple[Seance, SeanceSpec]] = []
    used: set[int] = set()
    left_specs: list[SeanceSpec] = []
    for spec in wanted:
        same = by_start.get(spec.starts_at)
        if same is not None and id(same) not in used:
            used.add(id(same))
            kept.append((same, spec))
        else:
            left_specs.append(spec)
    left_rows = [s for s in sorted(current, key=lambda s: s.starts_at) if id(s) not in used]
    # The others pair up nearest first (the 10th moved to the 17th, not to a new 26th).
    pairs = sorted(
        ((abs(r.starts_at - spec.starts_at), i, j) for i, r in enumerate(left_rows)
         for j, spec in enumerate(left_specs)),
        key=lambda p: (p[0], p[1], p[2]),
    )  # fmt: skip
    rows_done: set[int] = set()
    specs_done: set[int] = set()
    for _, i, j in pairs:
        if i not in rows_done and j not in specs_done:
            rows_done.add(i)
            specs_done.add(j)
            kept.append((left_rows[i], left_specs[j]))
    removed = [r for i, r in enumerate(left_rows) if i not in rows_done]
    added = [spec for j, spec in enumerate(left_specs) if j not in specs_done]
    moved = [(s, of_row(s), spec) for s, spec in kept if _key(s) != _spec_key(spec)]
    return SeanceMatch(kept, moved, removed, added)


def diff(
    before: dict[str, Any], after: dict[str, Any], changed: Sequence[str], match: SeanceMatch | None
) -> dict[str, Any]:
    """``{field: [before, after]}`` for each changed field a notice can show; ``dates``:
    the séances moved (old, new), added and removed."""
    out: dict[str, Any] = {name: [before[name], after[name]] for name in changed if name in before}
    if match is not None and "dates" in changed:
        out["dates"] = {
            "moved": [[old, of_spec(spec)] for _, old, spec in match.moved],
            "added": [of_spec(spec) for spec in match.added],
            "removed": [of_row(s) for s in match.removed],
        }
    return out


async def moved_answers(
    session: AsyncSession, match: SeanceMatch | None
) -> dict[int, list[dict[str, Any]]]:
    """Per member, the per-séance answers that went with a moved séance: what they said, the
    séance's old and new time."""
    if match is None or not match.moved:
        return {}
    moved = {s.id: (old, spec) for s, old, spec in match.moved}
    rows = await repo.seance_reponses(session, list(moved))
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        old, spec = moved[r.seance_id]
        out.setdefault(r.membre_id, []).append(
            {"reponse": Reponse(r.reponse).value, "from": old, "to": of_spec(spec)}
        )
    return out
