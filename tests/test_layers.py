"""The layer contracts in ``.importlinter`` classify every module under ``cogs/``: a new module
must be declared a domain module or one feature's Discord adapter, never both, never neither."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DISCORD_IMPORT = re.compile(r"^\s*(import discord|from discord)\b", re.M)


def _contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter", encoding="utf-8")
    return parser


def _modules(value: str) -> set[str]:
    return {line.strip() for line in value.splitlines() if line.strip()}


def _cogs_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted((ROOT / "cogs").glob("*/*.py")):
        name = f"cogs.{path.parent.name}"
        modules[name if path.stem == "__init__" else f"{name}.{path.stem}"] = path
    return modules


def test_every_cogs_module_is_a_domain_module_or_one_features_adapter() -> None:
    contracts = _contracts()
    domain = _modules(
        contracts["importlinter:contract:domain-never-imports-discord"]["source_modules"]
    )
    adapters: dict[str, set[str]] = {}
    for section in contracts.sections():
        if section.startswith("importlinter:contract:adapters-"):
            feature = section.removeprefix("importlinter:contract:adapters-")
            adapters[feature] = _modules(contracts[section]["source_modules"])
    every_adapter = set().union(*adapters.values())
    modules = _cogs_modules()

    assert set(modules) == domain | every_adapter, "classify new modules in .importlinter"
    assert not domain & every_adapter
    for feature, names in adapters.items():
        assert all(name.startswith(f"cogs.{feature}.") for name in names), feature
        others = _modules(
            contracts[f"importlinter:contract:adapters-{feature}"]["forbidden_modules"]
        )
        assert others == every_adapter - names, f"adapters-{feature}: forbid every other adapter"
    # An adapter is an adapter because it speaks to Discord; a domain module never does.
    for name, path in modules.items():
        assert bool(DISCORD_IMPORT.search(path.read_text(encoding="utf-8"))) == (
            name in every_adapter
        ), name


def test_bot_never_imports_the_features() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "bot").rglob("*.py")
        if re.search(r"^\s*(from|import) cogs\b", path.read_text(encoding="utf-8"), re.M)
    ]
    assert offenders == []
