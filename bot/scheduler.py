"""The in-memory scheduler owned by the bot (APScheduler 3). It is a cache of the database:
whatever is scheduled here is rebuilt from the database at start-up (STYLE.md rule 6)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

JobFunc = Callable[..., Awaitable[Any]]


class Scheduler:
    """Namespaced one-shot and weekly jobs (ids such as ``"reminder:42"``)."""

    def __init__(self, timezone: str = "UTC") -> None:
        self._scheduler = AsyncIOScheduler(
            timezone=timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def start(self) -> None:
        if not self._scheduler.running:
            self._scheduler.start()
            log.info("scheduler started")

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            log.info("scheduler stopped")

    def at(self, job_id: str, when: datetime, func: JobFunc, *args: Any) -> None:
        """Run ``func(*args)`` once at ``when`` (aware); replaces a job with the same id."""
        if when.tzinfo is None:
            raise ValueError("naive datetime given to the scheduler")
        self._scheduler.add_job(
            func, "date", run_date=when, args=args, id=job_id, replace_existing=True
        )

    def weekly(
        self, job_id: str, weekday: int, hour: int, minute: int, zone: str, func: JobFunc
    ) -> None:
        """Run ``func()`` weekly on ``weekday`` (0 = Monday) at a wall-clock time in ``zone``."""
        trigger = CronTrigger(day_of_week=weekday, hour=hour, minute=minute, timezone=zone)
        self._scheduler.add_job(func, trigger, id=job_id, replace_existing=True)

    def every(self, job_id: str, seconds: float, func: JobFunc) -> None:
        self._scheduler.add_job(func, "interval", seconds=seconds, id=job_id, replace_existing=True)

    def cancel(self, job_id: str) -> bool:
        try:
            self._scheduler.remove_job(job_id)
        except JobLookupError:
            return False
        return True

    def cancel_prefix(self, prefix: str) -> int:
        removed = 0
        for job in self._scheduler.get_jobs():
            if job.id.startswith(prefix):
                job.remove()
                removed += 1
        return removed

    def job_ids(self, prefix: str = "") -> list[str]:
        return [job.id for job in self._scheduler.get_jobs() if job.id.startswith(prefix)]

    def next_run(self, job_id: str) -> datetime | None:
        job = self._scheduler.get_job(job_id)
        return job.next_run_time if job else None
