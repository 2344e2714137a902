"""Catalog changes under load (issue 12): answer latency and event-loop stalls while questions stream in and the
catalog changes, with a stored decision of 10,000 communes.

Questions arrive open-loop (each at its scheduled time, answered by ``Conversation`` in its own task), so a stalled
loop shows as late answers; a 5 ms ticker's worst lateness is the longest stall. Phases:
  idle        questions only
  publish (another process)  a subprocess stores a second 10,000-unit decision; this process's catalog notices it
              at its next check (every 3 s) and rebuilds
  publish (this process)     a third one as an admin publishes it: the upload read in a child process
              (DocumentReader), the held preview turned back into a decision (in steps), stored and published on
              this loop, then the catalog update the core makes after publishing
  100 picks   a pick every 30 ms (record_pick in its own transaction, then the catalog update the core makes)

Run: .venv/bin/python bench/bench_load.py [--units 10000] [--rate 40]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ask import OTHERS, PHRASINGS, _percentiles  # noqa: E402
from bench_ingest import synthetic_decision  # noqa: E402

from dxcore.conversation.actions import ButtonSeal  # noqa: E402
from dxcore.conversation.core import Conversation  # noqa: E402
from dxcore.conversation.events import Person, Place, Said  # noqa: E402
from dxcore.parsing import ParsedDecision, parse_bytes  # noqa: E402
from dxcore.parsing.sandbox import DocumentReader  # noqa: E402
from dxcore.publishing.publish import store_and_publish  # noqa: E402
from dxcore.steps import paced  # noqa: E402
from dxcore.store.db import Database  # noqa: E402
from dxcore.store.decisions import load_shipped_if_empty, store_decision  # noqa: E402
from dxcore.understanding.catalog import Catalog, record_pick  # noqa: E402
from dxcore.understanding.text import fold  # noqa: E402

TICK = 0.005


def later_decision(units: int, year: int) -> bytes:
    """The synthetic decision's communes evaluated again in ``year`` (signed the next July, its own number)."""
    text = synthetic_decision(units).decode()
    text = text.replace(f"Số: 9{units}/", f"Số: {year}{units}/").replace("tháng 7 năm 2025", f"tháng 7 năm {year + 1}")
    return text.replace("năm 2024", f"năm {year}").replace("NĂM 2024", f"NĂM {year}").encode()


async def _store(url: str, data: bytes) -> None:
    db = Database(url)
    parsed = parse_bytes(data, "later.txt")
    assert parsed.ok, parsed.errors[:3]
    async with db.session() as session, session.begin():
        await store_decision(session, parsed.decision, actor="bench")
    await db.close()


class Load:
    """Questions at a fixed rate and a 5 ms ticker, recorded per phase."""

    def __init__(self, core: Conversation, questions: list[str], rate: float) -> None:
        self.core, self.questions, self.interval = core, questions, 1 / rate
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.lateness: list[float] = []
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._asked = 0

    async def _answer(self, question: str, due: float) -> None:
        self._asked += 1
        chat = 10_000 + self._asked % 50
        try:
            await self.core.said(Said(Place(chat), Person(chat), question, message_id=self._asked))
        except Exception as error:  # noqa: BLE001 - counted and shown: the code before issue 12 ran out of connections
            self.errors.append(type(error).__name__)
            return
        self.latencies.append(time.perf_counter() - due)

    async def _questions(self) -> None:
        due = time.perf_counter()
        rng = random.Random(3)
        while not self._stop.is_set():
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            task = asyncio.create_task(self._answer(rng.choice(self.questions), due))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            due += self.interval

    async def _ticker(self) -> None:
        due = time.perf_counter() + TICK
        while not self._stop.is_set():
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            now = time.perf_counter()
            self.lateness.append(now - due)
            due = now + TICK

    async def during(self, work) -> dict:
        """Run ``work()`` under load; the phase lasts until it returns, plus one second."""
        self.latencies, self.errors, self.lateness, self._stop = [], [], [], asyncio.Event()
        load = [asyncio.create_task(self._questions()), asyncio.create_task(self._ticker())]
        started = time.perf_counter()
        await asyncio.sleep(0.2)
        await work()
        await asyncio.sleep(1.0)
        self._stop.set()
        await asyncio.gather(*load, *self._tasks)
        p50, p99 = _percentiles([t * 1000 for t in self.latencies])
        return {"seconds": time.perf_counter() - started, "answers": len(self.latencies), "failed": len(self.errors),
                "p50": p50, "p99": p99,
                "max": max(self.latencies) * 1000, "stall": max(self.lateness) * 1000}


async def _run(units: int, rate: float) -> list[tuple[str, dict]]:
    results: list[tuple[str, dict]] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/load.sqlite3"
        db = Database(url)
        await db.prepare(load_shipped_if_empty)
        await _store(url, synthetic_decision(units))
        third = later_decision(units, 2026)
        catalog = Catalog()  # the production check interval
        core = Conversation(db, catalog, ButtonSeal.for_token(None))
        view = await catalog.current(db)
        names = sorted(u.name.removeprefix("UBND ").split(" (")[0] for u in view.snapshot.units.values()
                       if u.level == "xa")
        rng = random.Random(5)
        questions = [rng.choice(PHRASINGS).format(name=n, folded=fold(n), other=rng.choice(names))
                     for n in rng.sample(names, 400)] + OTHERS
        load = Load(core, questions, rate)
        for _ in range(3):  # warm up: the first answers fill caches
            await core.said(Said(Place(1), Person(1), questions[0]))

        async def idle() -> None:
            await asyncio.sleep(3)

        results.append(("idle", await load.during(idle)))
        print(results[-1], file=sys.stderr)

        async def elsewhere() -> None:
            known = len(view.snapshot.rankings)
            script = ("import asyncio, sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/bench']; "
                      "from bench_load import _store, later_decision; "
                      "asyncio.run(_store(sys.argv[2], later_decision(int(sys.argv[3]), 2025)))")
            proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, str(ROOT), url, str(units))
            assert await proc.wait() == 0
            while len((await catalog.current(db)).snapshot.rankings) == known:  # until this catalog has it
                await asyncio.sleep(0.05)

        results.append(("publish (another process)", await load.during(elsewhere)))
        print(results[-1], file=sys.stderr)

        async def here() -> None:
            read = await DocumentReader().read(third, "third.txt")
            decision = await paced(ParsedDecision.from_json_in_steps(read.decision_json))
            async with db.session() as session, session.begin():
                await store_and_publish(session, decision, actor="bench")
            await _changed(catalog, db)

        results.append(("publish (this process)", await load.during(here)))
        print(results[-1], file=sys.stderr)

        view = await catalog.current(db)
        xa = [u.id for u in view.snapshot.units.values() if u.level == "xa"]

        async def picks() -> None:
            rng = random.Random(9)
            texts = [f"xã số {i}" for i in range(20)]
            pending = []
            for i in range(100):
                key = view.resolver.alias_key(rng.choice(texts))
                pending.append(asyncio.create_task(
                    _pick(catalog, db, key, rng.choice(xa[:40]), chat_id=1 + i % 7, user_id=100 + i % 23)))
                await asyncio.sleep(0.03)
            failed = [r for r in await asyncio.gather(*pending, return_exceptions=True) if r is not None]
            if failed:
                print(f"  {len(failed)} picks failed: {type(failed[0]).__name__}", file=sys.stderr)

        results.append(("100 picks", await load.during(picks)))
        print(results[-1], file=sys.stderr)
        await db.close()
    return results


async def _changed(catalog: Catalog, db: Database) -> None:
    """What the core does after publishing (before issue 12: invalidate, and the next question rebuilds)."""
    if hasattr(catalog, "changed"):
        await catalog.changed(db)
    else:
        catalog.invalidate()


async def _pick(catalog: Catalog, db: Database, key: str, unit_id: int, *, chat_id: int, user_id: int) -> None:
    """What the core does for a pick (before issue 12: invalidate, and the next question rebuilds)."""
    async with db.session() as session, session.begin():
        row = await record_pick(session, key, unit_id, chat_id=chat_id, user_id=user_id)
    if hasattr(catalog, "learned"):
        catalog.learned(row)
    else:
        catalog.invalidate()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=40.0, help="questions per second")
    args = parser.parse_args()
    results = asyncio.run(_run(args.units, args.rate))
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, {date.today()}; "
          f"{args.units:,} synthetic communes + the shipped decision; {args.rate:g} questions/s")
    print("| phase | seconds | answers | failed | answer p50 | p99 | max | longest loop stall (5 ms ticker) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for phase, r in results:
        print(f"| {phase} | {r['seconds']:.1f} | {r['answers']} | {r['failed']} | {r['p50']:.1f} ms "
              f"| {r['p99']:.1f} ms | {r['max']:.0f} ms | {r['stall']:.0f} ms |")


if __name__ == "__main__":
    main()
