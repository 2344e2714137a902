"""The outbox worker: claim due alerts in small batches, send each through a Sender, record what happened.

Claims are short UPDATE … RETURNING transactions (on PostgreSQL the candidates are picked with FOR UPDATE SKIP
LOCKED, so replicas share the work). One worker at a time is the sender (SenderRole): on PostgreSQL it holds an
advisory lock, which the server releases the moment its process or connection dies; on SQLite an exclusive lock on
a file next to the database, which the OS releases when the process dies. A claim left "sending" when a worker takes
the role therefore belongs to a sender that is gone, and goes straight back to the queue. A sender checks that it
still holds the role before each chunk and stops when it lost it. So a crash loses nothing, delivery resumes as soon
as a worker starts again, and only the alerts in flight (at most one chunk of ``batch``) can be sent twice.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from dxcore.alerts.message import alert_answer
from dxcore.alerts.subscriptions import migrate_chat, set_active
from dxcore.answering.answers import Answer, receipt_answer
from dxcore.answering.formatting import LOCAL_TIME
from dxcore.answering.i18n import VI
from dxcore.conversation.limits import ALERT, SendBudget
from dxcore.observability import metrics
from dxcore.observability.logs import FAILURES
from dxcore.store.db import Database
from dxcore.store.models import Chat, Decision, Delivery, Subscription
from dxcore.understanding.catalog import Catalog

log = logging.getLogger("dxbot.delivery")
LOCAL = LOCAL_TIME

SENT, RETRY, BLOCKED, MIGRATED, FAILED = "sent", "retry", "blocked", "migrated", "failed"
SEND_LOCK = 0x64786273  # pg advisory lock of the one sending replica
HELD_CHECK_EVERY = timedelta(minutes=1)
_memory_senders: set[str] = set()  # in-memory SQLite databases (no file to lock) that have a sender


@dataclass(frozen=True)
class SendResult:
    kind: str
    message_id: int | None = None
    retry_after: float | None = None  # seconds Telegram asked to wait
    new_chat_id: int | None = None
    error: str | None = None


class Sender(Protocol):
    """Sends one alert (one or more messages). A sender whose every message already goes through the worker's
    budget (``paces_itself = True``, like the Telegram bot's limiter) is not paced again by the worker."""

    async def send(self, chat_id: int, thread_id: int, answer: Answer, *, silent: bool,
                   lang: str = VI) -> SendResult: ...


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class QuietHours:
    """Local hours (Asia/Ho_Chi_Minh) when alerts wait; ``None`` bounds mean never quiet."""

    start: tuple[int, int] | None
    end: tuple[int, int] | None

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        if text.strip().lower() in {"off", "", "none"}:
            return cls(None, None)
        try:
            start, end = (tuple(int(x) for x in part.strip().split(":")) for part in text.split("-"))
            if not all(0 <= h < 24 and 0 <= m < 60 for h, m in (start, end)):
                raise ValueError
        except ValueError:
            raise ValueError(f"quiet hours must look like 21:00-07:00 or off, not {text!r}") from None
        return cls(start, end)  # type: ignore[arg-type]

    def resume_at(self, now: datetime) -> datetime | None:
        """When alerts may go again, if ``now`` is within the quiet hours; None when they may go now."""
        if self.start is None or self.end is None:
            return None
        local = now.astimezone(LOCAL)
        minutes, start, end = local.hour * 60 + local.minute, self.start[0] * 60 + self.start[1], \
            self.end[0] * 60 + self.end[1]
        quiet = start <= minutes < end if start < end else minutes >= start or minutes < end
        if not quiet:
            return None
        resume = local.replace(hour=self.end[0], minute=self.end[1], second=0, microsecond=0)
        if resume <= local:
            resume += timedelta(days=1)
        return resume.astimezone(UTC)


@dataclass(frozen=True)
class Content:
    answer: Answer
    silent: bool
    lang: str


@dataclass(frozen=True)
class Job:
    id: int
    decision_id: int
    chat_id: int
    thread_id: int
    attempts: int


class LostSenderRole(RuntimeError):
    pass


class SenderRole:
    """The one sender of a database, held from ``__aenter__`` to ``__aexit__`` (``acquired`` says whether it was
    free). PostgreSQL: a session advisory lock on a connection of its own, in autocommit so that it never sits idle
    in a transaction. SQLite: an exclusive flock on ``<database>.sender.lock``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.acquired = False
        self._conn: AsyncConnection | None = None
        self._file: IO[bytes] | None = None
        self._memory_key: str | None = None

    async def __aenter__(self) -> SenderRole:
        if self.db.is_postgres:
            self._conn = await self.db.engine.connect()
            try:
                await self._conn.execution_options(isolation_level="AUTOCOMMIT")
                self.acquired = bool(await self._conn.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                                              {"key": SEND_LOCK}))
            except BaseException:
                await self._conn.invalidate()  # never back to the pool in an unknown state
                raise
            return self
        path = make_url(self.db.url).database
        if not path or path == ":memory:":
            self._memory_key = self.db.url
            self.acquired = self.db.url not in _memory_senders
            if self.acquired:
                _memory_senders.add(self.db.url)
            return self
        self._file = open(f"{Path(path).expanduser()}.sender.lock", "ab")  # noqa: SIM115 - held until __aexit__
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.acquired = True
        except BlockingIOError:
            self.acquired = False
        return self

    async def held(self) -> bool:
        """Still the sender? On PostgreSQL the lock's connection may have dropped (and with it the lock)."""
        if self._conn is None:
            return self.acquired
        try:
            return bool(await self._conn.scalar(text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = :key "
                "AND pid = pg_backend_pid() AND granted)"), {"key": SEND_LOCK}))
        except Exception:  # noqa: BLE001 - a broken connection: the lock went with it
            return False

    async def __aexit__(self, *_exc_info: object) -> None:
        if self._conn is not None:
            try:
                if self.acquired:
                    await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SEND_LOCK})
            except BaseException as error:
                # Broken, or interrupted (a cancelled shutdown): a pooled connection still holding the lock would
                # keep every replica from sending, so this one is discarded, which releases the lock.
                await self._conn.invalidate()
                if not isinstance(error, Exception):
                    raise
                log.info("sender lock connection was already gone")
            else:
                await self._conn.close()
        elif self._file is not None:
            self._file.close()  # closing the file releases the flock
        elif self._memory_key is not None and self.acquired:
            _memory_senders.discard(self._memory_key)


class DeliveryWorker:
    def __init__(self, db: Database, sender: Sender, catalog: Catalog, *, rate: float = 25.0,
                 budget: SendBudget | None = None, quiet: QuietHours | None = None, clock: Clock = utc_now,
                 batch: int = 5, max_attempts: int = 8, worker_id: str | None = None,
                 admins: frozenset[int] = frozenset()) -> None:
        self.admins = admins
        self.db, self.sender, self.catalog = db, sender, catalog
        # The process's one budget, shared with replies (which go first); a budget of its own otherwise.
        self.budget = budget or SendBudget(rate)
        self.paced_by_sender = bool(getattr(sender, "paces_itself", False))
        self.quiet = quiet or QuietHours(None, None)
        self.clock = clock
        self.batch = batch
        self.max_attempts = max_attempts
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:8]}"
        self.chunks_ahead = 4  # claimed but unsent alerts are not in flight: a crash only returns them to the queue
        self._round: dict[str, int] = {}  # alerts handled in the current round, by result
        self._held, self._held_checked = 0, None  # due alerts said to wait for the end of quiet hours, and when

    async def claim(self) -> list[Job]:
        now = self.clock()
        async with self.db.session() as session, session.begin():
            due = (
                select(Delivery.id).where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
                .order_by(Delivery.id).limit(self.batch * self.chunks_ahead)
            )
            if self.db.is_postgres:
                due = due.with_for_update(skip_locked=True)
            rows = await session.execute(
                update(Delivery).where(Delivery.id.in_(due.scalar_subquery()))
                .values(status="sending", claimed_by=self.worker_id, claimed_at=now)
                .returning(Delivery.id, Delivery.decision_id, Delivery.chat_id, Delivery.thread_id, Delivery.attempts)
                .execution_options(synchronize_session=False)
            )
            return sorted((Job(*row) for row in rows), key=lambda job: job.id)

    async def _contents(self, jobs: list[Job]) -> dict[int, Content]:
        """Each job's alert, whether it is silent and the chat's language; chats following the same things share
        one Answer."""
        view = await self.catalog.current(self.db)
        known = {ranking.decision.id for ranking in view.snapshot.rankings}
        if any(job.decision_id not in known for job in jobs):  # published by another process moments ago
            self.catalog.invalidate()
            view = await self.catalog.current(self.db)
        chats = {job.chat_id for job in jobs}
        async with self.db.session() as session:
            subscriptions = list(await session.scalars(select(Subscription).where(Subscription.chat_id.in_(chats))))
            languages = dict((await session.execute(select(Chat.id, Chat.language).where(Chat.id.in_(chats)))).all())
        by_target: dict[tuple[int, int], list[Subscription]] = {}
        for sub in subscriptions:
            by_target.setdefault((sub.chat_id, sub.thread_id), []).append(sub)
        answers: dict[tuple, Answer] = {}
        contents = {}
        for job in jobs:
            subs = by_target.get((job.chat_id, job.thread_id))
            if not subs:
                continue  # unsubscribed since the publish
            follows = tuple(sorted((s.scope, s.level, s.unit_id) for s in subs))
            key = (job.decision_id, follows)
            if key not in answers:
                answers[key] = alert_answer(view.snapshot, job.decision_id, list(follows))
            contents[job.id] = Content(answers[key], all(s.silent for s in subs), languages.get(job.chat_id, VI))
        return contents

    async def _record(self, outcomes: list[tuple[Job, SendResult]]) -> None:
        """What happened to each alert of a chunk, in one short transaction. Should that fail, each alert is recorded
        on its own, so that one bad row can never make the chunk be sent again and again; a row that still cannot
        be recorded is closed as failed."""
        now = self.clock()
        try:
            async with self.db.session() as session, session.begin():
                for job, result in outcomes:
                    await self._record_one(session, job, result, now)
            self._tally(outcomes)
            return
        except SQLAlchemyError as exc:
            FAILURES.report(log, "recording a chunk of alerts", exc,
                            detail=f" ({len(outcomes)} alerts; recording them one by one)")
        self._tally(outcomes)
        for job, result in outcomes:
            try:
                async with self.db.session() as session, session.begin():
                    await self._record_one(session, job, result, now)
            except SQLAlchemyError as exc:
                FAILURES.report(log, "recording an alert", exc, detail=f" (alert {job.id})")
                async with self.db.session() as session, session.begin():
                    await session.execute(self._fenced(job).values(
                        status="sent" if result.kind == SENT else "failed", message_id=result.message_id,
                        claimed_by=None, claimed_at=None, attempts=job.attempts + 1,
                        last_error=f"could not be recorded: {type(exc).__name__}"))

    def _tally(self, outcomes: list[tuple[Job, SendResult]]) -> None:
        """Metrics and the round's summary count each alert once; a chat that blocked the bot or moved is said."""
        for job, result in outcomes:
            kind = self._outcome(job, result)
            metrics.ALERTS.labels(kind).inc()
            self._round[kind] = self._round.get(kind, 0) + 1
            if kind == BLOCKED:
                log.info("chat %s blocked the bot or removed it: no more alerts go there until it comes back",
                         job.chat_id)
            elif kind == MIGRATED:
                log.info("chat %s moved to supergroup %s: its subscriptions and alerts follow", job.chat_id,
                         result.new_chat_id)

    def _outcome(self, job: Job, result: SendResult) -> str:
        """What becomes of the alert: the send's result, except a retry with no attempt left, or a move to a chat
        whose id Telegram did not give, which end it as failed."""
        if (result.kind == RETRY and job.attempts + 1 >= self.max_attempts) or (
                result.kind == MIGRATED and result.new_chat_id is None):
            return FAILED
        return result.kind

    def _fenced(self, job: Job):
        """An update of the job's row, only while this worker's claim holds: a claim taken over by the next
        sender (this one lost the role) is the new sender's to record."""
        return update(Delivery).where(Delivery.id == job.id, Delivery.claimed_by == self.worker_id)

    async def _record_one(self, session: AsyncSession, job: Job, result: SendResult, now: datetime) -> None:
        values: dict = {"attempts": job.attempts + 1, "claimed_by": None, "claimed_at": None}
        kind = self._outcome(job, result)
        if kind == SENT:
            values |= {"status": "sent", "message_id": result.message_id, "sent_at": now}  # keeps last_error
        elif kind == BLOCKED:
            values |= {"status": "blocked", "last_error": result.error}
            await set_active(session, job.chat_id, False, now)
        elif kind == MIGRATED:
            await migrate_chat(session, job.chat_id, result.new_chat_id)
            if await session.scalar(select(Delivery.id).where(
                    Delivery.decision_id == job.decision_id, Delivery.chat_id == result.new_chat_id,
                    Delivery.thread_id == job.thread_id)):
                # The supergroup has (or had) this alert under its new id already: it is delivered there.
                values |= {"status": "sent", "last_error": result.error}
            else:
                values |= {"status": "pending", "chat_id": result.new_chat_id, "next_attempt_at": now,
                           "attempts": job.attempts, "last_error": result.error}
        elif kind == RETRY:
            wait = result.retry_after if result.retry_after is not None else min(2 ** job.attempts, 300)
            values |= {"status": "pending", "next_attempt_at": now + timedelta(seconds=wait),
                       "last_error": result.error}
        else:
            values |= {"status": "failed", "last_error": result.error}
        await session.execute(self._fenced(job).values(**values))

    async def _send(self, job: Job, content: Content | None) -> SendResult:
        if content is None:
            return SendResult(FAILED, error="no subscription left")
        await self._pace(job.chat_id)
        try:
            result = await self.sender.send(job.chat_id, job.thread_id, content.answer, silent=content.silent,
                                            lang=content.lang)
        except Exception as exc:  # noqa: BLE001 - a bug in one send must not stop the others
            FAILURES.report(log, "sending an alert", exc, detail=f" (alert {job.id})")
            result = SendResult(RETRY, error=f"{type(exc).__name__}: {exc}")
        if result.kind == RETRY and result.retry_after:
            self.budget.pause(result.retry_after)
        return result

    async def _pace(self, chat_id: int) -> None:
        if not self.paced_by_sender:
            await self.budget.acquire(ALERT, group=chat_id if chat_id < 0 else None)  # < 0: a group or channel

    async def _send_batch(self, role: SenderRole) -> int:
        """Claim a few chunks ahead, send one at a time at the budget's pace, record each chunk as it completes:
        at most one chunk (``batch`` alerts) is ever sent but not yet recorded. Each chunk starts only while this
        worker still holds the sender role; claims left behind are requeued by the next sender."""
        jobs = await self.claim()
        contents = await self._contents(jobs) if jobs else {}
        for start in range(0, len(jobs), self.batch):
            if not await role.held():
                raise LostSenderRole(f"{self.worker_id} lost the sender role; its claims go back to the queue")
            chunk = jobs[start : start + self.batch]
            await self._record([(job, await self._send(job, contents.get(job.id))) for job in chunk])
        for decision_id in sorted({job.decision_id for job in jobs}):
            await self._receipt(decision_id)
        return len(jobs)

    async def _receipt(self, decision_id: int) -> None:
        """Once no alert of a decision is left to send, its admins get the tally (once: the marker is claimed in
        the same statement that checks it, so two replicas cannot both send it)."""
        if not self.admins:
            return
        async with self.db.session() as session, session.begin():
            open_alerts = await session.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.decision_id == decision_id, Delivery.status.in_(("pending", "sending"))))
            if open_alerts:
                return
            claimed = await session.execute(
                update(Decision).where(Decision.id == decision_id, Decision.receipt_sent_at.is_(None))
                .values(receipt_sent_at=self.clock()).returning(Decision.number)
            )
            number = claimed.scalar_one_or_none()
            if number is None:
                return
            counts = dict((await session.execute(
                select(Delivery.status, func.count()).where(Delivery.decision_id == decision_id)
                .group_by(Delivery.status))).all())
            migrated = await session.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.decision_id == decision_id, Delivery.last_error.is_not(None),
                Delivery.status == "sent", Delivery.last_error.like("%migrat%")))
            languages = dict((await session.execute(
                select(Chat.id, Chat.language).where(Chat.id.in_(self.admins)))).all())
        receipt = receipt_answer(number, counts, migrated or 0)
        for admin in sorted(self.admins):
            await self._pace(admin)
            await self.sender.send(admin, 0, receipt, silent=True, lang=languages.get(admin, VI))

    async def run_once(self, max_seconds: float = 30.0, stop: asyncio.Event | None = None) -> int:
        """Send what is due, batch after batch, for up to ``max_seconds``; returns how many alerts were handled
        (0: nothing due, quiet hours, or another replica is the sender now).

        Telegram's limits are per bot, not per process: on PostgreSQL one replica at a time is the sender, holding
        an advisory lock while the queue has work, so all replicas together stay within one send budget.
        """
        if (resume := self.quiet.resume_at(self.clock())) is not None:
            await self._say_held(resume)
            return 0
        self._held = 0
        async with SenderRole(self.db) as role:
            if not role.acquired:
                return 0
            await self._requeue_orphans()
            handled, started = 0, time.monotonic()
            self._round = {}
            try:
                while time.monotonic() - started < max_seconds and not (stop and stop.is_set()):
                    try:
                        sent = await self._send_batch(role)
                    except LostSenderRole as exc:
                        log.warning("%s", exc)
                        break
                    handled += sent
                    if not sent or self.quiet.resume_at(self.clock()) is not None:
                        break
            finally:
                if self._round:
                    log.info("delivery round: %d alerts in %.1f s (%s)", sum(self._round.values()),
                             time.monotonic() - started,
                             ", ".join(f"{kind} {count}" for kind, count in sorted(self._round.items())))
            return handled

    async def _say_held(self, resume: datetime) -> None:
        """During quiet hours, at most once a minute: how many due alerts wait, when more are waiting than said."""
        now = self.clock()
        if self._held_checked is not None and now - self._held_checked < HELD_CHECK_EVERY:
            return
        self._held_checked = now
        async with self.db.session() as session:
            waiting = await session.scalar(select(func.count()).select_from(Delivery).where(
                Delivery.status == "pending", Delivery.next_attempt_at <= now)) or 0
        if waiting > self._held:
            log.info("quiet hours: %d alerts wait until %s", waiting, resume.astimezone(LOCAL).isoformat("T",
                                                                                                    "minutes"))
        self._held = waiting

    async def _requeue_orphans(self) -> None:
        """Claims still "sending" when the sender role is free were made by a sender that died: queue them again."""
        async with self.db.session() as session, session.begin():
            result = await session.execute(update(Delivery).where(Delivery.status == "sending")
                                           .values(status="pending", claimed_by=None, claimed_at=None))
        if result.rowcount:
            log.warning("%d alerts claimed by a sender that stopped are queued again", result.rowcount)

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Until ``stop`` is set: drain what is due, then look again every ``idle`` seconds."""
        while not stop.is_set():
            try:
                handled = await self.run_once(stop=stop)
                FAILURES.recovered(log, "database")
            except Exception as exc:  # noqa: BLE001 - keep the worker alive; the database may come back
                FAILURES.report(log, "a delivery round", exc)
                handled = 0
            if not handled:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle)
                except TimeoutError:
                    pass
