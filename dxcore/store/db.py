"""Engine and sessions; migrations (and first seeding) applied at start, safely for several replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from alembic import command
from dxcore.paths import migrations_dir

# pg_advisory_lock key shared by every replica: one migrates and seeds, the others wait.
_START_LOCK = 0x64786274  # "dxbt"


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            # WAL + busy timeout: a shell `dxbot ingest` and a running bot share the file.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL's recommended level: safe against crashes
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def prepare(self, then: Callable[[Database], Awaitable[None]] | None = None) -> None:
        """Apply migrations, then run ``then`` (first seeding) under the same cross-replica lock."""
        async with self.engine.connect() as conn:
            if self.is_postgres:
                await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _START_LOCK})
                await conn.commit()
            try:
                await conn.run_sync(_upgrade)
                await conn.commit()
                if then is not None:
                    await then(self)
            finally:
                if self.is_postgres:
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _START_LOCK})
                    await conn.commit()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
