"""The systemd unit in deploy/ is valid for systemd (``systemd-analyze verify``, when the tool
is present), restarts after a crash but not after a configuration error, runs unprivileged and
keeps the token out of the unit."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "partage.service"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNIT, encoding="utf-8")
    return parser


def test_the_unit_says_what_an_operator_expects() -> None:
    service = _unit()["Service"]
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"  # a configuration error needs a person
    assert service["User"] == "partage" and service["NoNewPrivileges"] == "yes"
    assert service["EnvironmentFile"].startswith("/etc/partage/")
    assert "-m bot run" in service["ExecStart"]
    assert "TOKEN" not in UNIT.read_text(encoding="utf-8").split("[Unit]")[1]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is absent")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """The unit as installed, with this checkout's interpreter in place of /opt/partage's."""
    text = UNIT.read_text(encoding="utf-8").replace("/opt/partage/.venv/bin/python", sys.executable)
    unit = tmp_path / "partage.service"
    unit.write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in done.stderr.splitlines() if str(unit) in line or "partage" in line]
    assert done.returncode == 0 and problems == [], done.stderr
