"""Configuration: a TOML file validated section by section, with environment overrides.

Precedence: built-in defaults < TOML file < ``RELAIS_<SECTION>__<KEY>`` environment variables.
The bot token is a secret: it is never printed, logged or echoed back in an error message.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from bot.domain.settings import (
    CarpoolSection,
    CostsSection,
    MeetingsSection,
    MembershipSection,
    ProposalsSection,
    Section,
)

ENV_PREFIX = "RELAIS_"
WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram sends webhooks to
CONFIG_ENV = "RELAIS_CONFIG"
SECRET_KEYS = {"token", "secret_token", "password", "signing_key"}


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the key and what was expected."""


def _id_list(value: Any) -> Any:
    """A list of Telegram user ids, also written as one string ("123, 456"), as an environment
    variable must be."""
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;]+", value.strip().strip("[]")) if part]
    return value


class TelegramSection(Section):
    token: SecretStr = Field(default=SecretStr(""), description="bot token from BotFather")
    api_base_url: str = "https://api.telegram.org/bot"
    api_file_url: str = "https://api.telegram.org/file/bot"
    max_retries: int = Field(default=3, ge=0, le=10)
    messages_per_second: float = Field(default=29.0, gt=0, le=30)
    group_messages_per_minute: int = Field(default=20, ge=1, le=1000)
    # One private chat: a burst of this many messages, then this many a second (Telegram asks for
    # about one a second in one chat).
    private_burst: int = Field(default=8, ge=1, le=1000)
    private_messages_per_second: float = Field(default=0.9, gt=0, le=30)
    polling_timeout: int = Field(default=30, ge=0, le=50)
    concurrent_updates: int = Field(default=32, ge=1, le=512)
    edit_spacing_seconds: float = Field(default=3.0, ge=0, le=60)
    # Telegram user ids of the people who may add Relais to a group (the coordinators may too).
    # Empty: anyone who finds the bot may. Otherwise a group someone else adds it to gets one
    # sentence and Relais leaves it; a group Relais already serves may always add it back.
    allowed_adders: list[int] = Field(default_factory=list)

    @field_validator("allowed_adders", mode="before")
    @classmethod
    def _adders(cls, value: Any) -> Any:
        return _id_list(value)

    @field_validator("api_base_url", "api_file_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if urlparse(value).scheme not in ("http", "https"):
            raise ValueError("an http:// or https:// URL")
        return value


class DatabaseSection(Section):
    url: str = "sqlite+aiosqlite:///relais.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")):
            raise ValueError("a URL starting with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class BotSection(Section):
    default_timezone: str = "Europe/Paris"
    default_language: Literal["fr", "en"] = "fr"
    admin_cache_seconds: int = Field(default=300, ge=0, le=86400)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone such as Europe/Paris") from None
        return value


class WebSection(Section):
    enabled: bool = True
    listen: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # GET /metrics (Prometheus): with a token, only "Authorization: Bearer <token>" reads it;
    # without one, only a client on loopback (the process's own machine).
    metrics_token: SecretStr = SecretStr("")

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and len(value.get_secret_value()) < SECRET_MIN:
            raise ValueError(f"a secret of at least {SECRET_MIN} characters (a short one can be guessed), or empty")
        return value


_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SECRET_MIN = 16  # a webhook secret or metrics token shorter than this can be guessed


class WebhookSection(Section):
    url: str = ""
    secret_token: SecretStr = SecretStr("")

    @field_validator("url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        """Telegram only calls HTTPS webhooks; plain http is allowed on loopback (tests, the demo)."""
        if not value:
            return value
        parsed = urlparse(value)
        loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
        if not parsed.netloc or not (parsed.scheme == "https" or (parsed.scheme == "http" and loopback)):
            raise ValueError("an https:// address (Telegram calls no other), or nothing for long polling")
        try:
            port = parsed.port
        except ValueError:
            port = -1
        if not loopback and port not in (None, *WEBHOOK_PORTS):
            raise ValueError(
                "an address on port 443 (the default), 80, 88 or 8443: Telegram calls webhooks on no other port; "
                "put the reverse proxy there and let it forward to web.port"
            )
        return value

    @model_validator(mode="after")
    def _secret_when_webhook(self) -> WebhookSection:
        secret = self.secret_token.get_secret_value()
        if self.url and not secret:
            raise ValueError(
                "webhook.secret_token must be set when webhook.url is (it proves a call comes from Telegram)"
            )
        if secret and not _SECRET_TOKEN_RE.match(secret):
            raise ValueError("webhook.secret_token: 1-256 characters among A-Z a-z 0-9 _ -")
        if secret and len(secret) < SECRET_MIN:
            raise ValueError(
                f"webhook.secret_token: at least {SECRET_MIN} characters (a random one: it can be guessed)"
            )
        return self

    @property
    def path(self) -> str:
        return urlparse(self.url).path or "/"


class DashboardSection(Section):
    # The address people open the dashboard at, behind the reverse proxy (https:// in production:
    # the session cookie is then marked Secure). Empty: http://{web.listen}:{web.port}.
    public_url: str = ""
    # Telegram user ids of the department's coordinators: they see every group.
    coordinators: list[int] = Field(default_factory=list)
    department: str = ""  # the department's name, shown above the side-by-side view
    idle_minutes: int = Field(default=30, ge=5, le=24 * 60)  # a session unused this long ends
    link_minutes: int = Field(default=15, ge=1, le=60)  # a login link unused this long expires

    @field_validator("coordinators", mode="before")
    @classmethod
    def _coordinators(cls, value: Any) -> Any:
        return _id_list(value)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and (urlparse(value).scheme not in ("http", "https") or not urlparse(value).netloc):
            raise ValueError("an https:// address such as https://relais.example.org, or empty")
        return value.rstrip("/")


class PrivacySection(Section):
    # Absence reasons (health, childcare...) are erased this many days after their meeting.
    reasons_days: int = Field(default=30, ge=1, le=365)
    # People who left all their groups this many months ago are erased, with what only they owned.
    retention_months: int = Field(default=12, ge=1, le=120)


class SmsSection(Section):
    """Text messages for the members Telegram does not reach (docs/installation.md, *SMS*): off
    unless enabled. `android` is SMS Gateway for Android (a phone with a SIM, run by the
    department), which posts the answers to a webhook; `ovh` is OVHcloud's SMS API (an operator
    the department contracts), whose inbox Relais reads; `fake` is the loopback gateway of the
    tests and the demo."""

    enabled: bool = False
    provider: Literal["android", "ovh", "fake"] = "android"
    # android: the gateway's API, the phone's local server (http://phone:8080) or its cloud relay.
    url: str = "https://api.sms-gate.app/3rdparty/v1"
    login: str = ""
    password: SecretStr = SecretStr("")
    # The key the gateway signs its webhooks with (the app's Settings → Webhooks → Signing key).
    signing_key: SecretStr = SecretStr("")
    # Where the gateway posts the answers, on Relais' web port (register https://…/sms/entrant).
    webhook_path: str = "/sms/entrant"
    # ovh: the API's region (ovh-eu) and the SMS account (sms-ab12345-1), with the application's
    # keys and a consumer key granted GET/POST/DELETE on /sms/* (https://eu.api.ovh.com/createToken/).
    ovh_endpoint: str = "ovh-eu"
    ovh_service: str = ""
    ovh_application_key: str = ""
    ovh_application_secret: SecretStr = SecretStr("")
    ovh_consumer_key: SecretStr = SecretStr("")
    collect_seconds: int = Field(default=30, ge=5, le=3600)  # how often the operator's inbox is read
    per_minute: int = Field(default=20, ge=1, le=600)  # the phone's or operator's pace
    monthly_limit: int = Field(default=500, ge=0, le=1_000_000)  # SMS sent in a calendar month, at most

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> SmsSection:
        if not self.enabled or self.provider == "fake":
            return self
        if self.provider == "ovh":
            missing = [
                name
                for name, value in (
                    ("ovh_service", self.ovh_service),
                    ("ovh_application_key", self.ovh_application_key),
                    ("ovh_application_secret", self.ovh_application_secret.get_secret_value()),
                    ("ovh_consumer_key", self.ovh_consumer_key.get_secret_value()),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"sms.{', sms.'.join(missing)}: needed when sms.provider is ovh")
            return self
        if not self.login or not self.password.get_secret_value():
            raise ValueError("sms.login and sms.password are needed when sms.enabled is true")
        if len(self.signing_key.get_secret_value()) < SECRET_MIN:
            raise ValueError(
                f"sms.signing_key: at least {SECRET_MIN} characters (it proves an answer comes from the gateway)"
            )
        return self

    @field_validator("ovh_endpoint")
    @classmethod
    def _ovh_endpoint(cls, value: str) -> str:
        if not re.fullmatch(r"(ovh|kimsufi|soyoustart)-(eu|ca|us)|https?://\S+", value):
            raise ValueError("an OVHcloud API region such as ovh-eu (or the address of a test double)")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not re.fullmatch(r"/[A-Za-z0-9/_-]{1,100}", value):
            raise ValueError("a path such as /sms/entrant")
        return value


class MailSection(Section):
    """E-mail, for the answer links sent to the decision-makers (docs/installation.md, *Mail*):
    off unless enabled; without it, the facilitator forwards the link Relais gives in private."""

    enabled: bool = False
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    # starttls (port 587), tls (port 465), or none (a relay on the same machine only).
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password: SecretStr = SecretStr("")  # better in the environment: RELAIS_MAIL__PASSWORD
    sender: str = ""  # the From address, such as "Relais <relais@departement.fr>"
    timeout_seconds: int = Field(default=30, ge=1, le=300)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> MailSection:
        if self.enabled and "@" not in self.sender:
            raise ValueError("mail.sender: the From address (relais@departement.fr) is needed when mail is enabled")
        return self


class LoggingSection(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"  # json: one object per line, for a log collector


class Settings(Section):
    telegram: TelegramSection = TelegramSection()
    database: DatabaseSection = DatabaseSection()
    bot: BotSection = BotSection()
    meetings: MeetingsSection = MeetingsSection()
    proposals: ProposalsSection = ProposalsSection()
    carpool: CarpoolSection = CarpoolSection()
    costs: CostsSection = CostsSection()
    membership: MembershipSection = MembershipSection()
    web: WebSection = WebSection()
    webhook: WebhookSection = WebhookSection()
    dashboard: DashboardSection = DashboardSection()
    privacy: PrivacySection = PrivacySection()
    sms: SmsSection = SmsSection()
    mail: MailSection = MailSection()
    logging: LoggingSection = LoggingSection()

    def warnings(self) -> list[str]:
        """What works but will surprise: said by check-config, and in the start-up log."""
        warnings = []
        public = self.dashboard.public_url
        if self.web.enabled and not public:
            warnings.append(
                f"dashboard.public_url is empty: the dashboard's login links will point to "
                f"http://{self.web.listen}:{self.web.port}, which a facilitator's phone cannot open; "
                "set it to the address people reach (https://…)"
            )
        elif public.startswith("http://") and urlparse(public).hostname not in ("127.0.0.1", "localhost"):
            warnings.append(
                "dashboard.public_url is plain http://: its login links and session cookie cross the network "
                "unencrypted; serve it over https://"
            )
        return warnings

    def require_token(self) -> str:
        token = self.telegram.token.get_secret_value()
        if not re.match(r"^\d+:[A-Za-z0-9_-]+$", token):
            raise ConfigError(
                "telegram.token: missing or malformed; expected the token BotFather gave you, "
                "like 123456789:AA... (set it in the file or in RELAIS_TELEGRAM__TOKEN)"
            )
        return token


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, str]]:
    """Collect ``RELAIS_SECTION__KEY=value`` as nested raw strings (pydantic coerces them)."""
    overrides: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        overrides.setdefault(section, {})[key] = value
    return overrides


def _misspelt_variables(environ: Mapping[str, str]) -> list[str]:
    """Variables that look like a setting but have one underscore after the section
    (RELAIS_WEB_PORT for RELAIS_WEB__PORT): without this they would be silently ignored."""
    problems = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or "__" in name:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        for section, field in Settings.model_fields.items():
            model = field.annotation
            key = rest.removeprefix(f"{section}_") if rest.startswith(f"{section}_") else None
            if key and isinstance(model, type) and key in getattr(model, "model_fields", {}):
                right = f"{ENV_PREFIX}{section.upper()}__{key.upper()}"
                problems.append(
                    f"{name} is not read: a setting's variable has two underscores after its section, {right}."
                )
    return problems


def _describe(error: ErrorDetails, from_environment: set[tuple[str, ...]]) -> str:
    """One problem as a sentence naming the key, where its value came from, and what it should be."""
    loc = tuple(str(part) for part in error["loc"])
    key = ".".join(loc) if loc else "the file"
    if loc in from_environment:
        key = f"{key} (from {ENV_PREFIX}{loc[0].upper()}__{loc[1].upper()})"
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return f"{key} is not a setting Relais knows: check its spelling against config.example.toml."
    if kind == "value_error" and len(loc) <= 1:  # a rule across a section's keys
        return f"{key}: {message}."
    if (loc and loc[-1] in SECRET_KEYS) or (kind == "value_error" and "secret" in message):
        found = "(hidden)"
    else:
        found = repr(error.get("input"))
    if kind == "value_error":
        return f"{key} is {found}, but Relais expects {message}."
    if message.startswith("Input should be "):
        return f"{key} is {found}, but it should be {message.removeprefix('Input should be ')}."
    return f"{key} is {found}: {message[:1].lower()}{message[1:]}."


def resolve_config_path(cli_path: str | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """--config wins, then RELAIS_CONFIG, then ./config.toml when it exists."""
    environ = os.environ if environ is None else environ
    if cli_path:
        return Path(cli_path)
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    default = Path("config.toml")
    return default if default.exists() else None


def load_settings(path: Path | None, environ: dict[str, str] | None = None) -> Settings:
    """Read, merge and validate; raise ConfigError with one line per problem."""
    environ = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = {}
    origin = str(path) if path else "the environment"
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"the configuration file {path} was not found.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"the configuration file {path} is not valid TOML ({exc}).") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"the configuration file {path} cannot be read ({exc.__class__.__name__}).") from None
    misspelt = _misspelt_variables(environ)
    if misspelt:
        raise ConfigError("the environment sets something Relais would not read:\n  " + "\n  ".join(misspelt))
    overrides = _env_overrides(environ)
    for section, values in overrides.items():
        current = data.setdefault(section, {})
        if isinstance(current, dict):
            current.update(values)
    from_environment: set[tuple[str, ...]] = {(section, key) for section, values in overrides.items() for key in values}
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(err, from_environment) for err in exc.errors(include_url=False)]
        if path is not None and from_environment:
            origin = f"{path} and the environment"
        raise ConfigError(f"the configuration in {origin} cannot be used:\n  " + "\n  ".join(lines)) from None
