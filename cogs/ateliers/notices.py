"""What Discord must show after an atelier changed, written to the outbox in the change's own
transaction (STYLE.md rule 7): the announcement posted or refreshed, the séances mirrored as
scheduled events, and the notices to the members concerned. The adapters that deliver these
rows are in ``delivery.py``. No Discord here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cogs.ateliers.info import AtelierInfo, Recipient
from db.models import Atelier, Membre, OutboxKind
from db.outbox import enqueue

PROMOTION = "promotion"
MODIFICATION = "modification"
ANNULATION = "annulation"
#: A publication waits this long past its time at most (a bot stopped for days).
PUBLICATION_TTL = timedelta(days=7)
#: A séance moved and took a member's per-séance answer with it (members without a place).
SEANCE_DEPLACEE = "seance-deplacee"


#: An atelier as the database holds it, or as read into an ``AtelierInfo`` (the answers'
#: hot path reads plain rows): only its ids are used here.
AtelierRef = Atelier | AtelierInfo


def topic(atelier_id: int) -> str:
    return f"atelier:{atelier_id}"


def refresh(session: AsyncSession, atelier: AtelierRef, now: datetime) -> None:
    """The announcement shows the atelier as it is once this transaction commits (edits are
    coalesced: every pending refresh of one atelier is one edit)."""
    if atelier.announcement_message_id is None:
        return
    enqueue(
        session,
        OutboxKind.REFRESH,
        {"atelier_id": atelier.id},
        now=now,
        guild_id=atelier.guild_id,
        topic=topic(atelier.id),
    )


def announce(
    session: AsyncSession,
    atelier: Atelier,
    now: datetime,
    *,
    channel_id: int | None = None,
    due_at: datetime | None = None,
) -> None:
    """Post the announcement (in ``channel_id``, default its chantier's channel), then mirror
    its séances as scheduled events; ``due_at``: not before then (``publier-le``: the row is
    the durable timer; it lives until the atelier's first séance)."""
    payload: dict[str, Any] = {"atelier_id": atelier.id, "channel_id": channel_id}
    if due_at is not None:
        payload["scheduled"] = True  # dropped if staff announced it by hand meanwhile
    enqueue(
        session,
        OutboxKind.ANNOUNCE,
        payload,
        now=now,
        guild_id=atelier.guild_id,
        topic=topic(atelier.id),
        due_at=due_at,
        **({"ttl": PUBLICATION_TTL} if due_at is not None else {}),
    )


def sync_events(
    session: AsyncSession, atelier: Atelier, now: datetime, stale: Iterable[int] = ()
) -> None:
    """Bring the atelier's Discord scheduled events in step (cancelled when it is; ``stale``:
    events of séances that no longer exist)."""
    enqueue(
        session,
        OutboxKind.EVENTS,
        {"atelier_id": atelier.id, "stale": sorted(stale)},
        now=now,
        guild_id=atelier.guild_id,
        topic=topic(atelier.id),
    )


def tell(
    session: AsyncSession,
    atelier: AtelierRef,
    recipients: Sequence[Recipient],
    what: str,
    now: datetime,
    *,
    changed: Sequence[str] = (),
    diff: Mapping[str, Any] | None = None,
    moves: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
) -> int:
    """One notice per member (a DM in their language; a mention in the atelier's thread when
    their DMs are closed). ``diff``: each change as before → after; ``moves``: per member, the
    per-séance answers that went with a moved séance. Returns how many."""
    for r in recipients:
        enqueue(
            session,
            OutboxKind.NOTICE,
            {
                "what": what,
                "atelier_id": atelier.id,
                "membre_id": r.membre_id,
                "user_id": r.user_id,
                "locale": r.locale,
                "etat": r.etat.value,
                "position": r.position,
                "changed": list(changed),
                "diff": dict(diff or {}),
                "moves": list((moves or {}).get(r.membre_id, ())),
            },
            now=now,
            guild_id=atelier.guild_id,
            topic=topic(atelier.id),
            user_id=r.user_id,
        )
    return len(recipients)


async def tell_moved(
    session: AsyncSession,
    atelier: Atelier,
    moves: Mapping[int, Sequence[Mapping[str, Any]]],
    already: set[int],
    now: datetime,
) -> int:
    """Members whose per-séance answer went with a moved séance and who get no modification
    notice (no place nor rank: they answered a séance alone) are told on their own."""
    told = 0
    for membre_id, answers in sorted(moves.items()):
        if membre_id in already:
            continue
        membre = await session.get(Membre, membre_id)
        if membre is None or membre.user_id is None:
            continue
        enqueue(
            session,
            OutboxKind.NOTICE,
            {
                "what": SEANCE_DEPLACEE,
                "atelier_id": atelier.id,
                "membre_id": membre_id,
                "user_id": membre.user_id,
                "locale": membre.locale,
                "moves": list(answers),
            },
            now=now,
            guild_id=atelier.guild_id,
            topic=topic(atelier.id),
            user_id=membre.user_id,
        )
        told += 1
    return told
