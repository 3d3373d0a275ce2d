"""Loading, validating and protecting the configuration (bot/config.py)."""

from __future__ import annotations

import re
import tomllib
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from bot import logsetup
from bot.config import (
    ConfigError,
    Settings,
    WeeklyTime,
    format_duration,
    load_settings,
    parse_duration,
)
from bot.i18n import I18n, Translations
from tests.french import fr

ENGLISH: Translations = I18n.load().for_locale("en")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"
TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0MzI.GaBcDe.abcdefghijklmnopqrstuvwxyz0123"
OTHER_TOKEN = "OTk5ODc2NTQzMjEwOTg3NjU0MzI.GzYxWv.zyxwvutsrqponmlkjihgfedcba9876"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ./config.toml from the checkout, no secret registered by an earlier test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(logsetup, "_secrets", frozenset())


def write(tmp_path: Path, text: str, name: str = "partage.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None, environ: dict[str, str] | None = None) -> str:
    """The problems as the French command line says them (also ``str()``)."""
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ=environ or {})
    return str(info.value)


def config_error_en(path: Path | None, environ: dict[str, str] | None = None) -> str:
    """The problems as the command line says them in English."""
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ=environ or {})
    return info.value.render(ENGLISH)


# ---------------------------------------------------------------------------------------------
# Defaults and sources
# ---------------------------------------------------------------------------------------------


def test_defaults_without_a_file() -> None:
    settings = load_settings(environ={})

    assert settings.source_path is None
    assert not settings.has_token
    assert settings.token_value() is None
    assert settings.discord.guild_id is None
    assert settings.discord.staff_role == "Équipe d'animation"
    assert settings.discord.staff_role_id is None
    assert settings.database.url == "sqlite+aiosqlite:///data/partage.db"
    assert settings.time.timezone == "America/Toronto"
    assert settings.time.zone == ZoneInfo("America/Toronto")
    assert settings.reminders.offsets == (timedelta(days=7), timedelta(days=1), timedelta(hours=1))
    assert settings.reminders.offset_texts == ("7d", "1d", "1h")
    assert settings.reminders.digest == WeeklyTime(0, time(8, 30))
    assert settings.reminders.digest_channel is None
    assert settings.reminders.dm_retry_attempts == 30
    assert settings.logging.level == "INFO"
    assert settings.privacy.retention_months == 24
    assert settings.privacy.departure_grace_days == 30
    assert settings.jumelage.cadence_days == 14
    assert settings.jumelage.checkin_days == 7
    assert [c.slug for c in settings.chantiers] == [
        "gouvernance",
        "accueil-integration",
        "strategies-intervention",
    ]
    assert all(c.nom and c.description and c.emoji for c in settings.chantiers)
    assert settings.chantier("gouvernance") is settings.chantiers[0]
    assert settings.chantier("inconnu") is None


def test_config_toml_in_working_directory_is_read(tmp_path: Path) -> None:
    write(tmp_path, '[time]\ntimezone = "America/Vancouver"\n', name="config.toml")

    settings = load_settings(environ={})

    assert settings.time.zone == ZoneInfo("America/Vancouver")
    assert settings.source_path == Path("config.toml")


def test_a_given_path_must_exist(tmp_path: Path) -> None:
    message = config_error(tmp_path / "absent.toml")
    english = config_error_en(tmp_path / "absent.toml")

    assert message == fr(f"configuration : fichier introuvable : {tmp_path / 'absent.toml'}")
    assert english == f"config: file not found: {tmp_path / 'absent.toml'}"


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    assert config_error(tmp_path) == fr(f"configuration : {tmp_path} n'est pas un fichier")
    assert config_error_en(tmp_path) == f"config: {tmp_path} is not a file"


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[discord]\nstaff_role = "Équipe"\n'.encode("latin-1"))

    assert config_error(path) == fr(f"configuration : {path} n'est pas du texte UTF-8")
    assert config_error_en(path) == f"config: {path} is not UTF-8 text"


def test_toml_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[discord]
guild_id = 987654321098765432
staff_role = 112233445566778899

[database]
url = "postgresql+asyncpg://partage:secret@db.example/partage"

[time]
timezone = "America/Montreal"

[reminders]
offsets = ["30m", "2d", "3h"]
digest = "ven 16h45"
digest_channel = "555555555555555555"
dm_retry_attempts = 3

[logging]
level = "debug"

[privacy]
retention_months = 12
departure_grace_days = 0

[jumelage]
cadence_days = 21
checkin_days = 10

[[chantiers]]
slug = "petite-enfance"
nom = "Petite enfance et immigration"
emoji = ""
""",
    )

    settings = load_settings(path, environ={})

    assert settings.source_path == path
    assert settings.discord.guild_id == 987654321098765432
    assert settings.discord.staff_role == "112233445566778899"
    assert settings.discord.staff_role_id == 112233445566778899
    assert settings.database.url == "postgresql+asyncpg://partage:secret@db.example/partage"
    assert settings.time.zone == ZoneInfo("America/Montreal")
    # Stored longest first, and the texts as written follow the same order.
    assert settings.reminders.offsets == (
        timedelta(days=2),
        timedelta(hours=3),
        timedelta(minutes=30),
    )
    assert settings.reminders.offset_texts == ("2d", "3h", "30m")
    assert settings.reminders.digest == WeeklyTime(4, time(16, 45))
    assert str(settings.reminders.digest) == "fri 16:45"
    assert settings.reminders.digest_channel == 555555555555555555
    assert settings.reminders.dm_retry_attempts == 3
    assert settings.logging.level == "DEBUG"
    assert settings.privacy.retention_months == 12
    assert settings.privacy.departure_grace_days == 0
    assert settings.jumelage.cadence_days == 21
    assert settings.jumelage.checkin_days == 10
    assert len(settings.chantiers) == 1
    chantier = settings.chantiers[0]
    assert (chantier.slug, chantier.nom, chantier.description, chantier.emoji) == (
        "petite-enfance",
        "Petite enfance et immigration",
        "",
        "",
    )


def test_empty_digest_turns_it_off(tmp_path: Path) -> None:
    path = write(tmp_path, '[reminders]\ndigest = ""\n')

    assert load_settings(path, environ={}).reminders.digest is None


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[database]\nurl = "sqlite+aiosqlite:///from-file.db"\n'
        '[reminders]\noffsets = ["7d"]\ndigest = "tue 09:00"\n',
    )
    environ = {
        "PARTAGE_DATABASE__URL": "postgresql+asyncpg://u@localhost/partage",
        "PARTAGE_REMINDERS__OFFSETS": '["1h", "1d"]',
    }

    settings = load_settings(path, environ=environ)

    assert settings.database.url == "postgresql+asyncpg://u@localhost/partage"
    assert settings.reminders.offsets == (timedelta(days=1), timedelta(hours=1))
    assert settings.reminders.offset_texts == ("1d", "1h")
    # The rest of the section still comes from the file.
    assert settings.reminders.digest == WeeklyTime(1, time(9, 0))


def test_environment_accepts_comma_separated_offsets_and_lowercase_names() -> None:
    settings = load_settings(
        environ={"partage_reminders__offsets": "15m, 2h", "PARTAGE_LOGGING__LEVEL": "warning"}
    )

    assert settings.reminders.offsets == (timedelta(hours=2), timedelta(minutes=15))
    assert settings.logging.level == "WARNING"


def test_environment_sets_the_chantiers_as_json() -> None:
    settings = load_settings(
        environ={"PARTAGE_CHANTIERS": '[{"slug": "territoire", "nom": "Territoire"}]'}
    )

    assert [c.slug for c in settings.chantiers] == ["territoire"]


def test_unrelated_partage_variables_are_ignored() -> None:
    settings = load_settings(
        environ={"PARTAGE_TEST_POSTGRES_URL": "postgresql+asyncpg://x@y/z", "PATH": "/usr/bin"}
    )

    assert settings.database.url == "sqlite+aiosqlite:///data/partage.db"


def test_load_settings_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTAGE_PRIVACY__RETENTION_MONTHS", "6")

    assert load_settings().privacy.retention_months == 6


def test_settings_built_directly_read_neither_environment_nor_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PARTAGE_PRIVACY__RETENTION_MONTHS", "6")
    write(tmp_path, "[privacy]\nretention_months = 7\n", name="config.toml")

    settings = Settings(jumelage={"cadence_days": 30})

    assert settings.privacy.retention_months == 24
    assert settings.jumelage.cadence_days == 30


def test_discord_token_wins_over_everything(tmp_path: Path) -> None:
    path = write(tmp_path, f'[discord]\ntoken = "{OTHER_TOKEN}"\n')
    from_file = load_settings(path, environ={})
    from_partage = load_settings(path, environ={"PARTAGE_DISCORD__TOKEN": "partage.env.value"})
    from_discord = load_settings(
        path, environ={"PARTAGE_DISCORD__TOKEN": "partage.env.value", "DISCORD_TOKEN": TOKEN}
    )
    empty_discord = load_settings(path, environ={"DISCORD_TOKEN": "  "})

    assert from_file.token_value() == OTHER_TOKEN
    assert from_partage.token_value() == "partage.env.value"
    assert from_discord.token_value() == TOKEN
    assert from_discord.require_token() == TOKEN
    assert from_discord.has_token
    assert empty_discord.token_value() == OTHER_TOKEN


def test_require_token_explains_how_to_get_one() -> None:
    settings = load_settings(environ={})

    with pytest.raises(ConfigError) as info:
        settings.require_token()
    french, english = str(info.value), info.value.render(ENGLISH)

    assert french.startswith(
        fr("configuration : discord.token : aucun jeton de bot n'est défini : créez une ")
    )
    assert english.startswith("config: discord.token: no bot token is set: create an ")
    for text in (french, english):
        assert "DISCORD_TOKEN" in text
        assert "https://discord.com/developers/applications" in text


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})

    with pytest.raises(ValueError, match="frozen"):
        settings.time = settings.time  # type: ignore[misc]


def test_durations_round_trip() -> None:
    assert parse_duration("45s") == timedelta(seconds=45)
    assert parse_duration(" 2 H ") == timedelta(hours=2)
    assert format_duration(timedelta(hours=24)) == "1d"
    assert format_duration(timedelta(minutes=90)) == "90m"
    assert format_duration(timedelta(seconds=61)) == "61s"


# ---------------------------------------------------------------------------------------------
# Bad values: refused with the key named
# ---------------------------------------------------------------------------------------------

BAD_VALUES = [
    pytest.param('[time]\ntimezone = "Mars/Olympus_Mons"\n', "time.timezone", id="zone"),
    pytest.param('[reminders]\noffsets = ["1d", "7x"]\n', "reminders.offsets[1]", id="offset"),
    pytest.param('[reminders]\noffsets = ["0m"]\n', "reminders.offsets[0]", id="zero-offset"),
    pytest.param('[reminders]\noffsets = ["1d", "24h"]\n', "reminders.offsets", id="dup-offset"),
    pytest.param("[discord]\nguild_id = -42\n", "discord.guild_id", id="negative-guild"),
    pytest.param('[reminders]\nofsets = ["1d"]\n', "reminders.ofsets", id="unknown-key"),
    pytest.param("[remiders]\ndigest = ''\n", "remiders", id="unknown-section"),
    pytest.param(
        '[database]\nurl = "postgresql://partage@db/partage"\n', "database.url", id="sync-driver"
    ),
    pytest.param('[database]\nurl = "not a url"\n', "database.url", id="not-a-url"),
    pytest.param('[reminders]\ndigest = "someday 25:00"\n', "reminders.digest", id="digest"),
    pytest.param('[reminders]\ndigest = "mon 25:00"\n', "reminders.digest", id="digest-hour"),
    pytest.param(
        '[[chantiers]]\nslug = "a"\nnom = "A"\n[[chantiers]]\nslug = "a"\nnom = "B"\n',
        "chantiers",
        id="duplicate-slug",
    ),
    pytest.param('[[chantiers]]\nslug = "Accueil"\nnom = "A"\n', "chantiers[0].slug", id="slug"),
    pytest.param('[[chantiers]]\nslug = "a"\n', "chantiers[0].nom", id="missing-nom"),
    pytest.param('[logging]\nlevel = "TRACE"\n', "logging.level", id="level"),
    pytest.param("[privacy]\nretention_months = 0\n", "privacy.retention_months", id="months"),
    pytest.param("[privacy]\nretention_months = true\n", "privacy.retention_months", id="bool"),
    pytest.param("[reminders]\ndm_retry_attempts = 101\n", "reminders.dm_retry_attempts", id="dm"),
    pytest.param("[jumelage]\ncadence_days = 5\n", "jumelage.checkin_days", id="checkin"),
    pytest.param('discord = "x"\n', "discord", id="section-not-a-table"),
    pytest.param("[processes]\nlease_seconds = 0.5\n", "processes.lease_seconds", id="lease-short"),
    pytest.param(
        '[processes]\nlease_seconds = "15s"\n', "processes.lease_seconds", id="lease-text"
    ),
    pytest.param("[processes]\nlease_seconds = true\n", "processes.lease_seconds", id="lease-bool"),
    pytest.param('[processes]\nstandby = "maybe"\n', "processes.standby", id="standby"),
    pytest.param("[processes]\nshard_id = -1\n", "processes.shard_id", id="shard-negative"),
    pytest.param("[processes]\nshard_count = 0\n", "processes.shard_count", id="shard-count"),
    pytest.param(
        "[processes]\nshard_id = 2\nshard_count = 2\n", "processes.shard_id", id="shard-too-big"
    ),
]


@pytest.mark.parametrize(("toml", "key"), BAD_VALUES)
def test_bad_value_names_the_key(tmp_path: Path, toml: str, key: str) -> None:
    path = write(tmp_path, toml)
    message = config_error(path)
    english = config_error_en(path)

    assert message.startswith(fr(f"configuration : {key} : ")), message
    assert re.search(r"attendu|inconnue|absente|obligatoire|en double", message), message
    assert not re.search(r"expected|unknown|missing|duplicate|Input should", message), message
    assert message.endswith(fr(f" (fichier {path})"))
    assert english.startswith(f"config: {key}: "), english
    assert re.search(r"expected|unknown|missing|duplicate|required", english), english
    assert english.endswith(f" (in {path})")


def test_bad_offset_message_shows_the_expected_form_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, '[reminders]\noffsets = ["7d", "abc"]\n')

    assert config_error(path) == fr(
        "configuration : reminders.offsets[1] : une durée est attendue, comme « 7d », « 1h » "
        f"ou « 30m » (valeur reçue : « abc ») (fichier {path})"
    )
    assert config_error_en(path) == (
        'config: reminders.offsets[1]: expected a duration such as "7d", "1h", "30m" '
        f'(got "abc") (in {path})'
    )


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, '[reminders]\nofsets = ["1d"]\n')

    assert fr("clé inconnue (vouliez-vous dire « offsets » ?)") in config_error(path)
    assert 'unknown key (did you mean "offsets"?)' in config_error_en(path)


@pytest.mark.parametrize(
    ("environ", "french", "english"),
    [
        pytest.param(
            {"PARTAGE_TIME__HORIZON_YEARS": "0"},
            "time.horizon_years : un nombre d'au moins 1 est attendu (valeur reçue : « 0 »)",
            'time.horizon_years: expected a number of at least 1 (got "0")',
            id="greater_than_equal",
        ),
        pytest.param(
            {"PARTAGE_TIME__HORIZON_YEARS": "99"},
            "time.horizon_years : un nombre d'au plus 20 est attendu (valeur reçue : « 99 »)",
            'time.horizon_years: expected a number of at most 20 (got "99")',
            id="less_than_equal",
        ),
        pytest.param(
            {"PARTAGE_TIME__HORIZON_YEARS": "trois"},
            "time.horizon_years : un nombre entier est attendu (valeur reçue : « trois »)",
            'time.horizon_years: expected a whole number (got "trois")',
            id="int_parsing",
        ),
        pytest.param(
            {"PARTAGE_LOGGING__FORMAT": "xml"},
            "logging.format : une de ces valeurs est attendue : text, json "
            "(valeur reçue : « xml »)",
            'logging.format: expected one of text, json (got "xml")',
            id="literal_error",
        ),
        pytest.param(
            {"PARTAGE_DISCORD__STAFF_ROLE": " "},
            "discord.staff_role : un texte non vide est attendu (valeur reçue : «   »)",
            'discord.staff_role: expected a text, not empty (got " ")',
            id="own-validator",
        ),
    ],
)
def test_pydantic_errors_are_said_in_both_languages(
    environ: dict[str, str], french: str, english: str
) -> None:
    variable = next(iter(environ))

    assert config_error(None, environ) == fr(f"configuration : {french} (variable {variable})")
    assert config_error_en(None, environ) == f"config: {english} (from {variable})"


def test_a_problem_from_elsewhere_is_shown_as_written() -> None:
    error = ConfigError("config: something else went wrong")

    assert str(error) == "config: something else went wrong"
    assert error.render(ENGLISH) == "config: something else went wrong"


def test_duplicate_slug_names_both_entries(tmp_path: Path) -> None:
    toml = '[[chantiers]]\nslug = "a"\nnom = "A"\n[[chantiers]]\nslug = "a"\nnom = "B"\n'

    message = config_error(write(tmp_path, toml))

    assert "chantiers[1].slug" in message
    assert "chantiers[0].slug" in message


def test_sync_driver_message_names_the_expected_form(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, '[database]\nurl = "postgresql://u@h/d"\n'))

    assert "postgresql+asyncpg://" in message
    assert "sqlite+aiosqlite://" in message


def test_error_from_environment_names_the_variable() -> None:
    environ = {"PARTAGE_REMINDERS__OFFSETS": '["1d", "abc"]'}
    message = config_error(None, environ)
    english = config_error_en(None, environ)

    assert message.startswith(fr("configuration : reminders.offsets[1] : "))
    assert message.endswith("(variable PARTAGE_REMINDERS__OFFSETS)")
    assert english.startswith("config: reminders.offsets[1]: ")
    assert english.endswith("(from PARTAGE_REMINDERS__OFFSETS)")


def test_unparsable_json_in_environment_names_the_variable() -> None:
    message = config_error(None, {"PARTAGE_CHANTIERS": "[{"})
    english = config_error_en(None, {"PARTAGE_CHANTIERS": "[{"})

    assert message == fr(
        "configuration : chantiers : du JSON valide est attendu (variable PARTAGE_CHANTIERS)"
    )
    assert english == "config: chantiers: expected valid JSON (from PARTAGE_CHANTIERS)"


def test_unknown_key_in_environment_is_refused() -> None:
    message = config_error(None, {"PARTAGE_REMINDERS__OFSETS": '["1d"]'})

    assert "reminders.ofsets" in message
    assert "PARTAGE_REMINDERS__OFSETS" in message


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[time]\ntimezone = "America/Toronto"\n[reminders\noffsets = []\n')

    message = config_error(path)
    english = config_error_en(path)

    assert message == fr(
        f"configuration : {path} : TOML invalide à la ligne 3, colonne 11 "
        "(Expected ']' at the end of a table declaration)"
    )
    assert english == (
        f"config: {path}: invalid TOML at line 3, column 11 "
        "(Expected ']' at the end of a table declaration)"
    )


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, '[time]\ntimezone = "Nowhere"\n[logging]\nlevel = "LOUD"\n')

    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})

    assert [p.key for p in info.value.problems] == ["time.timezone", "logging.level"]
    assert len(str(info.value).splitlines()) == 2
    assert len(info.value.render(ENGLISH).splitlines()) == 2


# ---------------------------------------------------------------------------------------------
# Secrets stay secret
# ---------------------------------------------------------------------------------------------


def test_token_is_not_shown_by_str_or_repr(tmp_path: Path) -> None:
    settings = load_settings(environ={"DISCORD_TOKEN": TOKEN})

    assert settings.token_value() == TOKEN
    for text in (str(settings), repr(settings), str(settings.discord), repr(settings.discord)):
        assert TOKEN not in text
    assert "**" in repr(settings.discord)
    assert TOKEN not in settings.model_dump_json()


def test_database_password_is_not_shown_by_repr(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://partage:hunter2hunter2@db.example/partage"

    settings = load_settings(environ={"PARTAGE_DATABASE__URL": url})

    assert settings.database.url == url
    assert "hunter2hunter2" not in repr(settings)
    assert "hunter2hunter2" not in str(settings)
    assert "partage:***@db.example" in repr(settings)


@pytest.mark.parametrize(
    ("toml", "environ"),
    [
        pytest.param('[time]\ntimezone = "Nowhere"\n', {"DISCORD_TOKEN": TOKEN}, id="other-key"),
        pytest.param(f'[discord]\ntokn = "{TOKEN}"\n', {}, id="misspelt-token-key"),
        pytest.param(f'[discord]\ntoken = "Bot {TOKEN}"\n', {}, id="bad-token"),
        pytest.param(f'discord = "{TOKEN}"\n', {}, id="token-as-section"),
        pytest.param(
            f'[logging]\nlevel = "{TOKEN}"\n', {"DISCORD_TOKEN": TOKEN}, id="token-in-other-key"
        ),
        pytest.param(
            "[discord]\nguild_id = 0\n", {"PARTAGE_DISCORD__TOKEN": f"Bot {TOKEN}"}, id="env"
        ),
    ],
)
def test_config_error_never_contains_the_token(
    tmp_path: Path, toml: str, environ: dict[str, str]
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, toml), environ=environ)
    message = str(info.value)
    english = info.value.render(ENGLISH)

    assert message.startswith(fr("configuration : "))
    assert english.startswith("config: ")
    assert TOKEN not in message
    assert TOKEN not in english
    assert TOKEN not in repr(info.value.problems)
    assert info.value.__context__ is None
    assert info.value.__cause__ is None


def test_config_error_never_contains_a_database_password(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "postgresql://partage:hunter2hunter2@db/partage"\n')

    message = config_error(path)
    english = config_error_en(path)

    assert message.startswith(fr("configuration : database.url : "))
    assert english.startswith("config: database.url: ")
    for text in (message, english, repr(info_problems(path))):
        assert "hunter2hunter2" not in text
    assert fr("(valeur reçue : « postgresql://partage:***@db/partage »)") in message
    assert '(got "postgresql://partage:***@db/partage")' in english


def info_problems(path: Path) -> object:
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    return info.value.problems


def test_loading_registers_the_token_with_the_log_filter() -> None:
    assert logsetup.mask_secrets("token=not-token-shaped-secret") != "token=***"

    load_settings(environ={"DISCORD_TOKEN": "not-token-shaped-secret"})

    assert logsetup.mask_secrets("token=not-token-shaped-secret") == "token=***"


# ---------------------------------------------------------------------------------------------
# config.example.toml
# ---------------------------------------------------------------------------------------------


def _keys(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, bool]]:
    """(section path, key, is an array of tables) for every leaf key of the model."""
    found: list[tuple[str, str, bool]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        nested = _model_in(annotation)
        if nested is not None:
            is_array = getattr(annotation, "__origin__", None) in (tuple, list)
            found.extend(
                (f"{prefix}{name}", sub, is_array or array)
                for _, sub, array in _keys(nested, f"{prefix}{name}.")
            )
        else:
            found.append((prefix.rstrip("."), name, False))
    return found


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def test_example_config_loads() -> None:
    settings = load_settings(EXAMPLE, environ={})

    assert not settings.has_token
    assert settings.model_dump() == Settings().model_dump()


def test_example_config_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    keys = _keys(Settings)

    assert len(keys) >= 18
    for section, key, is_array in keys:
        header = f"[[{section}]]" if is_array else f"[{section}]"
        assert header in text, header
        # The key appears set or commented out (its default shown) after its header.
        assert re.search(rf"^(# )?{key} = ", text.split(header, 1)[1], re.MULTILINE), (
            f"{section}.{key}"
        )


def test_example_config_has_french_and_english_comments_and_env_example() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")

    assert "PARTAGE_DATABASE__URL" in text
    assert "DISCORD_TOKEN" in text
    assert "Fuseau horaire" in text and "time zone" in text


def test_example_token_is_not_set() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))

    assert "token" not in data["discord"]


# ---------------------------------------------------------------------------------------------
# processes: the lease (bot/lease.py) and the shards
# ---------------------------------------------------------------------------------------------


def test_processes_defaults() -> None:
    processes = load_settings(environ={}).processes

    assert processes.lease_seconds == 15.0
    assert processes.standby is True
    assert processes.shard_id is None
    assert processes.shard_count == 1


def test_processes_from_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[processes]\nlease_seconds = 2.5\nstandby = false\nshard_id = 1\nshard_count = 3\n",
    )

    processes = load_settings(path, environ={}).processes

    assert (processes.lease_seconds, processes.standby) == (2.5, False)
    assert (processes.shard_id, processes.shard_count) == (1, 3)


def test_processes_from_the_environment() -> None:
    environ = {
        "PARTAGE_PROCESSES__LEASE_SECONDS": "30",
        "PARTAGE_PROCESSES__STANDBY": "false",
        "PARTAGE_PROCESSES__SHARD_ID": "0",
        "PARTAGE_PROCESSES__SHARD_COUNT": "2",
    }

    processes = load_settings(environ=environ).processes

    assert (processes.lease_seconds, processes.standby) == (30.0, False)
    assert (processes.shard_id, processes.shard_count) == (0, 2)
    assert load_settings(environ={"PARTAGE_PROCESSES__SHARD_ID": ""}).processes.shard_id is None


def test_bad_lease_seconds_message() -> None:
    environ = {"PARTAGE_PROCESSES__LEASE_SECONDS": "0"}

    assert config_error(None, environ) == fr(
        "configuration : processes.lease_seconds : un nombre de secondes de 1 à 3600 est "
        "attendu, comme 15 ou 2.5 (valeur reçue : « 0 ») (variable "
        "PARTAGE_PROCESSES__LEASE_SECONDS)"
    )
    assert config_error_en(None, environ) == (
        "config: processes.lease_seconds: expected a number of seconds from 1 to 3600, "
        'such as 15 or 2.5 (got "0") (from PARTAGE_PROCESSES__LEASE_SECONDS)'
    )


def test_shard_id_must_be_below_shard_count() -> None:
    message = config_error(None, {"PARTAGE_PROCESSES__SHARD_ID": "1"})
    english = config_error_en(None, {"PARTAGE_PROCESSES__SHARD_ID": "1"})

    assert message.startswith(
        fr("configuration : processes.shard_id : moins que processes.shard_count est attendu ")
        + "(1 >= 1"
    )
    assert english.startswith(
        "config: processes.shard_id: expected less than processes.shard_count (1 >= 1"
    )
