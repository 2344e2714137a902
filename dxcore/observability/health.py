"""Readiness and the gauges read when metrics are scraped; both ask the database with a short time limit, so that a
probe never hangs on a database that is away."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from dxcore.observability import metrics
from dxcore.steps import bounded
from dxcore.store.db import Database, alembic_config
from dxcore.store.models import Delivery

PROBE_TIMEOUT = 1.0  # seconds a probe waits for the database
BOT_API_SILENCE = 60.0  # seconds without an answer from the Bot API after which a polling bot is not ready


@cache
def migrations_head() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


@dataclass
class Readiness:
    reasons: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.reasons

    def to_json(self) -> dict:
        return {"status": "ready" if self.ready else "not ready", "reasons": self.reasons}


async def stored_revisions(db: Database) -> frozenset[str]:
    async with db.engine.connect() as conn:
        return frozenset(await conn.scalars(text("SELECT version_num FROM alembic_version")))


async def readiness(db: Database, *, bot_api_silence: float | None = None) -> Readiness:
    """Ready when the database answers a query made now (within PROBE_TIMEOUT) with its migrations at head and,
    for a polling bot (``bot_api_silence``: seconds since the Bot API last answered, or None when it must not be
    checked), the Bot API answered within BOT_API_SILENCE seconds. Each failed check adds its reason."""
    state = Readiness()
    try:
        revisions = await bounded(stored_revisions(db), PROBE_TIMEOUT)
    except TimeoutError:
        state.reasons.append(f"database: no answer within {PROBE_TIMEOUT:g} s")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the answer says why (probes log nothing)
        state.reasons.append(f"database: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}")
    else:
        if revisions != migrations_head():
            state.reasons.append(f"database: migrations at {', '.join(sorted(revisions)) or 'none'}, "
                                 f"not at head {', '.join(sorted(migrations_head()))}")
    if bot_api_silence is not None and bot_api_silence > BOT_API_SILENCE:
        state.reasons.append(f"bot api: no answer for {bot_api_silence:.0f} s")
    return state


async def refresh_outbox_gauge(db: Database) -> None:
    """``dxbot_outbox{state}`` from the database now; left as it was when the database does not answer in time."""
    async def counts() -> dict[str, int]:
        async with db.session() as session:
            rows = await session.execute(select(Delivery.status, func.count()).where(
                Delivery.status.in_(metrics.OUTBOX_STATES)).group_by(Delivery.status))
            return dict(rows.all())

    try:
        found = await bounded(counts(), PROBE_TIMEOUT)
    except Exception:  # noqa: BLE001 - a scrape still answers, with what was known before (and logs nothing)
        return
    for state in metrics.OUTBOX_STATES:
        metrics.OUTBOX.labels(state).set(found.get(state, 0))
