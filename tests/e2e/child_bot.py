"""``python -m bot run`` in a child process, pointed at the fake Discord named in the
environment (the only difference from production: discord.py's three base URLs)."""

from __future__ import annotations

import faulthandler
import signal
import sys

from partage.cli import main
from tests.fakediscord import install_from_env

if __name__ == "__main__":
    # A test that waits too long for this process to stop asks it where it is stuck.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    if not install_from_env():
        sys.exit("child_bot: no fake Discord in the environment")
    sys.exit(main(sys.argv[1:] or ["run"]))
