"""Work done in steps, so that an event loop serving chats gets a turn between them.

A step function is a generator that yields wherever it may be paused and returns its result; ``paced`` runs it on
the loop, giving other tasks a turn every few milliseconds, ``run_all`` runs it in one go (no loop to share)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
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



