"""Where shipped files live, whether dxbot runs from a checkout, an editable install, a wheel or Docker."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _locate(name: str, env: str | None = None) -> Path:
    if env and os.environ.get(env):
        return Path(os.environ[env]).expanduser()
    shipped = _PACKAGE / "_shipped" / name  # wheel installs (see pyproject's force-include)
    if shipped.is_dir():
        return shipped
    return _PACKAGE.parent / name  # a checkout or an editable install


def data_dir() -> Path:
    return _locate("data", "DXBOT_DATA_DIR")


def migrations_dir() -> Path:
    return _locate("alembic")


def shipped_decisions() -> list[Path]:
    folder = data_dir() / "decisions"
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".txt", ".docx", ".pdf"}) if folder.is_dir() else []
