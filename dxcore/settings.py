"""All configuration, parsed once from the environment (and a .env file in the working directory)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dxcore.conversation.limits import FloodLimit

DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DXBOT_", env_file=".env", extra="ignore")

    token: SecretStr | None = None
    state_dir: Path = Field(default_factory=lambda: Path.home() / ".local" / "share" / "dxbot")
    database_url: str | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    quiet_hours: str = "21:00-07:00"
    send_rate: float = Field(25.0, gt=0)  # every message sent with the token, replies and alerts together
    replicas: int = Field(1, ge=1)  # webhook replicas sharing the token: each sends at send_rate / replicas
    flood: str = "20/10s"
    webhook_secret: SecretStr | None = None
    test_database_url: str = DEFAULT_TEST_DATABASE_URL

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
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

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.state_dir.expanduser() / 'dxbot.sqlite3'}"


@cache
def get_settings() -> Settings:
    return Settings()
