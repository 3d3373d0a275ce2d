"""Bot processes for crash tests: started like production, killed like a crash."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.e2e.harness import TEST_HORIZON_YEARS
from tests.fakediscord import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """``python -m bot run`` (through tests/e2e/child_bot.py) against the fake."""

    def __init__(
        self,
        fake: FakeDiscord,
        env: dict[str, str],
        log_path: Path,
        *,
        module: str = "tests.e2e.child_bot",
    ) -> None:
        self.fake = fake
        self.env = env
        self.log_path = log_path
        #: What runs: Partage by default (the benchmarks also run a trivial reference bot).
        self.module = module
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTAGE_", "DISCORD_"))}
        env.update(self.fake.child_env())
        env["DISCORD_TOKEN"] = self.fake.token
        env["PARTAGE_TIME__HORIZON_YEARS"] = str(TEST_HORIZON_YEARS)
        env["PARTAGE_WEB__PORT"] = "0"  # the site binds a free port
        env.update(self.env)
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            "run",
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        log.close()

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye to the gateway."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def terminate(self, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        """SIGTERM, then the exit code. A process still there after ``timeout`` seconds dumps
        its threads' stacks into its log (``faulthandler`` on SIGUSR1, see child_bot.py), is
        killed, and the test fails with the end of that log."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.send_signal(signal.SIGUSR1)
            await asyncio.sleep(1.0)
            await self.kill()
            raise AssertionError(
                f"the bot did not stop within {timeout:.0f} s of SIGTERM:\n{self.log()[-6000:]}"
            ) from None

    def cpu_seconds(self) -> float:
        """User and system CPU the process used so far (Linux ``/proc``)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
