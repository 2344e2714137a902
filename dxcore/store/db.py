"""Engine and sessions; migrations (and first seeding) applied at start, safely for several replicas.

At start the CLI first checks that a SQLite database's folder can be written (``check_writable``: a clear
``StateDirError`` naming the path instead of SQLite's "unable to open database file"), then waits for the database
(``wait_for_database``: a PostgreSQL still starting, or a network not up yet, is retried for DXBOT_DB_WAIT seconds
with one log line, not one per attempt; what waiting cannot fix, such as a wrong password or a missing database,
stops at once with ``DatabaseRefused``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import sqlite3
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from alembic import command
from dxcore.observability import metrics
from dxcore.paths import migrations_dir

# pg_advisory_lock key shared by every replica: one migrates and seeds, the others wait.
_START_LOCK = 0x64786274  # "dxbt"

startup_log = logging.getLogger("dxbot.startup")

FIRST_DELAY, MAX_DELAY = 0.5, 5.0  # back-off between attempts to reach the database: 0.5 s doubling, at most 5 s
ATTEMPT_TIMEOUT = 10.0  # one attempt (connect + SELECT 1) that hangs longer counts as a failure
STILL_WAITING_EVERY = 10.0  # seconds between "still waiting" lines
# PostgreSQL errors that pass by themselves: connection failures (class 08), starting up / shutting down / crash
# recovery (57P01-57P03), too many connections and other exhausted resources (class 53).
_PASSING_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53")
_HINTS = {
    "28P01": "check the user and password in DXBOT_DATABASE_URL",
    "28000": "check the user in DXBOT_DATABASE_URL and that PostgreSQL lets it connect (pg_hba.conf)",
    "3D000": "create the database (createdb NAME) or correct its name in DXBOT_DATABASE_URL",
}


_SECRET_QUERY_KEYS = frozenset({"password", "sslpassword", "passfile", "sslkey", "sslcert", "sslrootcert"})


def masked_database_url(url: str) -> str:
    """The URL as it may be logged: the password replaced by ***, in the URL's user part or in its query."""
    try:
        parsed = make_url(url)
        secret = {key: "***" for key in parsed.query if key.lower() in _SECRET_QUERY_KEYS}
        return parsed.update_query_dict(secret).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL: hide whatever stands between ':' and '@'
        head, at, tail = url.rpartition("@")
        if not at:
            return url
        scheme, sep, credentials = head.partition("://")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{tail}" if ":" in credentials else url


def database_place(url: str) -> str:
    """Where the database is, for people: "PostgreSQL at 127.0.0.1:5432 (database test)",
    "SQLite file /var/lib/dxbot/dxbot.sqlite3", "SQLite in memory"."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - never fails: it names a place in error messages
        return f"at {masked_database_url(url)}"
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return "SQLite in memory (:memory:)"
        return f"SQLite file {Path(parsed.database).expanduser().absolute()}"
    name = {"postgresql": "PostgreSQL"}.get(backend, backend)
    host = parsed.host or parsed.query.get("host")
    where = f"at {host}:{parsed.port or 5432}" if host else "on the local socket"
    return f"{name} {where} (database {parsed.database or parsed.username or '?'})"


class StateDirError(Exception):
    """A SQLite database that cannot be kept where it is configured: ``path`` (the folder or file at fault) and
    ``reason`` (permission denied, read-only file system, a file where a folder should be, …)."""

    def __init__(self, path: Path, reason: str, database: Path) -> None:
        super().__init__(path, reason, database)
        self.path, self.reason, self.database = path, reason, database

    def __str__(self) -> str:
        return (f"cannot keep the SQLite database {self.database}: {self.path} {self.reason}; fix that, or set "
                f"DXBOT_STATE_DIR (or DXBOT_DATABASE_URL) to a writable folder")


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "is on a read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"is not writable (permission denied for uid {os.geteuid()})"
    if exc.errno == errno.ENOSPC:
        return "is on a full disk (no space left on device)"
    return f"cannot be used ({exc.strerror or exc})"


def _unwritable(path: Path) -> str:
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "is on a read-only file system"
    except OSError:
        pass
    return f"is not writable (permission denied for uid {os.geteuid()})"


def check_writable(url: str) -> None:
    """For a SQLite file URL: create the database's folder if need be and check that it (and the file, if it
    exists) can be written, since SQLite writes its -wal and -shm files beside the database. Raises StateDirError
    naming the path at fault. Other URLs (PostgreSQL, SQLite in memory) pass."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" \
            or parsed.query.get("uri") or parsed.database.startswith("file:"):
        return
    database = Path(parsed.database).expanduser().absolute()
    folder = database.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in reversed([folder, *folder.parents]) if p.exists() and not p.is_dir()), folder)
        raise StateDirError(blocker, "is a file, not a folder", database) from None
    except OSError as exc:
        at_fault = next((p for p in [folder, *folder.parents] if p.exists()), folder)
        raise StateDirError(at_fault, _os_reason(exc), database) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StateDirError(folder, _unwritable(folder), database)
    if database.is_dir():
        raise StateDirError(database, "is a folder, not a database file", database)
    if database.exists() and not os.access(database, os.R_OK | os.W_OK):
        raise StateDirError(database, _unwritable(database), database)
    try:  # what os.access cannot see (a network file system, a security module)
        with tempfile.TemporaryFile(dir=folder, prefix=".dxbot-write-check-"):
            pass
    except OSError as exc:
        raise StateDirError(folder, _os_reason(exc), database) from None


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        check_writable(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        _count_errors(engine)

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
    # Statements' parameters hold users' words (questions, chat titles): never in an error's text, hence in no log.
    engine = create_async_engine(url, pool_pre_ping=True, hide_parameters=True)
    _count_errors(engine)
    return engine


def _count_errors(engine: AsyncEngine) -> None:
    """dxbot_database_errors_total: every failed operation, as "unreachable" when waiting would fix it."""
    @event.listens_for(engine.sync_engine, "handle_error")
    def _count(context) -> None:
        outage = passes_by_itself(context.original_exception) or context.is_disconnect
        metrics.DATABASE_ERRORS.labels("unreachable" if outage else "other").inc()


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


class DatabaseUnreachable(Exception):
    """The database did not answer within DXBOT_DB_WAIT seconds. ``place`` (database_place of the URL), ``reason``
    (the last error, "ConnectionRefusedError: …"), ``waited`` (seconds), ``attempts``; ``permanent`` is False here
    and True for DatabaseRefused."""

    permanent = False

    def __init__(self, place: str, reason: str, *, waited: float = 0.0, attempts: int = 1) -> None:
        super().__init__(place, reason)
        self.place, self.reason, self.waited, self.attempts = place, reason, waited, attempts

    def __str__(self) -> str:
        tries = "1 attempt" if self.attempts == 1 else f"{self.attempts} attempts over {self.waited:.1f} s"
        return (f"database {self.place} is not reachable ({self.reason}); gave up after {tries} "
                f"(DXBOT_DB_WAIT sets how many seconds to wait)")


class DatabaseRefused(DatabaseUnreachable):
    """The database answered with an error that waiting cannot fix (authentication failed, no such database, a
    connection parameter it rejects): raised at the first attempt. ``hint`` says what to change."""

    permanent = True

    def __init__(self, place: str, reason: str, hint: str) -> None:
        super().__init__(place, reason)
        self.hint = hint

    def __str__(self) -> str:
        return f"database {self.place} cannot be used ({self.reason}); {self.hint}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps, outermost first: SQLAlchemy's ``orig``, then causes and contexts."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen:
            current = orig
        elif current.__cause__ is not None:
            current = current.__cause__
        else:
            current = None if current.__suppress_context__ else current.__context__


def _sqlstate(exc: BaseException) -> str | None:
    return next((state for e in _causes(exc) if isinstance(state := getattr(e, "sqlstate", None), str) and state),
                None)


# A network that is not there (yet): not a file the process may not write, which no waiting fixes.
_NETWORK_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH,
                             errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.ETIMEDOUT, errno.EPIPE})


def passes_by_itself(exc: BaseException) -> bool:
    """Whether waiting may fix this failure to connect: the server down, starting, full, or out of reach."""
    if (state := _sqlstate(exc)) is not None:
        return state.startswith(_PASSING_SQLSTATES)
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return False
        if isinstance(cause, ConnectionError | socket.gaierror | asyncio.TimeoutError) or (
                isinstance(cause, OSError) and cause.errno in _NETWORK_ERRNOS):  # refused, reset, no such host yet
            return True
        if isinstance(cause, sqlite3.OperationalError):
            return "unable to open" in str(cause) or "locked" in str(cause)
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _describe(exc: BaseException) -> str:
    """The innermost error in one line: "ConnectionRefusedError: [Errno 111] Connect call failed (…)"."""
    inner = list(_causes(exc))[-1]
    message = " ".join(str(inner).split()) or "no answer"
    if len(message) > 300:
        message = message[:297] + "..."
    return f"{type(inner).__name__}: {message}"


async def wait_for_database(db: Database, seconds: float, *, sleep: Callable[[float], Awaitable[object]] =
                            asyncio.sleep, clock: Callable[[], float] = time.monotonic) -> None:
    """Connect and run SELECT 1, retrying a database that is not reachable (yet) for up to ``seconds`` (0: one
    attempt), 0.5 s apart at first, doubling to at most 5 s. Logs one WARNING at the first failure (where and why),
    one more every 10 s of waiting, and INFO once it answers after a wait.

    Raises DatabaseUnreachable when the time is up, DatabaseRefused at once for what waiting cannot fix."""
    place = database_place(db.url)
    start = clock()
    deadline, delay, attempts, last_line = start + seconds, FIRST_DELAY, 0, None
    while True:
        attempts += 1
        limit = min(ATTEMPT_TIMEOUT, max(deadline - clock(), 1.0))
        try:
            async with asyncio.timeout(limit):
                async with db.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - sorted below: passing failures are retried, others raised
            reason = _describe(exc)
            if isinstance(exc, TimeoutError) and not str(exc):
                reason = f"TimeoutError: no answer within {limit:g} s"
            if not passes_by_itself(exc):
                state = _sqlstate(exc)
                hint = _HINTS.get(state or "", "waiting will not fix this: check DXBOT_DATABASE_URL")
                raise DatabaseRefused(place, reason, hint) from exc
            last_error = exc
        else:
            if attempts > 1:
                startup_log.info("database %s reachable after %.1f s", place, clock() - start)
            return
        now = clock()
        if now >= deadline:
            raise DatabaseUnreachable(place, reason, waited=now - start, attempts=attempts) from last_error
        if last_line is None:
            startup_log.warning("database %s is not reachable (%s); retrying for up to %g s", place, reason, seconds)
            last_line = now
        elif now - last_line >= STILL_WAITING_EVERY:
            startup_log.warning("still waiting for database %s after %.0f s of up to %g s (%d attempts; last: %s)",
                                place, now - start, seconds, attempts, reason)
            last_line = now
        await sleep(min(delay, deadline - now))
        delay = min(delay * 2, MAX_DELAY)
