"""The reminders' sender on a manual clock with a fake transport: jobs fire when the clock
reaches a row's due time, transient failures are retried on the back-off schedule, permanent
ones are recorded, and nothing goes out once the séance has begun. No Discord, no wall clock:
the scheduler sleeps on the ``ManualClock`` and the tests move it in small steps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.delivery import SendFailed
from bot.scheduler import Scheduler
from bot.tasks import TaskGroup
from cogs.ateliers.service import AtelierDraft
from cogs.inscriptions.service import InscriptionService
from cogs.reminders import plan
from cogs.reminders.plan import CHANNEL, TOO_LATE, ClaimedRappel, Delivery, OverdueResult
from cogs.reminders.sender import Sender, job_id
from cogs.reminders.service import RappelService
from db.models import DeliveryStatus, Livraison, Membre, Rappel, RappelKind, RappelStatus, Reponse
from db.session import Sessions
from tests.cogs.helpers import GUILD, ateliers_service, seance, set_dm_reminders, user
from tests.dbutil import queries, statements

OFFSETS = (timedelta(days=7), timedelta(days=1), timedelta(hours=1))
D1, H1 = int(timedelta(days=1).total_seconds()), int(timedelta(hours=1).total_seconds())
SEANCE_DAY = date(2026, 12, 3)  # a Thursday, 13:30 in Montréal
START = datetime(2026, 12, 3, 18, 30, tzinfo=UTC)  # the séance begins
D1_DUE = START - timedelta(days=1)  # the day-before reminder
H1_DUE = START - timedelta(hours=1)  # the hour-before reminder
STEP = timedelta(milliseconds=500)  # how far the manual clock moves at a time
WORKER = "host-a:1"


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


@dataclass(frozen=True)
class Call:
    """One ``deliver`` as the fake transport saw it, on the manual clock."""

    at: datetime
    rappel_id: int
    delivery_id: int
    target: str
    nonce: str


#: Decides one attempt: the call and how many attempts its target had before it (0: the first);
#: a ``SendFailed`` to raise, or None to deliver.
Policy = Callable[[Call, int], SendFailed | None]


def always_ok(call: Call, before: int) -> SendFailed | None:
    return None


class FakeTransport:
    """The sender's ``Transport`` without Discord: records every call with ``clock.now()``."""

    def __init__(self, clock: ManualClock, policy: Policy = always_ok) -> None:
        self.clock = clock
        self.policy = policy
        self.calls: list[Call] = []
        self.sent: list[tuple[Call, int]] = []  # each with the message id it returned
        self.told: list[tuple[int, int | None]] = []  # (rappel id, membre id)

    async def deliver(self, claimed: ClaimedRappel, delivery: Delivery) -> int | None:
        call = Call(self.clock.now(), claimed.id, delivery.id, delivery.target, delivery.nonce)
        before = sum(c.delivery_id == delivery.id for c in self.calls)
        self.calls.append(call)
        failure = self.policy(call, before)
        if failure is not None:
            raise failure
        message_id = 900_000 + len(self.calls)
        self.sent.append((call, message_id))
        return message_id

    async def tell_dm_closed(self, claimed: ClaimedRappel, delivery: Delivery) -> None:
        self.told.append((claimed.id, delivery.membre_id))

    def times(self, rappel_id: int, target: str = CHANNEL) -> list[datetime]:
        """When ``deliver`` was called for one rappel's target, on the manual clock."""
        return [c.at for c in self.calls if (c.rappel_id, c.target) == (rappel_id, target)]


@dataclass
class Harness:
    """The sender wired as ``RemindersCog`` wires it, with a fake transport."""

    sessions: Sessions
    clock: ManualClock
    service: RappelService
    transport: FakeTransport
    scheduler: Scheduler
    tasks: TaskGroup
    sender: Sender
    atelier_id: int = 0
    membres: list[int] = field(default_factory=list)

    async def settle(self) -> None:
        """Let the scheduler fire what is due, and the sender's tasks finish."""
        for _ in range(50):
            for _ in range(20):
                await asyncio.sleep(0)
            if not len(self.tasks):
                return
            await self.tasks.drain(grace=10.0)
        raise AssertionError("the sender's tasks never settled")

    async def advance_to(self, until: datetime, step: timedelta = STEP) -> None:
        """Move the manual clock to ``until`` in small steps, settling after each."""
        while self.clock.now() < until:
            self.clock.advance(min(step, until - self.clock.now()))
            await self.settle()

    async def start_up(self) -> OverdueResult:
        """What ``RemindersCog.start_up`` does with the sender: overdue rows, then ``sync``."""
        overdue = await self.service.startup_overdue()
        self.sender.unschedule(overdue.missed)
        await self.sender.sync()
        await self.settle()
        return overdue

    async def planned_id(self, kind: RappelKind, offset: int) -> int:
        async with self.sessions() as s:
            found = await s.scalar(
                select(Rappel.id).where(Rappel.kind == kind, Rappel.offset_seconds == offset)
            )
        assert found is not None
        return found

    async def rappel(self, rappel_id: int) -> Rappel:
        async with self.sessions() as s:
            row = await s.get(Rappel, rappel_id)
        assert row is not None
        return row

    async def livraisons(self, rappel_id: int) -> list[Livraison]:
        async with self.sessions() as s:
            rows = await s.scalars(
                select(Livraison).where(Livraison.rappel_id == rappel_id).order_by(Livraison.id)
            )
            return list(rows)


@pytest.fixture
async def harness(sessions: Sessions, clock: ManualClock) -> AsyncIterator[Harness]:
    service = RappelService(sessions, clock, OFFSETS, worker=WORKER)
    transport = FakeTransport(clock)
    scheduler = Scheduler("UTC", clock=clock)
    tasks = TaskGroup()
    sender = Sender(service, transport, scheduler, tasks, clock)
    h = Harness(sessions, clock, service, transport, scheduler, tasks, sender)
    scheduler.start()
    try:
        yield h
    finally:
        scheduler.shutdown()
        await tasks.drain(grace=5.0)


async def plan_atelier(h: Harness, at: datetime, *, dm_on: int = 0, dm_off: int = 0) -> None:
    """At ``at``, an atelier with one séance (``START``) and members who said yes: ``dm_on`` of
    them with DM reminders on, ``dm_off`` with them off. Its plan is written by the ateliers'
    transaction, as in the bot."""
    h.clock.set(at)
    info = await ateliers_service(h.sessions, h.clock).create(
        GUILD, AtelierDraft(titre="Gestion des actifs", seances=[seance(SEANCE_DAY)])
    )
    h.atelier_id = info.id
    rsvp = InscriptionService(h.sessions, h.clock)
    for n in range(dm_on + dm_off):
        await rsvp.answer(GUILD, info.id, user(n), Reponse.OUI)
        await set_dm_reminders(h.sessions, h.clock, GUILD, user(n), n < dm_on)
        async with h.sessions() as s:
            membre = await s.scalar(select(Membre.id).where(Membre.user_id == user(n)))
        assert membre is not None
        h.membres.append(membre)


def fail_while(until: Callable[[Call, int], bool], reason: str) -> Policy:
    def policy(call: Call, before: int) -> SendFailed | None:
        return SendFailed(reason, permanent=False) if until(call, before) else None

    return policy


# --- on time -----------------------------------------------------------------------------------


async def test_a_reminder_goes_out_at_its_due_time_and_not_before(harness: Harness) -> None:
    h = harness
    await plan_atelier(h, D1_DUE - seconds(10), dm_on=1, dm_off=1)
    rappel_id = await h.planned_id(RappelKind.RAPPEL, D1)
    overdue = await h.start_up()
    assert (overdue.late, overdue.missed) == ((), ())
    # Only the row due within the horizon is in the scheduler, at its due time.
    assert h.scheduler.job_ids("reminder:") == [job_id(rappel_id)]
    assert h.scheduler.next_run(job_id(rappel_id)) == D1_DUE

    await h.advance_to(D1_DUE - STEP)
    assert h.transport.calls == []
    assert (await h.rappel(rappel_id)).status == RappelStatus.PLANNED

    await h.advance_to(D1_DUE)
    on, _off = h.membres
    assert [(c.at, c.rappel_id, c.target, c.nonce) for c in h.transport.calls] == [
        (D1_DUE, rappel_id, CHANNEL, plan.nonce(rappel_id, None, D1_DUE)),
        (D1_DUE, rappel_id, f"dm:{on}", plan.nonce(rappel_id, on, D1_DUE)),
    ]
    row = await h.rappel(rappel_id)
    assert (row.status, row.sent_at, row.error, row.late) == (
        RappelStatus.SENT,
        D1_DUE,
        None,
        False,
    )
    message_ids = {c.delivery_id: m for c, m in h.transport.sent}
    assert [
        (d.target, d.status, d.attempts, d.message_id, d.sent_at, d.error)
        for d in await h.livraisons(rappel_id)
    ] == [
        (
            CHANNEL,
            DeliveryStatus.SENT,
            1,
            message_ids[h.transport.calls[0].delivery_id],
            D1_DUE,
            None,
        ),
        (
            f"dm:{on}",
            DeliveryStatus.SENT,
            1,
            message_ids[h.transport.calls[1].delivery_id],
            D1_DUE,
            None,
        ),
    ]
    # Nothing more: no job left for it, and a minute later still the same two calls.
    assert h.scheduler.job_ids("reminder:") == []
    await h.advance_to(D1_DUE + seconds(60), step=seconds(5))
    assert len(h.transport.calls) == 2


async def test_a_reminder_with_its_channel_post_only_is_two_transactions(
    harness: Harness, engine: AsyncEngine
) -> None:
    """Claim, create the deliveries and take the channel post in one transaction; record the
    post and close the row in a second (the burst of a minute's reminders is bound by these)."""
    h = harness
    await plan_atelier(h, D1_DUE - seconds(10), dm_off=1)
    rappel_id = await h.planned_id(RappelKind.RAPPEL, D1)
    await h.start_up()
    await h.advance_to(D1_DUE - STEP)
    commits: list[object] = []
    commit = commits.append
    event.listen(engine.sync_engine, "commit", commit)
    try:
        with statements(engine) as seen:
            await h.advance_to(D1_DUE)
    finally:
        event.remove(engine.sync_engine, "commit", commit)
    assert [c.target for c in h.transport.calls] == [CHANNEL]
    assert (await h.rappel(rappel_id)).status == RappelStatus.SENT
    ((channel,),) = [await h.livraisons(rappel_id)]
    assert (channel.status, channel.attempts) == (DeliveryStatus.SENT, 1)
    # The claim; the séance, atelier and rappel; the atelier's séances and counts; who is
    # expected; the deliveries written, closed, taken and read. Then the post and the row.
    assert len(queries(seen)) == 12, seen
    assert [s.split(None, 1)[0] for s in queries(seen)[-2:]] == ["UPDATE", "UPDATE"]
    assert len(commits) == 2


# --- transient failures ------------------------------------------------------------------------


async def test_transient_failures_are_retried_on_the_back_off_schedule(harness: Harness) -> None:
    h = harness
    h.transport.policy = fail_while(lambda call, before: before < 8, "429 Too Many Requests")
    await plan_atelier(h, D1_DUE - seconds(10))
    rappel_id = await h.planned_id(RappelKind.RAPPEL, D1)
    await h.start_up()
    await h.advance_to(D1_DUE + seconds(30))

    # 1 s after the first failure, then every 2 s; the ninth attempt goes through.
    offsets = [(t - D1_DUE).total_seconds() for t in h.transport.times(rappel_id)]
    assert offsets == [0, 1, 3, 5, 7, 9, 11, 13, 15]
    assert len(h.transport.calls) == 9
    assert h.transport.times(rappel_id)[-1] - h.transport.times(rappel_id)[-2] <= seconds(2)
    assert {c.nonce for c in h.transport.calls} == {plan.nonce(rappel_id, None, D1_DUE)}
    assert [(c.at, c.target) for c, _ in h.transport.sent] == [(D1_DUE + seconds(15), CHANNEL)]
    (channel,) = await h.livraisons(rappel_id)
    assert (channel.status, channel.attempts, channel.error, channel.sent_at) == (
        DeliveryStatus.SENT,
        9,
        None,
        D1_DUE + seconds(15),
    )
    assert channel.message_id == h.transport.sent[0][1]
    row = await h.rappel(rappel_id)
    assert (row.status, row.sent_at) == (RappelStatus.SENT, D1_DUE + seconds(15))
    assert h.scheduler.job_ids("reminder:") == []


async def test_a_reminder_arrives_within_seconds_of_an_outage_ending(harness: Harness) -> None:
    h = harness
    outage_end = D1_DUE + seconds(40)
    h.transport.policy = fail_while(lambda call, before: call.at < outage_end, "502 Bad Gateway")
    await plan_atelier(h, D1_DUE - seconds(10), dm_on=1)
    rappel_id = await h.planned_id(RappelKind.RAPPEL, D1)
    (membre,) = h.membres
    await h.start_up()
    await h.advance_to(D1_DUE + seconds(90))

    sent = {c.target: c.at for c, _ in h.transport.sent}
    assert sent == {CHANNEL: D1_DUE + seconds(41), f"dm:{membre}": D1_DUE + seconds(41)}
    assert all(outage_end <= at <= outage_end + seconds(5) for at in sent.values())
    for target in (CHANNEL, f"dm:{membre}"):
        offsets = [(t - D1_DUE).total_seconds() for t in h.transport.times(rappel_id, target)]
        assert offsets == [0, *range(1, 42, 2)]  # 21 failures, then the 22nd attempt
    assert [(d.status, d.attempts, d.error) for d in await h.livraisons(rappel_id)] == [
        (DeliveryStatus.SENT, 22, None),
        (DeliveryStatus.SENT, 22, None),
    ]
    assert (await h.rappel(rappel_id)).status == RappelStatus.SENT


# --- permanent failures ------------------------------------------------------------------------


async def test_permanent_failures_are_not_retried_and_closed_dms_turn_dms_off(
    harness: Harness,
) -> None:
    h = harness
    closed = "403 50007: Cannot send messages to this user"

    def policy(call: Call, before: int) -> SendFailed | None:
        if call.target == CHANNEL:
            return SendFailed("403 50001: Missing Access", permanent=True)
        return SendFailed(closed, permanent=True, dm_closed=True)

    h.transport.policy = policy
    await plan_atelier(h, D1_DUE - seconds(10), dm_on=1)
    rappel_id = await h.planned_id(RappelKind.RAPPEL, D1)
    (membre,) = h.membres
    await h.start_up()
    await h.advance_to(D1_DUE + seconds(60))

    assert [(c.at, c.target) for c in h.transport.calls] == [
        (D1_DUE, CHANNEL),
        (D1_DUE, f"dm:{membre}"),
    ]
    assert h.transport.sent == []
    assert h.transport.told == [(rappel_id, membre)]
    assert [(d.target, d.status, d.attempts, d.error) for d in await h.livraisons(rappel_id)] == [
        (CHANNEL, DeliveryStatus.FAILED, 1, "403 50001: Missing Access"),
        (f"dm:{membre}", DeliveryStatus.FAILED, 1, closed),
    ]
    row = await h.rappel(rappel_id)
    assert (row.status, row.error, row.sent_at) == (
        RappelStatus.FAILED,
        "403 50001: Missing Access",
        None,
    )
    async with h.sessions() as s:
        assert (await s.get(Membre, membre)).dm_reminders is False  # type: ignore[union-attr]
    assert h.scheduler.job_ids("reminder:") == []


# --- the deadline ------------------------------------------------------------------------------


async def test_a_job_firing_after_the_seance_began_sends_nothing(harness: Harness) -> None:
    h = harness
    await plan_atelier(h, H1_DUE - seconds(10))
    rappel_id = await h.planned_id(RappelKind.RAPPEL, H1)
    await h.start_up()
    assert h.scheduler.next_run(job_id(rappel_id)) == H1_DUE
    # The machine was suspended: the clock jumps past the séance's start in one go.
    await h.advance_to(START + seconds(1), step=START + seconds(1) - h.clock.now())
    assert h.transport.calls == []
    row = await h.rappel(rappel_id)
    assert (row.status, row.error, row.sent_at) == (RappelStatus.MISSED, TOO_LATE, None)
    assert await h.livraisons(rappel_id) == []
    assert h.scheduler.job_ids("reminder:") == []


@pytest.mark.parametrize("recovery", [seconds(5), None], ids=["fault-ends-after-start", "never"])
async def test_no_retry_once_the_seance_has_begun(
    harness: Harness, recovery: timedelta | None
) -> None:
    h = harness
    h.transport.policy = fail_while(
        lambda call, before: recovery is None or call.at < START + recovery, "502 Bad Gateway"
    )
    await plan_atelier(h, D1_DUE - seconds(10))
    rappel_id = await h.planned_id(RappelKind.RAPPEL, H1)
    # The bot was down; it starts 10 s before the séance: the hour-before reminder goes out late.
    # (The "ça commence" due at the start is scheduled too: its deadline is 15 min later.)
    h.clock.set(START - seconds(10))
    overdue = await h.start_up()
    assert [p.id for p in overdue.late] == [rappel_id]
    await h.advance_to(START + seconds(90))

    # Attempts until the séance begins, none after; nothing delivered late.
    offsets = [(t - START).total_seconds() for t in h.transport.times(rappel_id)]
    assert offsets == [-10, -9, -7, -5, -3, -1]
    assert [c for c, _ in h.transport.sent if c.rappel_id == rappel_id] == []
    row = await h.rappel(rappel_id)
    assert row.status in (RappelStatus.FAILED, RappelStatus.MISSED)
    assert row.sent_at is None
    (channel,) = await h.livraisons(rappel_id)
    assert channel.status == DeliveryStatus.FAILED
    assert h.scheduler.job_ids("reminder:") == []
