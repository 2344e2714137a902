"""Shared fixtures: databases (SQLite always, PostgreSQL for real when reachable), the seed, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dxcore.settings import DEFAULT_TEST_DATABASE_URL
from dxcore.store.db import Database

# PTB 22 warns unless retry_after is a timedelta; the tests run with warnings as errors, and the bot opts in too.
os.environ.setdefault("PTB_TIMEDELTA", "true")

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "decisions" / "seed-decision-1568-QD-UBND-2024.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_URL = os.environ.get("DXBOT_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
UNDER_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


async def _pg_admin(statement: str) -> None:
    import asyncpg

    url = make_url(PG_URL)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        database=url.database, timeout=5,
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


_pg_problem: str | None = None


async def _require_postgres() -> None:
    """Skip locally with the reason when PostgreSQL is absent; under CI its absence is a failure."""
    global _pg_problem
    if _pg_problem is None:
        try:
            await _pg_admin("SELECT 1")
            _pg_problem = ""
        except Exception as exc:  # noqa: BLE001 - any connection failure means "not available"
            _pg_problem = f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}: {exc})"
    if _pg_problem:
        if UNDER_CI:
            pytest.fail(f"{_pg_problem}; under CI the PostgreSQL tests must run")
        pytest.skip(f"{_pg_problem}; set DXBOT_TEST_DATABASE_URL to run the PostgreSQL tests")


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """A new PostgreSQL database for one test, dropped afterwards."""
    await _require_postgres()
    name = f"dxbot_test_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_pg_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'dxbot.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'dxbot.sqlite3'}"
    else:
        async with fresh_pg_database() as url:
            yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database on each backend."""
    database = Database(db_url)
    await database.prepare()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def start_bot(fake, tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    """`dxbot run` as a real process against the fake Bot API; its output goes to files in ``tmp_path``."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
                   "PTB_TIMEDELTA": "true", "DXBOT_STATE_DIR": str(tmp_path / "state"),
                   "DXBOT_FLOOD": "off",  # tests not about flooding send as fast as they like
                   "DXBOT_HTTP_PORT": "off",  # bots run side by side; tests of the endpoints give a port
                   **fake.env(), **env}
    runs = len(list(tmp_path.glob("bot-*.err")))
    with (tmp_path / f"bot-{runs}.out").open("w") as out, (tmp_path / f"bot-{runs}.err").open("w") as err:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", *args], cwd=tmp_path, env=environment,
                                stdout=out, stderr=err)


@contextmanager
def running_bot(fake, tmp_path: Path, *args: str, **env: str) -> Iterator[subprocess.Popen]:
    """start_bot, killed at the end if the test left it running (a test that stops it checks how it ended)."""
    process = start_bot(fake, tmp_path, *args, **env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@asynccontextmanager
async def polling_bot(db_url: str, *, deliver: bool = False, **settings: object):
    """The real Application polling the fake Bot API over HTTP, on a seeded database: yields (application, fake).
    ``deliver`` runs the alert worker too, as run_polling's post_init would. Flood control is off unless a test
    asks for it (``flood="3/60s"``)."""
    from bot import app as bot_app
    from dxcore.settings import Settings
    from dxcore.store.decisions import load_shipped_if_empty
    from tests.fakebot import FakeBotApi

    db = Database(db_url)
    await db.prepare(load_shipped_if_empty)
    await db.close()
    with FakeBotApi() as fake:
        config = Settings(token=fake.token, api_base_url=fake.base_url, file_base_url=fake.file_base_url,
                          database_url=db_url, quiet_hours="off", _env_file=None, **{"flood": "off", **settings})
        application = bot_app.build_application(config)
        await application.initialize()
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        if deliver:
            bot_app.start_delivery(application)
        application.bot_data["catalog"].check_every = 0
        try:
            yield application, fake
        finally:
            await application.updater.stop()
            await application.stop()
            if deliver:
                await bot_app.stop_delivery(application)
            await application.shutdown()
            await bot_app.close_state(application)


@asynccontextmanager
async def inprocess_bot(db_url: str, **settings: object):
    """The real Application on a seeded database, talking to the strict in-process Bot API: yields (application,
    transport); any call the fake refused without the test expecting it fails the test at the end."""
    from bot import app as bot_app
    from dxcore.settings import Settings
    from dxcore.store.decisions import load_shipped_if_empty
    from tests.inprocess import InProcessTelegram

    db = Database(db_url)
    await db.prepare(load_shipped_if_empty)
    await db.close()
    transport = InProcessTelegram()
    application = bot_app.build_application(Settings(token="123:abc", database_url=db_url, _env_file=None,
                                                     **{"flood": "off", **settings}), transport)
    await application.initialize()
    try:
        yield application, transport
    finally:
        await application.shutdown()
        await bot_app.close_state(application)  # serve() does this at shutdown
    transport.assert_no_unexpected_rejections()
