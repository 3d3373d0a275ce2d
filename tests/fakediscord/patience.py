"""How long a test waits for something the bot will do.

A test's own timeout says how soon the thing is expected on a quiet machine; on a loaded one (CI
beside other jobs, several test workers on two cores) the same work can take several times as
long. A wait that succeeds returns as soon as its condition holds, so a generous floor costs
nothing to a passing test and keeps a slow machine from failing it. Assertions on timing measure
time themselves and do not rely on these waits. ``PARTAGE_TEST_WAIT_FLOOR`` (seconds) changes the
floor.
"""

from __future__ import annotations

import os

WAIT_FLOOR = float(os.environ.get("PARTAGE_TEST_WAIT_FLOOR", "30"))


def patient(timeout: float) -> float:
    """``timeout``, or the floor when that is longer."""
    return max(timeout, WAIT_FLOOR)
