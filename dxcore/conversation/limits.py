"""Limits on what the bot sends and on what it takes in, without any messenger:

- ``SendBudget``: one send budget per process for replies and alerts together (a token bucket), replies served
  before alerts when both wait, and at most ``group_limit`` messages per ``group_window`` seconds in each group,
  where waiting for one group's window never holds up another chat.
- ``FloodGuard``: ``DXBOT_FLOOD`` per user (e.g. 20 updates in 10 s); over it, one notice, then silence for a while.
- ``Cooldown``: at most one costly answer of a kind (a chart, an export) per chat per few seconds.

Each takes an injectable clock (the budget also a sleep), so tests run on fake time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from enum import StrEnum

from dxcore.observability import metrics

REPLY, ALERT = 0, 1  # priorities: lower goes first
SWEEP_ABOVE = 4096  # per-chat and per-user memory is swept of idle entries once it holds this many

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SendBudget:
    """Every message sent with one bot token goes through ``acquire``: at most ``per_second`` in the long run (a
    short burst of ``burst_seconds`` worth absorbs the pauses between sends), and ``pause`` (Telegram's "retry
    after") holds everyone. Waiters are served by priority, then in arrival order; only the one at the head sleeps
    for the next token, so a waiting alert never takes a token a reply is waiting for.

    Groups (``group`` given: any hashable id) also get at most ``group_limit`` messages in any ``group_window``
    seconds. A send reserves its slot in its group's window and sleeps on its own until then, before queueing for
    a token: a full group never delays a send to another chat."""

    def __init__(self, per_second: float, *, group_limit: int = 20, group_window: float = 60.0,
                 burst_seconds: float = 0.05, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        if per_second <= 0:
            raise ValueError("the send rate must be positive")
        self.per_second = per_second
        self.capacity = max(1.0, per_second * burst_seconds)
        self.group_limit, self.group_window = group_limit, group_window
        self.clock, self.sleep = clock, sleep
        self.tokens = self.capacity
        self.updated = clock()
        self.blocked_until = 0.0
        self._queue: list[tuple[int, int, asyncio.Event]] = []  # (priority, arrival, wake-up): a heap
        self._arrivals = itertools.count()
        self._groups: dict[Hashable, deque[float]] = {}  # a group's last group_limit slots, oldest first

    async def acquire(self, priority: int = REPLY, *, group: Hashable | None = None) -> None:
        if group is not None:
            await self._group_slot(group)
        await self._token(priority)

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after": nothing goes out before then, to any chat."""
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)
        self.tokens = 0.0

    async def unpaused(self) -> None:
        """Wait out a pause (calls that send nothing still should not go out during one)."""
        while (left := self.blocked_until - self.clock()) > 0:
            await self.sleep(left)

    @property
    def waiting(self) -> int:
        return len(self._queue)

    async def _group_slot(self, group: Hashable) -> None:
        now = self.clock()
        slots = self._groups.get(group)
        if slots is None:
            if len(self._groups) >= SWEEP_ABOVE:
                self._groups = {g: s for g, s in self._groups.items() if s[-1] > now - self.group_window}
            slots = self._groups[group] = deque(maxlen=self.group_limit)
        # The window holds the last group_limit slots: a new one comes a whole window after the oldest of them.
        slot = now if len(slots) < self.group_limit else max(now, slots[0] + self.group_window)
        slots.append(slot)
        if slot > now:
            await self.sleep(slot - now)

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now

    async def _token(self, priority: int) -> None:
        entry = (priority, next(self._arrivals), asyncio.Event())
        asked, waited = self.clock(), False
        heapq.heappush(self._queue, entry)
        try:
            while True:
                now = self.clock()
                self._refill(now)
                if self._queue[0] is not entry:
                    entry[2].clear()
                    waited = True
                    await entry[2].wait()  # woken when it becomes the head
                    continue
                wait = max(self.blocked_until - now, (1.0 - self.tokens) / self.per_second)
                if wait <= 1e-9:  # not 0: float refills can fall short by a rounding error that no sleep fixes
                    heapq.heappop(self._queue)
                    self.tokens -= 1.0
                    self._wake_head()
                    if waited:
                        _count_wait(priority, now - asked)
                    return
                waited = True
                await self._sleep_or_wake(entry[2], wait)
        except BaseException:
            if entry in self._queue:  # cancelled while waiting: let the next one have its turn
                self._queue.remove(entry)
                heapq.heapify(self._queue)
                self._wake_head()
            raise

    def _wake_head(self) -> None:
        if self._queue:
            self._queue[0][2].set()

    async def _sleep_or_wake(self, event: asyncio.Event, seconds: float) -> None:
        """Sleep for the next token, or less if a send of higher priority took the head meanwhile (it wakes nobody:
        the sleeper finds it is no longer the head when it wakes, and then waits its turn)."""
        event.clear()
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        waker = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()


def _count_wait(priority: int, seconds: float) -> None:
    label = "reply" if priority == REPLY else "alert"
    metrics.BUDGET_WAITS.labels(label).inc()
    metrics.BUDGET_WAIT_SECONDS.labels(label).inc(seconds)


@dataclass(frozen=True)
class FloodLimit:
    """``count`` updates in ``seconds``; ``parse`` reads DXBOT_FLOOD ("20/10s", "30/1m", or "off": None)."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> FloodLimit | None:
        if text.strip().lower() in {"off", "none", "0", ""}:
            return None
        found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min)?\s*", text.lower())
        if not found or int(found[1]) < 1 or float(found[2]) <= 0:
            raise ValueError(f"the flood limit must look like 20/10s (20 updates in 10 seconds) or off, not {text!r}")
        unit = 60.0 if found[3] in ("m", "min") else 1.0
        return cls(int(found[1]), float(found[2]) * unit)


class Verdict(StrEnum):
    ADMIT = "admit"
    NOTICE = "notice"  # the update that went over the limit: tell the user once
    DROP = "drop"  # while the user is blocked: ignore silently


class FloodGuard:
    """Per user: more than ``limit.count`` updates within ``limit.seconds`` → one NOTICE, then DROP for
    ``block_seconds``; after that the user starts afresh. ``limit=None`` admits everything."""

    def __init__(self, limit: FloodLimit | None, *, block_seconds: float = 30.0, clock: Clock = time.monotonic) -> None:
        self.limit, self.block_seconds, self.clock = limit, block_seconds, clock
        self._recent: dict[Hashable, deque[float]] = {}
        self._blocked: dict[Hashable, float] = {}

    def check(self, user: Hashable) -> Verdict:
        if self.limit is None:
            return Verdict.ADMIT
        now = self.clock()
        until = self._blocked.get(user)
        if until is not None:
            if now < until:
                return Verdict.DROP
            del self._blocked[user]
        recent = self._recent.get(user)
        if recent is None:
            if len(self._recent) >= SWEEP_ABOVE:
                self._sweep(now)
            recent = self._recent[user] = deque(maxlen=self.limit.count)
        if len(recent) == self.limit.count and now - recent[0] < self.limit.seconds:
            del self._recent[user]
            self._blocked[user] = now + self.block_seconds
            return Verdict.NOTICE
        recent.append(now)
        return Verdict.ADMIT

    def _sweep(self, now: float) -> None:
        assert self.limit is not None
        self._recent = {u: r for u, r in self._recent.items() if r[-1] > now - self.limit.seconds}
        self._blocked = {u: t for u, t in self._blocked.items() if t > now}


CHART, EXPORT = "chart", "export"


class Cooldown:
    """At most one answer of a kind (``CHART``, ``EXPORT``) per chat per ``seconds``; kinds are independent."""

    def __init__(self, seconds: float = 10.0, *, clock: Clock = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._last: dict[tuple[Hashable, str], float] = {}

    def claim(self, chat: Hashable, kind: str) -> float:
        """0.0 when this chat may have one now (and the claim is recorded); otherwise the seconds left to wait,
        and nothing is recorded."""
        now = self.clock()
        last = self._last.get((chat, kind))
        if last is not None and (left := last + self.seconds - now) > 0:
            return left
        if len(self._last) >= SWEEP_ABOVE:
            self._last = {key: t for key, t in self._last.items() if t > now - self.seconds}
        self._last[(chat, kind)] = now
        return 0.0
