"""Alembic environment: uses the connection dxbot hands over, or DXBOT_DATABASE_URL when run by hand."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Connection

from alembic import context
from dxcore.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_by_hand() -> None:
    from dxcore.settings import get_settings
    from dxcore.store.db import create_engine

    engine = create_engine(get_settings().effective_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_by_hand())
