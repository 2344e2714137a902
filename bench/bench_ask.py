"""Questions at scale: time per question (reading it, resolving units, answering from the snapshot) with the shipped
decision plus a synthetic cấp xã ranking of 10,000 communes; and the pass rate of the conversation sets per kind.

Run: .venv/bin/python bench/bench_ask.py [--units 10000] [--questions 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ingest import synthetic_decision  # noqa: E402

from dxcore.answering.assistant import answer_text  # noqa: E402
from dxcore.parsing import parse_bytes  # noqa: E402
from dxcore.store.db import Database  # noqa: E402
from dxcore.store.decisions import load_shipped_if_empty, store_decision  # noqa: E402
from dxcore.understanding.catalog import Catalog  # noqa: E402
from dxcore.understanding.text import fold  # noqa: E402
from tests.matching import judge, load_set  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SETS = ("conversation-dev.tsv", "conversation-more.tsv", "conversation-unseen.tsv")
PHRASINGS = ["{name} xếp hạng mấy", "cho em hỏi kq cđs của {name} ạ", "{folded} dc bn %", "{name}",
             "so sánh {name} với {other}", "{name} so với trung bình thì sao"]
OTHERS = ["top 5 cấp xã", "những xã nào trên 90%", "thống kê cấp xã", "hạng 17 cấp xã là ai", "cảm ơn bot",
          "tỷ lệ trung bình của các xã", "năm 2024 thì sao", "ai ký quyết định"]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def _latency(units: int, questions: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
        await db.prepare(load_shipped_if_empty)
        parsed = parse_bytes(synthetic_decision(units), "synthetic.txt")
        assert parsed.ok, parsed.errors[:3]
        async with db.session() as session, session.begin():
            await store_decision(session, parsed.decision, actor="bench")
        started = time.perf_counter()
        view = await Catalog().current(db)
        build = time.perf_counter() - started
        names = [u.name for u in view.snapshot.units.values() if u.level == "xa"]
        rng = random.Random(5)
        asked: list[tuple[str, str | None]] = []
        for _ in range(questions):
            if rng.random() < 0.75:
                name, other = rng.sample(names, 2)
                short = name.removeprefix("UBND ").split(" (")[0]
                template = rng.choice(PHRASINGS)
                asked.append((template.format(name=short, folded=fold(short), other=other.split(" (")[0]),
                              name if "{other}" not in template else None))
            else:
                asked.append((rng.choice(OTHERS), None))
        ids = {u.name: u.id for u in view.snapshot.units.values()}
        times: list[float] = []
        outcomes: Counter[str] = Counter()
        for question, expected in asked:
            started = time.perf_counter()
            answer = answer_text(view, question)
            times.append((time.perf_counter() - started) * 1000)
            if expected is not None:  # a question about one commune: right, asked back (choices), or wrong
                if answer.kind != "unit":
                    outcomes["asked back"] += 1
                else:
                    outcomes["right" if answer.units[0] == ids[expected] else "wrong"] += 1
        await db.close()
    p50, p99 = _percentiles(times)
    return {"units": units + 29, "questions": len(asked), "p50": p50, "p99": p99, "build": build,
            "outcomes": outcomes, "by_kind": _by_kind(asked, times)}


def _by_kind(asked: list[tuple[str, str | None]], times: list[float]) -> dict[str, tuple[float, float]]:
    groups: dict[str, list[float]] = defaultdict(list)
    for (question, _), took in zip(asked, times):
        groups["compare" if question.startswith("so sánh") else "one unit" if _ else "other"].append(took)
    return {kind: _percentiles(samples) for kind, samples in groups.items()}


async def _pass_rates() -> dict[str, dict[str, tuple[int, int]]]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/sets.sqlite3")
        await db.prepare(load_shipped_if_empty)
        view = await Catalog().current(db)
        rates: dict[str, dict[str, tuple[int, int]]] = {}
        for name in SETS:
            per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
            for row in load_set(FIXTURES / name):
                missing, present = judge(row, answer_text(view, row["question"]).render_plain(row["lang"]))
                counts = per_kind[row["kind"]]
                counts[0] += not missing and not present
                counts[1] += 1
                counts[2] += bool(present)
            rates[name] = {kind: tuple(c) for kind, c in sorted(per_kind.items())}
        await db.close()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=2000)
    args = parser.parse_args()
    rates = asyncio.run(_pass_rates())
    latency = asyncio.run(_latency(args.units, args.questions))
    print(f"# bench_ask — {date.today()} — {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}\n")
    kinds = sorted({k for r in rates.values() for k in r})
    print("| kind | " + " | ".join(SETS) + " |")
    print("|---|" + "---:|" * len(SETS))
    for kind in kinds:
        cells = []
        for name in SETS:
            good, total, wrong = rates[name].get(kind, (0, 0, 0))
            cells.append(f"{good}/{total}" + (f" ({wrong} wrong unit)" if wrong else "") if total else "–")
        print(f"| {kind} | " + " | ".join(cells) + " |")
    totals = []
    for name in SETS:
        good = sum(c[0] for c in rates[name].values())
        total = sum(c[1] for c in rates[name].values())
        wrong = sum(c[2] for c in rates[name].values())
        totals.append(f"**{good}/{total} = {100 * good / total:.1f}%**, wrong unit {wrong}")
    print("| all | " + " | ".join(totals) + " |\n")
    outcomes = latency["outcomes"]
    print(f"{latency['questions']} questions over {latency['units']:,} units: p50 {latency['p50']:.2f} ms, "
          f"p99 {latency['p99']:.2f} ms; catalog build {latency['build']:.2f} s")
    for kind, (p50, p99) in sorted(latency["by_kind"].items()):
        print(f"  {kind}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"questions about one commune: {dict(outcomes)} of {sum(outcomes.values())}")


if __name__ == "__main__":
    main()
