"""Issue 6's features, timed: inline queries through the real Application (Telegram gives a bot 10 s to answer
one, and users expect cards as they type), an edited question, /bieudo and /xuat including drawing the file.

Run: .venv/bin/python bench/bench_features.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Update  # noqa: E402

from bench.bench_bot import seeded_bot  # noqa: E402
from bot.app import close_state  # noqa: E402

INLINE_QUERIES = ["so y te", "thống kê", "top 5 cấp sở", "Sở KH", "ninh kieu", "", "2 đơn vị cuối cấp huyện",
                  "sở tt&tt"]


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


async def measure(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        application, transport = await seeded_bot(tmp)
        await application.initialize()

        async def timed(update: dict) -> float:
            started = time.perf_counter()
            await application.process_update(Update.de_json(update, application.bot))
            return time.perf_counter() - started

        try:
            for query in INLINE_QUERIES:  # warm the index and caches
                await timed(transport.inline_query(4242, query))
            inline = [await timed(transport.inline_query(4242 + i % 7, INLINE_QUERIES[i % len(INLINE_QUERIES)],
                                                         "en" if i % 3 == 0 else "vi")) for i in range(rounds)]
            cards = [len(p["results"]) for p in transport.sent("answerInlineQuery")[-rounds:]]
            print(f"inline query to answerInlineQuery ({rounds} queries, {min(cards)}–{max(cards)} cards): "
                  f"{_percentiles(inline)}")

            edits = []
            for i in range(rounds // 3):
                question = transport.message(5000 + i, "so y te")
                await timed(question)
                edits.append(await timed(transport.edit(question, "so tai chinh")))
            print(f"edited question to edited answer ({len(edits)} edits): {_percentiles(edits)}")

            for command, runs in (("/bieudo cấp sở", 10), ("/bieudo", 5), ("/xuat", 10), ("/xuat csv", 10)):
                samples = [await timed(transport.message(4242, command)) for _ in range(runs)]
                print(f"{command} to the file sent ({runs} runs, drawing included): {_percentiles(samples)}")
        finally:
            await application.shutdown()
            await close_state(application)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{date.today().isoformat()}")
    asyncio.run(measure(args.rounds))


if __name__ == "__main__":
    main()
