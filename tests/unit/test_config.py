"""Configuration: defaults, file, environment overrides, and one clear message per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, load_settings, resolve_config_path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAH-secret_token_value"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file():
    settings = load_settings(None, environ={})
    assert settings.database.url == "sqlite+aiosqlite:///relais.db"
    assert settings.bot.default_timezone == "Europe/Paris" and settings.bot.default_language == "fr"
    assert settings.telegram.api_base_url == "https://api.telegram.org/bot"
    assert settings.webhook.url == "" and settings.web.port == 8080


def test_example_file_is_valid_and_complete():
    settings = load_settings(ROOT / "config.example.toml", environ={"RELAIS_TELEGRAM__TOKEN": TOKEN})
    assert settings.require_token() == TOKEN
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for section, model in settings:
        for key in type(model).model_fields:
            assert f"{key} =" in text or f"# {key} =" in text, f"{section}.{key} missing from config.example.toml"


def test_environment_overrides_file(tmp_path):
    path = write(tmp_path, '[database]\nurl = "sqlite+aiosqlite:///from-file.db"\n[web]\nport = 9000\n')
    settings = load_settings(
        path,
        environ={
            "RELAIS_DATABASE__URL": "postgresql+asyncpg://relais@db/relais",
            "RELAIS_WEB__PORT": "9100",
            "RELAIS_TELEGRAM__TOKEN": TOKEN,
            "RELAIS_BOT__DEFAULT_LANGUAGE": "en",
            "OTHER": "x",
        },
    )
    assert settings.database.url == "postgresql+asyncpg://relais@db/relais"
    assert settings.web.port == 9100 and settings.bot.default_language == "en"
    assert settings.telegram.token.get_secret_value() == TOKEN


def test_config_path_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path(None, {}) is None
    (tmp_path / "config.toml").write_text("")
    assert resolve_config_path(None, {}) == Path("config.toml")
    assert resolve_config_path(None, {"RELAIS_CONFIG": "/etc/relais.toml"}) == Path("/etc/relais.toml")
    assert resolve_config_path("cli.toml", {"RELAIS_CONFIG": "/etc/relais.toml"}) == Path("cli.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[web]\nport = "huit"\n', "web.port is 'huit', but it should be a valid integer"),
        ("[web]\nport = 70000\n", "web.port is 70000, but it should be less than or equal to 65535."),
        (
            '[bot]\ndefault_timezone = "Paris"\n',
            "bot.default_timezone is 'Paris', but Relais expects an IANA time zone such as Europe/Paris.",
        ),
        ('[bot]\ndefault_language = "de"\n', "bot.default_language is 'de', but it should be 'fr' or 'en'."),
        (
            '[database]\nurl = "sqlite:///x.db"\n',
            "database.url is 'sqlite:///x.db', but Relais expects a URL starting with sqlite+aiosqlite://",
        ),
        ('[telegram]\ntokn = "x"\n', "telegram.tokn is not a setting Relais knows"),
        (
            '[webhook]\nurl = "https://relais.example.org/hook"\n',
            "webhook: webhook.secret_token must be set when webhook.url is (it proves",
        ),
        (
            '[webhook]\nurl = "http://relais.example.org/hook"\nsecret_token = "s"\n',
            "webhook.url is 'http://relais.example.org/hook', but Relais expects an https:// address",
        ),
        (
            '[webhook]\nurl = "https://relais.example.org:8080/hook"\nsecret_token = "s"\n',
            "but Relais expects an address on port 443 (the default), 80, 88 or 8443",
        ),
        ("[web\nport = 1\n", "not valid TOML"),
        ("telegram = 5\n", "telegram is 5"),
    ],
)
def test_bad_values_name_key_found_and_expected(tmp_path, text, expected):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), environ={})
    assert expected in str(caught.value)


def test_token_never_echoed(tmp_path):
    secret = "987654321:very-secret-value"
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, f'[telegram]\ntoken = ["{secret}"]\n'), environ={})
    assert "telegram.token" in str(caught.value) and secret not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_settings(
            write(tmp_path, '[webhook]\nurl = "https://x.org/h"\nsecret_token = "with spaces!"\n'), environ={}
        )
    assert "with spaces" not in str(caught.value)
    settings = load_settings(write(tmp_path, f'[telegram]\ntoken = "{secret}"\n'), environ={})
    assert secret not in repr(settings) and secret not in str(settings.model_dump())
    with pytest.raises(ConfigError, match="telegram.token: missing or malformed"):
        load_settings(None, environ={}).require_token()


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="was not found"):
        load_settings(tmp_path / "absent.toml", environ={})


@given(st.text(max_size=40))
def test_any_env_value_gives_settings_or_config_error(value):
    try:
        load_settings(None, environ={"RELAIS_WEB__PORT": value, "RELAIS_BOT__DEFAULT_TIMEZONE": value})
    except ConfigError as exc:
        assert str(exc).startswith("the configuration in the environment cannot be used")


def test_a_value_from_the_environment_is_blamed_on_its_variable(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, "[web]\nport = 8080\n"), environ={"RELAIS_WEB__PORT": "huit"})
    text = str(caught.value)
    assert "and the environment" in text
    assert "web.port (from RELAIS_WEB__PORT) is 'huit', but it should be a valid integer" in text


def test_a_plain_http_webhook_is_accepted_on_loopback_only(tmp_path):
    for url in ("http://127.0.0.1:8443/hook", "http://localhost/hook", "https://relais.example.org/hook"):
        settings = load_settings(
            write(tmp_path, f'[webhook]\nurl = "{url}"\nsecret_token = "a-secret-of-16-chars"\n'), environ={}
        )
        assert settings.webhook.url == url


def test_lists_of_ids_from_the_environment():
    settings = load_settings(
        None, environ={"RELAIS_TELEGRAM__ALLOWED_ADDERS": "12, 34", "RELAIS_DASHBOARD__COORDINATORS": "[56]"}
    )
    assert settings.telegram.allowed_adders == [12, 34] and settings.dashboard.coordinators == [56]
    with pytest.raises(ConfigError, match="telegram.allowed_adders.0 is 'douze'"):
        load_settings(None, environ={"RELAIS_TELEGRAM__ALLOWED_ADDERS": "douze"})


def test_a_variable_with_one_underscore_too_few_is_named_not_ignored():
    with pytest.raises(ConfigError, match="RELAIS_WEB_PORT is not read: .* RELAIS_WEB__PORT"):
        load_settings(None, environ={"RELAIS_WEB_PORT": "9000"})
    with pytest.raises(ConfigError, match="RELAIS_DASHBOARD__COORDINATORS"):
        load_settings(None, environ={"RELAIS_DASHBOARD_COORDINATORS": "12"})
    # Variables that are not settings are left alone; two underscores are read.
    settings = load_settings(
        None, environ={"RELAIS_CONFIG": "x.toml", "RELAIS_SOMETHING": "1", "RELAIS_WEB__PORT": "9000"}
    )
    assert settings.web.port == 9000


def test_secrets_too_short_to_resist_guessing_are_refused():
    hook = "https://relais.example.org/hook"
    with pytest.raises(ConfigError, match="webhook.secret_token: at least 16 characters"):
        load_settings(None, environ={"RELAIS_WEBHOOK__URL": hook, "RELAIS_WEBHOOK__SECRET_TOKEN": "short_secret"})
    with pytest.raises(ConfigError, match="web.metrics_token .*at least 16 characters"):
        load_settings(None, environ={"RELAIS_WEB__METRICS_TOKEN": "scrape"})
    settings = load_settings(
        None,
        environ={
            "RELAIS_WEBHOOK__URL": hook,
            "RELAIS_WEBHOOK__SECRET_TOKEN": "a" * 16,
            "RELAIS_WEB__METRICS_TOKEN": "",
        },
    )
    assert settings.webhook.secret_token.get_secret_value() == "a" * 16
