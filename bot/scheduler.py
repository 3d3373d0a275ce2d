"""The in-memory scheduler owned by the bot. It is a cache of the database: whatever is
scheduled here is rebuilt from the database at start-up (STYLE.md rule 6).

It runs on the injected clock (``bot.clock``), so tests move time with a ``ManualClock`` instead
of waiting for it. When a job fires is computed by APScheduler 3's triggers (date, interval,
cron with time zones and DST); the loop that waits for the next one is ours, because
APScheduler 3's schedulers read the wall clock themselves. Semantics are APScheduler's with
``coalesce=True, max_instances=1, misfire_grace_time=None``: a job that is late runs once, as
soon as possible; a job still running when it is due again skips that run."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock, SystemClock
from bot.tasks import TaskGroup

log = logging.getLogger(__name__)

JobFunc = Callable[..., Awaitable[Any]]

#: The longest single wait: the loop looks at the clock again at least this often (a wall
#: clock stepped by NTP, a suspended machine).
MAX_WAIT = 30.0


@dataclass(eq=False)
class _Job:
    id: str
    trigger: BaseTrigger
    func: JobFunc
    args: tuple[Any, ...]
    next_run: datetime
    running: asyncio.Task[None] | None = field(default=None, repr=False)


class Scheduler:
    """Namespaced one-shot, interval and weekly jobs (ids such as ``"reminder:42"``)."""

    def __init__(
        self, timezone: str = "UTC", *, clock: Clock | None = None, tasks: TaskGroup | None = None
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        #: Where runs are spawned: the bot's task group, which its close drains.
        self.tasks = tasks or TaskGroup()
        self.zone = ZoneInfo(timezone)
        self._jobs: dict[str, _Job] = {}
        self._changed = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    def start(self) -> None:
        """Start waiting for jobs (in the running event loop)."""
        if not self.running:
            self._loop_task = asyncio.get_running_loop().create_task(self._run(), name="scheduler")
            log.info("scheduler started")

    def shutdown(self) -> None:
        """Stop firing jobs; runs already started finish on their own."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            self._loop_task = None
            log.info("scheduler stopped")

    # --- adding and removing jobs --------------------------------------------------------------

    def at(self, job_id: str, when: datetime, func: JobFunc, *args: Any) -> None:
        """Run ``func(*args)`` once at ``when`` (aware); replaces a job with the same id."""
        if when.tzinfo is None:
            raise ValueError("naive datetime given to the scheduler")
        self._add(job_id, DateTrigger(run_date=when), func, args)

    def weekly(
        self, job_id: str, weekday: int, hour: int, minute: int, zone: str, func: JobFunc
    ) -> None:
        """Run ``func()`` weekly on ``weekday`` (0 = Monday) at a wall-clock time in ``zone``."""
        trigger = CronTrigger(day_of_week=weekday, hour=hour, minute=minute, timezone=zone)
        self._add(job_id, trigger, func, ())

    def every(self, job_id: str, seconds: float, func: JobFunc) -> None:
        """Run ``func()`` every ``seconds``, the first time ``seconds`` from now."""
        first = self.clock.now() + timedelta(seconds=seconds)
        trigger = IntervalTrigger(seconds=seconds, start_date=first, timezone=self.zone)
        self._add(job_id, trigger, func, ())

    def _add(self, job_id: str, trigger: BaseTrigger, func: JobFunc, args: tuple[Any, ...]) -> None:
        first = trigger.get_next_fire_time(None, self.clock.now().astimezone(self.zone))
        if first is None:
            self.cancel(job_id)
            return
        previous = self._jobs.get(job_id)
        job = _Job(job_id, trigger, func, args, first)
        if previous is not None:
            job.running = previous.running  # a replaced job still runs one at a time
        self._jobs[job_id] = job
        self._changed.set()

    def cancel(self, job_id: str) -> bool:
        if self._jobs.pop(job_id, None) is None:
            return False
        self._changed.set()
        return True

    def cancel_prefix(self, prefix: str) -> int:
        ids = [job_id for job_id in self._jobs if job_id.startswith(prefix)]
        for job_id in ids:
            del self._jobs[job_id]
        if ids:
            self._changed.set()
        return len(ids)

    def job_ids(self, prefix: str = "") -> list[str]:
        return [job_id for job_id in self._jobs if job_id.startswith(prefix)]

    def next_run(self, job_id: str) -> datetime | None:
        job = self._jobs.get(job_id)
        return job.next_run if job else None

    # --- the loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            self.fire_due()
            upcoming = min((job.next_run for job in self._jobs.values()), default=None)
            if upcoming is None:
                await self._changed.wait()
                continue
            delay = (upcoming - self.clock.now()).total_seconds()
            if delay <= 0:
                await asyncio.sleep(0)
                continue
            sleeper = asyncio.ensure_future(self.clock.sleep(min(delay, MAX_WAIT)))
            changed = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                changed.cancel()

    def fire_due(self) -> int:
        """Start every job due by the clock's now; returns how many were started."""
        now = self.clock.now().astimezone(self.zone)
        due = sorted(
            (job for job in self._jobs.values() if job.next_run <= now), key=lambda j: j.next_run
        )
        started = 0
        for job in due:
            if job.running is not None and not job.running.done():
                log.warning("job %s still running at its next run time: run skipped", job.id)
            else:
                job.running = self.tasks.spawn(self._call(job), name=f"job:{job.id}")
                started += 1
            following = job.trigger.get_next_fire_time(job.next_run, now)
            while following is not None and following <= now:  # coalesce missed runs
                following = job.trigger.get_next_fire_time(following, now)
            if following is None:
                if self._jobs.get(job.id) is job:
                    del self._jobs[job.id]
            else:
                job.next_run = following
        return started

    @staticmethod
    async def _call(job: _Job) -> None:
        try:
            result = job.func(*job.args)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("job %s raised", job.id)
