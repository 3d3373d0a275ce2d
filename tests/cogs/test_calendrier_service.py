"""The calendars' read models and private feed tokens, on a real database with a manual clock:
what each feed holds, that reading never writes, tokens stored hashed and revocable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from cogs.ateliers.service import AtelierChanges, AtelierDraft, AtelierService
from cogs.calendrier.service import FEED_PAST, CalendrierService, token_hash
from cogs.inscriptions.service import InscriptionService
from db import repositories as repo
from db.models import CalendrierJeton, Chantier, Reponse
from tests.cogs.helpers import GUILD, ateliers_service, seance, user
from tests.dbutil import queries, statements

LIEN = "https://meet.example.org/abc"


@pytest.fixture
def ateliers(sessions, clock: ManualClock) -> AtelierService:
    return ateliers_service(sessions, clock)


@pytest.fixture
def calendriers(sessions, clock: ManualClock) -> CalendrierService:
    return CalendrierService(sessions, clock, guild_id=GUILD)


async def _chantier(sessions, clock: ManualClock, slug: str = "gouvernance") -> int:
    async with sessions.begin() as s:
        await repo.ensure_guild(s, GUILD, clock.now())
        chantier = Chantier(guild_id=GUILD, slug=slug, nom=slug.title(), created_at=clock.now())
        s.add(chantier)
        await s.flush()
        return chantier.id


async def _atelier(ateliers: AtelierService, chantier_id: int, *days: date, **kw) -> int:
    info = await ateliers.create(
        GUILD,
        AtelierDraft(
            titre=kw.pop("titre", "Territoire"),
            chantier_id=chantier_id,
            seances=tuple(seance(d) for d in days),
            lien=LIEN,
            capacite=kw.pop("capacite", None),
        ),
        announce=False,
    )
    return info.id


async def test_reading_pages_and_feeds_never_writes(
    sessions, clock, engine, ateliers, calendriers
) -> None:
    chantier_id = await _chantier(sessions, clock)
    atelier_id = await _atelier(ateliers, chantier_id, date(2026, 12, 3), date(2026, 12, 10))
    await InscriptionService(sessions, clock).answer(GUILD, atelier_id, user(1), Reponse.OUI)
    token = (await calendriers.address(GUILD, user(1))).token
    assert token is not None
    with statements(engine) as seen:
        assert await calendriers.chantier_feed(GUILD, "gouvernance") is not None
        assert await calendriers.chantier_stamp(GUILD, "gouvernance") is not None
        assert await calendriers.atelier(GUILD, atelier_id) is not None
        assert await calendriers.atelier_stamp(GUILD, atelier_id) is not None
        assert await calendriers.member_feed(GUILD, token) is not None
        assert await calendriers.member_stamp(GUILD, token) is not None
        assert await calendriers.member_feed(GUILD, "x" * 43) is None
        assert await calendriers.upcoming(GUILD)
        assert await calendriers.chantiers(GUILD)
    assert queries(seen, "INSERT", "UPDATE", "DELETE") == []


async def test_the_private_feed_holds_the_members_places_only(
    sessions, clock, ateliers, calendriers
) -> None:
    chantier_id = await _chantier(sessions, clock)
    mine = await _atelier(ateliers, chantier_id, date(2026, 12, 3), date(2026, 12, 10))
    waiting = await _atelier(ateliers, chantier_id, date(2026, 12, 4), capacite=1)
    maybe = await _atelier(ateliers, chantier_id, date(2026, 12, 5))
    inscriptions = InscriptionService(sessions, clock)
    await inscriptions.answer(GUILD, mine, user(1), Reponse.OUI)
    await inscriptions.answer(GUILD, waiting, user(2), Reponse.OUI)
    await inscriptions.answer(GUILD, waiting, user(1), Reponse.OUI)  # on the waiting list
    await inscriptions.answer(GUILD, maybe, user(1), Reponse.PEUT_ETRE)
    token = (await calendriers.address(GUILD, user(1))).token
    assert token is not None
    before = await calendriers.member_stamp(GUILD, token)
    feed = await calendriers.member_feed(GUILD, token)
    assert feed is not None and [a.id for a in feed.ateliers] == [mine]
    assert feed.ateliers[0].lien == LIEN
    # Skipping one séance: it is cancelled in their feed, and the feed's version changes.
    second = feed.ateliers[0].seances[1].id
    await inscriptions.answer(GUILD, mine, user(1), Reponse.NON, seance_id=second)
    feed = await calendriers.member_feed(GUILD, token)
    assert feed is not None
    assert [s.cancelled for s in feed.ateliers[0].seances] == [False, True]
    assert (await calendriers.member_stamp(GUILD, token)) != before
    # Public reads never carry the link.
    public = await calendriers.chantier_feed(GUILD, "gouvernance")
    assert public is not None and {a.lien for a in public.ateliers} == {None}


async def test_tokens_are_stored_hashed_shown_once_and_revocable(
    sessions, clock, calendriers
) -> None:
    first = await calendriers.address(GUILD, user(1))
    assert first.token is not None and len(first.token) >= 43 and not first.renewed
    async with sessions() as s:
        [row] = (await s.execute(select(CalendrierJeton))).scalars().all()
    assert row.token_hash == token_hash(first.token) and first.token not in row.token_hash
    again = await calendriers.address(GUILD, user(1))
    assert again.token is None and again.created_at == first.created_at
    assert await calendriers.member_stamp(GUILD, first.token) is not None
    clock.advance(timedelta(minutes=5))
    renewed = await calendriers.address(GUILD, user(1), renew=True)
    assert renewed.token not in (None, first.token) and renewed.renewed
    assert await calendriers.member_stamp(GUILD, first.token) is None
    assert await calendriers.member_feed(GUILD, first.token) is None
    assert renewed.token is not None
    assert await calendriers.member_stamp(GUILD, renewed.token) is not None
    # Another server's path does not serve it.
    assert await calendriers.member_feed(GUILD + 1, renewed.token) is None


async def test_feeds_keep_six_months_of_past_and_every_change_moves_the_version(
    sessions, clock, ateliers, calendriers
) -> None:
    chantier_id = await _chantier(sessions, clock)
    atelier_id = await _atelier(ateliers, chantier_id, date(2026, 12, 3))
    stamp = await calendriers.chantier_stamp(GUILD, "gouvernance")
    await ateliers.modify(GUILD, atelier_id, AtelierChanges(titre="Nouveau titre"))
    moved = await calendriers.chantier_stamp(GUILD, "gouvernance")
    assert moved is not None and stamp is not None and moved.version != stamp.version
    feed = await calendriers.chantier_feed(GUILD, "gouvernance")
    assert feed is not None and feed.ateliers[0].sequence == 1
    clock.advance(FEED_PAST + timedelta(days=30))
    feed = await calendriers.chantier_feed(GUILD, "gouvernance")
    assert feed is not None and feed.ateliers == ()
    # The atelier's own file keeps every séance.
    atelier = await calendriers.atelier(GUILD, atelier_id)
    assert atelier is not None and len(atelier.seances) == 1
