"""The wheel holds everything the bot needs beyond its Python files (catalogs, migrations, the
list of municipality spellings): built, installed on its own into a folder, it migrates a
database and passes ``check``, without this checkout on its path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=180, **kwargs)  # type: ignore[call-overload]


def test_the_installed_wheel_migrates_and_checks(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building in the checkout would leave build/ there
    for name in ("bot", "cogs", "db", "partage"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ]
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("partage-*.whl")
    site = tmp_path / "site"
    installed = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ]
    )
    assert installed.returncode == 0, installed.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTAGE_", "DISCORD_"))}
    env |= {
        "PYTHONPATH": str(site),
        "PARTAGE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'data' / 'partage.db'}",
        "DISCORD_TOKEN": "T" * 24 + "." + "a" * 6 + "." + "b" * 27,
        "LANG": "C.UTF-8",
    }
    where = _run(
        [sys.executable, "-c", "import bot, cogs; print(bot.__file__)"], cwd=tmp_path, env=env
    )
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr
    upgrade = _run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=tmp_path, env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    check = _run([sys.executable, "-m", "bot", "check"], cwd=tmp_path, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip().endswith("Tout est prêt.")
    spelling = _run(
        [
            sys.executable,
            "-c",
            "from cogs.membres.noms import normalize_municipalite as n; print(n('montreal'))",
        ],
        cwd=tmp_path,
        env=env,
    )
    assert spelling.stdout.strip() == "Montréal", spelling.stderr
