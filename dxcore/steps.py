"""Work done in steps, so that an event loop serving chats gets a turn between them.

A step function is a generator that yields wherever it may be paused and returns its result; ``paced`` runs it on
the loop, giving other tasks a turn every few milliseconds, ``run_all`` runs it in one go (no loop to share)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Generator
from typing import TypeVar

SLICE = 0.004  # seconds of work between two turns of the event loop

T = TypeVar("T")
Steps = Generator[None, None, T]


def run_all(steps: Steps[T]) -> T:
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


async def paced(steps: Steps[T]) -> T:
    """Run ``steps`` on the event loop, giving it a turn whenever SLICE has passed since the last one."""
    since = time.perf_counter()
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
        if time.perf_counter() - since >= SLICE:
            await asyncio.sleep(0)
            since = time.perf_counter()



async def bounded(work: Awaitable[T], seconds: float) -> T:
    """``work``'s result within ``seconds``, else TimeoutError at once. Unlike asyncio.wait_for, the caller does not
    wait for the cancelled work to wind down (a database connection on a frozen network takes seconds to); what
    that work ends with is consumed, never reported as an unretrieved exception."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task in done:
        return task.result()
    task.cancel()
    task.add_done_callback(lambda ended: ended.cancelled() or ended.exception())
    raise TimeoutError(f"no result within {seconds:g} s")


async def unless_stopped(work: Awaitable[object], stop: asyncio.Event) -> bool:
    """Run ``work`` unless ``stop`` is set first (then cancel it): whether it ran to the end."""
    task, stopped = asyncio.ensure_future(work), asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        return False
    task.result()  # its exception, if it failed
    return True
