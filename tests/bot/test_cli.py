"""The command line as COMMANDS.md describes it."""

from __future__ import annotations

import argparse
import gettext
import os
import subprocess
from pathlib import Path

import pytest

from partage.cli import main
from tests.cliutil import run_cli
from tests.french import fr

ROOT = Path(__file__).resolve().parents[2]
PROGRAMME = ROOT / "data" / "programme-operation-partage.toml"


def run(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command line on this test's own SQLite database unless ``env`` names another."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    return run_cli(*args, cwd=tmp_path, **{"PARTAGE_DATABASE__URL": url, **env})


def test_run_without_token_explains_how_to_get_one(tmp_path: Path) -> None:
    result = run("run", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "discord.token" in result.stderr
    assert "discord.com/developers/applications" in result.stderr
    assert "DISCORD_TOKEN" in result.stderr


def test_bad_config_value_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[reminders]\noffsets = ["7d", "1x"]\n', encoding="utf-8")
    result = run("run", "--config", str(config), tmp_path=tmp_path, DISCORD_TOKEN="x" * 60)
    assert result.returncode != 0
    assert "reminders.offsets" in result.stderr
    assert "x" * 60 not in result.stderr + result.stdout


def test_bad_env_value_names_key_and_variable(tmp_path: Path) -> None:
    result = run("check", tmp_path=tmp_path, PARTAGE_TIME__TIMEZONE="Mars/Olympus")
    assert result.returncode == 2
    assert result.stderr.strip() == fr(
        "configuration : time.timezone : un fuseau horaire IANA est attendu, comme "
        "« America/Toronto » (valeur reçue : « Mars/Olympus ») (variable PARTAGE_TIME__TIMEZONE)"
    )


def test_config_errors_in_english_with_lang_en(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[time]\ntimezone = "Mars/Olympus"\n[reminders]\nofsets = []\n')
    result = run("check", "--lang", "en", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        'config: time.timezone: expected an IANA time zone such as "America/Toronto" '
        '(got "Mars/Olympus") (in config.toml)',
        'config: reminders.ofsets: unknown key (did you mean "offsets"?) (in config.toml)',
    ]


def test_argparse_speaks_french_by_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "fr_CA.UTF-8")
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith(fr("utilisation : python -m bot [-h] [--lang {fr,en}] COMMANDE"))
    assert fr("arguments positionnels :") in help_text and fr("options :") in help_text
    assert "afficher cette aide et quitter" in help_text
    assert "lancer le bot (applique d'abord les migrations)" in help_text
    assert "usage" not in help_text and "show this help" not in help_text

    with pytest.raises(SystemExit) as done:
        main(["chek"])
    assert done.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == fr(
        "python -m bot : erreur : argument COMMANDE : choix invalide : 'chek' (choisissez "
        "parmi 'run', 'check', 'import', 'backup', 'restore', 'db')"
    )
    for argv, line in [
        ([], "python -m bot : erreur : ces arguments sont obligatoires : COMMANDE"),
        (["check", "--bogus"], "python -m bot : erreur : arguments inconnus : --bogus"),
        (["import"], "python -m bot import : erreur : ces arguments sont obligatoires : FICHIER"),
    ]:
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1] == fr(line)
    # argparse's own functions are put back: nothing else in the process speaks French.
    assert argparse._ is gettext.gettext and argparse.ngettext is gettext.ngettext


@pytest.mark.parametrize(
    ("argv", "lang"),
    [
        (["--lang", "en", "--help"], "fr_CA.UTF-8"),
        (["run", "--lang=en", "--help"], ""),
        (["--help"], "en_CA.UTF-8"),
    ],
)
def test_argparse_speaks_english_when_asked(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    lang: str,
) -> None:
    monkeypatch.setenv("LANG", lang)
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith("usage: python -m bot")
    assert "options:" in help_text and "show this help message and exit" in help_text
    assert "utilisation" not in help_text and "fichier" not in help_text


def test_argparse_error_in_english_on_the_command_line(tmp_path: Path) -> None:
    result = run("import", "--guild", "x", "f.csv", tmp_path=tmp_path, LANG="en_US.UTF-8")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "python -m bot import: error: argument --guild: invalid int value: 'x'"
    )


def test_check_changes_nothing_and_calls_migrations_information(tmp_path: Path) -> None:
    token = "T" * 24 + "." + "a" * 6 + "." + "b" * 27
    first = run("check", tmp_path=tmp_path, DISCORD_TOKEN=token)
    assert first.returncode == 0, first.stdout + first.stderr
    assert fr("pas encore créée : « run » la créera") in first.stdout
    assert not (tmp_path / "cli.db").exists()  # check creates nothing
    assert run("db", "upgrade", tmp_path=tmp_path).returncode == 0
    assert run("import", str(PROGRAMME), "--guild", "42", tmp_path=tmp_path).returncode == 0
    second = run("check", tmp_path=tmp_path, DISCORD_TOKEN=token)
    assert second.returncode == 0, second.stdout + second.stderr
    assert fr("jeton : présent") in second.stdout and token not in second.stdout + second.stderr
    assert second.stdout.strip().endswith("Tout est prêt.")
    english = run("check", "--lang", "en", tmp_path=tmp_path)
    assert english.returncode == 1
    assert "token: MISSING" in english.stdout and "1 problem." in english.stdout


@pytest.mark.parametrize(
    ("url", "line"),
    [
        (
            "postgresql+asyncpg://root@127.0.0.1:5432/partage_nexiste_pas",
            "La base PostgreSQL « partage_nexiste_pas » n'existe pas : créez-la "
            "(createdb partage_nexiste_pas) ou corrigez database.url.",
        ),
        (
            "postgresql+asyncpg://root@127.0.0.1:1/test",
            "La base de données ne répond pas à 127.0.0.1:1 : vérifiez que le serveur tourne et "
            "database.url.",
        ),
    ],
)
@pytest.mark.parametrize("command", [("run",), ("db", "upgrade"), ("check",)])
def test_a_database_that_is_missing_or_unreachable_is_one_line(
    tmp_path: Path, url: str, line: str, command: tuple[str, ...]
) -> None:
    if "nexiste" in url and not os.environ.get("PARTAGE_TEST_POSTGRES_URL"):
        pytest.skip("PARTAGE_TEST_POSTGRES_URL is not set: no PostgreSQL server to ask")
    token = "T" * 24 + "." + "a" * 6 + "." + "b" * 27
    result = run(*command, tmp_path=tmp_path, PARTAGE_DATABASE__URL=url, DISCORD_TOKEN=token)
    if command == ("check",):  # check reports it among the rest
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert fr("base injoignable") in result.stdout
        return
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == fr(line)
    assert "Traceback" not in result.stderr


def test_import_history_twice(tmp_path: Path) -> None:
    outputs = [run("import", str(PROGRAMME), "--guild", "42", tmp_path=tmp_path) for _ in range(2)]
    assert [o.returncode for o in outputs] == [0, 0], outputs[0].stderr
    assert "17 créé(s), 0 déjà importé(s), 0 refusé(s)" in outputs[0].stdout
    assert "0 créé(s), 17 déjà importé(s), 0 refusé(s)" in outputs[1].stdout


def test_import_needs_a_guild(tmp_path: Path) -> None:
    result = run("import", str(PROGRAMME), tmp_path=tmp_path)
    assert result.returncode == 2 and "--guild ID" in result.stderr
    assert result.stderr.strip().startswith("Nommez le serveur")
