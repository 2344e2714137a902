"""Fan-out of one decision's alerts to many chats against the fake Bot API enforcing a global rate: achieved rate,
429s, lost and duplicated alerts.

Run: .venv/bin/python bench/bench_fanout.py [--alerts 10000] [--limits 30 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot  # noqa: E402

from bot.alerts import TelegramSender  # noqa: E402
from dxcore.alerts.delivery import DeliveryWorker  # noqa: E402
from dxcore.parsing import parse_bytes  # noqa: E402
from dxcore.publishing.publish import publish  # noqa: E402
from dxcore.store.db import Database  # noqa: E402
from dxcore.store.decisions import load_shipped_if_empty, store_decision  # noqa: E402
from dxcore.store.models import Chat, Subscription  # noqa: E402
from dxcore.understanding.catalog import Catalog  # noqa: E402
from tests.fakebot import FakeBotApi  # noqa: E402
from tests.test_delivery import later_decision  # noqa: E402

SEED = ROOT / "data" / "decisions" / "seed-decision-1568-QD-UBND-2024.txt"


async def fan_out(alerts: int, limit: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/fanout.sqlite3")
        await db.prepare(load_shipped_if_empty)
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        async with db.session() as session, session.begin():
            session.add_all(Chat(id=1000 + i, type="private", active=True, updated_at=now) for i in range(alerts))
            await session.flush()
            session.add_all(Subscription(chat_id=1000 + i, thread_id=0, scope="all", level="", unit_id=0,
                                         silent=False, created_at=now) for i in range(alerts))
            parsed = parse_bytes(later_decision(SEED.read_text(encoding="utf-8")), "later.txt").decision
            stored = await store_decision(session, parsed, actor="bench")
            queued = (await publish(session, stored.decision_id, actor="bench", now=now)).alerts
        assert queued == alerts
        with FakeBotApi() as fake:
            fake.rate_limit(limit, burst=max(1.0, limit / 10))  # a token bucket holding a tenth of a second
            async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.file_base_url) as bot:
                # A little under the limit, as DXBOT_SEND_RATE should be set (25 for Telegram's 30).
                worker = DeliveryWorker(db, TelegramSender(bot), Catalog(), rate=limit * 0.98, batch=5)
                started = time.monotonic()
                while True:
                    handled = await worker.run_once(max_seconds=3600)
                    delivered = len(fake.sent())
                    if delivered >= alerts or not handled:
                        if delivered >= alerts:
                            break
                        await asyncio.sleep(0.2)
                elapsed = time.monotonic() - started
            chats = Counter(str(c.params["chat_id"]) for c in fake.sent())
            served_429 = fake.served_429
        await db.close()
    return {"alerts": alerts, "limit": limit, "seconds": elapsed, "rate": alerts / elapsed,
            "lost": alerts - len(chats), "duplicated": sum(n - 1 for n in chats.values()), "served_429": served_429}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--limits", type=float, nargs="+", default=[30, 100])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {date.today().isoformat()}")
    print("| limit | alerts | time | achieved rate | ratio | 429s served | lost | duplicated |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for limit in args.limits:
        r = asyncio.run(fan_out(args.alerts, limit))
        print(f"| {limit:.0f}/s | {r['alerts']:,} | {r['seconds']:.1f} s | {r['rate']:.1f}/s | "
              f"{r['rate'] / limit:.3f} | {r['served_429']} | {r['lost']} | {r['duplicated']} |", flush=True)


if __name__ == "__main__":
    main()
