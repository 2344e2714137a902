"""All configuration, parsed once from the environment (and a .env file in the working directory).

Every check says what is accepted, in words that read well after the variable's name: ``describe_errors`` turns a
``ValidationError`` into ``DXBOT_SEND_RATE: must be greater than 0 (got '0'); …`` for the CLI.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dxcore.conversation.limits import FloodLimit

DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")

# What a DXBOT_DATABASE_URL may name, and the asyncio driver each one is run with.
_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg", "postgres+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite", "sqlite+aiosqlite": "sqlite+aiosqlite",
}
ACCEPTED_DATABASE_URLS = ("postgresql://USER:PASSWORD@HOST:PORT/NAME (or postgresql+asyncpg://…) for PostgreSQL, "
                          "sqlite:////ABSOLUTE/PATH.sqlite3 (or sqlite+aiosqlite://…) for SQLite")
# Fields whose value is never repeated in an error message.
_SECRET_FIELDS = frozenset({"token", "webhook_secret", "database_url", "test_database_url"})


def normalise_database_url(url: str) -> str:
    """The URL with the asyncio driver this app runs: ``postgresql://`` and ``postgres://`` become
    ``postgresql+asyncpg://``, ``sqlite://`` becomes ``sqlite+aiosqlite://`` (user, password, host, port, database
    and query kept). ValueError, saying what is accepted, for anything else."""
    text = url.strip()
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ValueError(f"is not a database URL this bot understands; use {ACCEPTED_DATABASE_URLS}") from None
    driver = parsed.drivername.lower()
    target = _ASYNC_DRIVERS.get(driver)
    if target is None:
        backend = driver.split("+", 1)[0]
        what = (f"the driver {driver!r} cannot be used by this asyncio bot" if backend in {"postgresql", "postgres",
                "sqlite"} else f"{backend!r} databases are not supported")
        raise ValueError(f"{what}; use {ACCEPTED_DATABASE_URLS}")
    if driver == target:
        return text
    return parsed.set(drivername=target).render_as_string(hide_password=False)


def _number(value: object, problem: str) -> float:
    """``value`` (a string from the environment, or a number) as a finite float; ValueError(problem) otherwise."""
    try:
        number = float(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{problem} (got {value!r})")
    return number


def _choice(value: object, choices: tuple[str, ...], case: Callable[[str], str], problem: str) -> str:
    """``value`` as one of ``choices``, whatever its case and surrounding spaces; ValueError(problem) otherwise."""
    chosen = case(value.strip()) if isinstance(value, str) else value
    if chosen not in choices:
        raise ValueError(f"{problem} (got {value!r})")
    return chosen


def _http_url(value: str, example: str) -> str:
    text = value.strip()
    parts = urlsplit(text)
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        host = None
    if parts.scheme.lower() not in {"http", "https"} or not host:
        raise ValueError(f"must be an http:// or https:// URL with a host, e.g. {example} (got {value!r})")
    return text


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DXBOT_", env_file=".env", extra="ignore")

    token: SecretStr | None = None
    state_dir: Path = Field(default_factory=lambda: Path.home() / ".local" / "share" / "dxbot")
    database_url: str | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    quiet_hours: str = "21:00-07:00"
    send_rate: float = Field(25.0, gt=0, allow_inf_nan=False)  # every message sent with the token, replies and alerts together
    replicas: int = Field(1, ge=1)  # webhook replicas sharing the token: each sends at send_rate / replicas
    flood: str = "20/10s"
    webhook_secret: SecretStr | None = None
    http_port: int | None = 8080  # /healthz, /readyz, /metrics; None: off; 0: any free port
    http_listen: str = "127.0.0.1"
    log_level: str = "INFO"
    log_format: str = "text"
    db_wait: float = 60.0  # seconds to keep retrying an unreachable database at start; 0: one attempt
    test_database_url: str = DEFAULT_TEST_DATABASE_URL

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            ids = set()
            for part in value.replace(";", ",").split(","):
                if part.strip():
                    try:
                        ids.add(int(part))
                    except ValueError:
                        raise ValueError(f"must be Telegram user ids separated by commas, e.g. 12345,67890 "
                                         f"({part.strip()!r} is not a number)") from None
            return frozenset(ids)
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        """A blank secret must not switch the webhook's check off: it counts as no secret at all."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if text is None or (isinstance(text, str) and not text.strip()) else value

    def webhook_secret_problem(self) -> str | None:
        """Why webhook mode cannot start with this secret, or None (checked only when a webhook is asked for)."""
        if self.webhook_secret is None:
            return "--webhook-url needs DXBOT_WEBHOOK_SECRET (the secret Telegram echoes in webhook calls)."
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", self.webhook_secret.get_secret_value()):
            return "DXBOT_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)."
        return None

    @field_validator("quiet_hours")
    @classmethod
    def _check_quiet_hours(cls, value: str) -> str:
        from dxcore.alerts.delivery import QuietHours  # the one parser of the format

        QuietHours.parse(value)
        return value

    @field_validator("flood")
    @classmethod
    def _check_flood(cls, value: str) -> str:
        FloodLimit.parse(value)  # the one parser of the format
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _async_database_url(cls, value: object) -> object:
        if isinstance(value, str):
            return normalise_database_url(value) if value.strip() else None  # blank: the SQLite default
        return value

    @field_validator("api_base_url")
    @classmethod
    def _check_api_base_url(cls, value: str) -> str:
        return _http_url(value, "http://127.0.0.1:8081/bot")

    @field_validator("file_base_url")
    @classmethod
    def _check_file_base_url(cls, value: str) -> str:
        return _http_url(value, "http://127.0.0.1:8081/file/bot")

    @field_validator("http_port", mode="before")
    @classmethod
    def _check_http_port(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and value.strip().lower() == "off"):
            return None
        problem = "must be a port number from 0 to 65535 (0: any free port), or off"
        number = _number(value, problem)
        if not number.is_integer() or not 0 <= number <= 65535 or isinstance(value, bool):
            raise ValueError(f"{problem} (got {value!r})")
        return int(number)

    @field_validator("http_listen")
    @classmethod
    def _check_http_listen(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be an address to listen on, e.g. 127.0.0.1 or 0.0.0.0 (it is blank)")
        return value.strip()

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_log_level(cls, value: object) -> object:
        return _choice(value, LOG_LEVELS, str.upper, f"must be one of {', '.join(LOG_LEVELS)}")

    @field_validator("log_format", mode="before")
    @classmethod
    def _check_log_format(cls, value: object) -> object:
        return _choice(value, LOG_FORMATS, str.lower, "must be text or json")

    @field_validator("db_wait", mode="before")
    @classmethod
    def _check_db_wait(cls, value: object) -> object:
        problem = "must be a number of seconds, 0 or more (0: try the database once)"
        if _number(value, problem) < 0:
            raise ValueError(f"{problem} (got {value!r})")
        return _number(value, problem)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.state_dir.expanduser() / 'dxbot.sqlite3'}"


def _message(error: dict) -> str:
    """pydantic's message in words that follow a variable's name: "Value error, " dropped, "Input should be"
    turned into "must be", and the value given appended unless the check quoted it already (never a secret's)."""
    message = str(error.get("msg", ""))
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    if message.startswith("Input should be "):
        message = "must be " + message.removeprefix("Input should be ")
    field = error["loc"][0] if error.get("loc") else None
    given = error.get("input")
    if field not in _SECRET_FIELDS and isinstance(given, str | int | float) and not isinstance(given, bool):
        message += f" (got {given!r})"
    return message


def describe_errors(exc: ValidationError) -> str:
    """``DXBOT_SEND_RATE: must be greater than 0 (got '0'); DXBOT_HTTP_PORT: …``: one clause per problem."""
    clauses = []
    for error in exc.errors():
        loc = error.get("loc") or ()
        name = f"DXBOT_{str(loc[0]).upper()}" if loc else "configuration"
        clauses.append(f"{name}: {_message(error)}")
    return "; ".join(clauses)


@cache
def get_settings() -> Settings:
    return Settings()
