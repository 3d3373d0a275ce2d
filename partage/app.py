"""Building the bot exactly as production does (``python -m bot run``; the end-to-end tests
and benchmarks use the same function)."""

from __future__ import annotations

from typing import Any

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.core import PartageBot
from db.session import create_engine, session_factory
from partage.compose import EXTENSIONS, build_services, worker_name


def build_bot(settings: Settings, *, clock: Clock | None = None, **options: Any) -> PartageBot:
    """The production bot: one engine, one session factory, one clock, every service built
    once by the composition root. Tests pass only what the fake Discord needs (a clock, a
    shorter ``guild_ready_timeout``)."""
    clock = clock or SystemClock()
    engine = create_engine(settings.database.url)
    sessions = session_factory(engine)
    worker = worker_name()
    services = build_services(settings, sessions, clock, worker=worker)
    return PartageBot(
        settings,
        services=services,
        sessions=sessions,
        engine=engine,
        extensions=EXTENSIONS,
        worker=worker,
        clock=clock,
        **options,
    )
