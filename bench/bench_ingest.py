"""Parse, validate and store decisions with thousands of rows per level; writes docs/BENCHMARKS.md's ingest table.

Run: .venv/bin/python bench/bench_ingest.py [--rows 1000 5000 20000] [--documents]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

from dxcore.parsing import parse_bytes
from dxcore.store.db import Database
from dxcore.store.decisions import store_decision

PLACES = ["Tân", "Phú", "Long", "Thạnh", "Bình", "Hòa", "An", "Mỹ", "Thới", "Trường", "Đông", "Tây", "Nhơn", "Vĩnh",
          "Xuân", "Phước", "Lợi", "Hưng", "Thuận", "Khánh"]
DISTRICTS = ["Phong Điền", "Cờ Đỏ", "Thới Lai", "Vĩnh Thạnh", "Châu Thành", "Long Mỹ", "Phụng Hiệp"]
KINDS = ["xã", "phường", "thị trấn"]
TIERS = [(85, "Tốt"), (70, "Khá"), (50, "Trung bình"), (0, "Yếu")]


def synthetic_decision(rows: int, seed: int = 7) -> bytes:
    """A cấp xã decision with ``rows`` distinct communes, descending percentages with ties."""
    rng = random.Random(seed)
    names: set[str] = set()
    while len(names) < rows:
        a, b = rng.sample(PLACES, 2)
        names.add(f"UBND {rng.choice(KINDS)} {a} {b} {rng.randint(1, 99)} (huyện {rng.choice(DISTRICTS)})")
    percentages = sorted((round(rng.uniform(30, 99.99), 2) for _ in range(rows)), reverse=True)
    body, counts, previous, rank = [], {}, None, 0
    for position, (name, pct) in enumerate(zip(sorted(names), percentages), start=1):
        if pct != previous:
            rank, previous = position, pct
        tier = next(word for floor, word in TIERS if pct >= floor)
        counts[tier] = counts.get(tier, 0) + 1
        body.append(f"{rank}\t{name}\t{pct:.2f}%\t{tier}".replace(".", ","))
    stated = "\n".join(f"- Xếp loại {word}: {counts.get(word, 0)} đơn vị;" for _, word in TIERS)
    text = f"""ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ
Số: 9{rows}/QĐ-UBND
Cần Thơ, ngày 1 tháng 7 năm 2025
QUYẾT ĐỊNH
Công bố kết quả đánh giá, xếp hạng Chuyển đổi số năm 2024
QUYẾT ĐỊNH:
Điều 1. Công bố kết quả như sau:
1. Cấp xã:
{stated}
Điều 2. Quyết định có hiệu lực kể từ ngày ký.
Phụ lục I
KẾT QUẢ XẾP HẠNG CẤP XÃ NĂM 2024
Xếp hạng\tĐơn vị\tTỷ lệ\tXếp loại
""" + "\n".join(body) + "\n"
    return text.encode()


async def _store(data: bytes) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
        await db.prepare()
        outcome = parse_bytes(data, "bench.txt")
        started = time.perf_counter()
        async with db.session() as session, session.begin():
            await store_decision(session, outcome.decision, actor="bench")
        elapsed = time.perf_counter() - started
        await db.close()
        return elapsed


def measure(rows: int, repeats: int = 3) -> dict[str, float]:
    data = synthetic_decision(rows)
    parse_times = []
    for _ in range(repeats):
        started = time.perf_counter()
        outcome = parse_bytes(data, "bench.txt")
        parse_times.append(time.perf_counter() - started)
    assert outcome.ok, outcome.errors[:3]
    assert len(outcome.decision.levels[0].rows) == rows
    tracemalloc.start()
    parse_bytes(data, "bench.txt")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    store_time = asyncio.run(_store(data))
    return {"rows": rows, "bytes": len(data), "parse_s": min(parse_times), "peak_mib": peak / 2**20,
            "store_s": store_time}


def measure_documents() -> list[tuple[str, int, float]]:
    """DOCX and PDF reading, with the office-style generators of the test suite (needs a checkout)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.docgen import make_decision_docx, make_decision_pdf, xa_rows

    timings = []
    with tempfile.TemporaryDirectory() as tmp:
        for maker, suffix, rows in ((make_decision_docx, "docx", 3000), (make_decision_pdf, "pdf", 300)):
            path = maker(Path(tmp) / f"xa.{suffix}", levels=[("Phụ lục I", "CẤP XÃ", xa_rows(rows))])
            data = path.read_bytes()
            started = time.perf_counter()
            outcome = parse_bytes(data, path.name)
            timings.append((suffix, rows, time.perf_counter() - started))
            assert outcome.ok and len(outcome.decision.levels[0].rows) == rows, outcome.errors[:3]
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--documents", action="store_true", help="also time DOCX (3,000 rows) and PDF (300 rows)")
    args = parser.parse_args()
    results = [measure(n) for n in args.rows]
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{date.today().isoformat()}")
    print("| rows | file | parse + validate (best of 3) | peak Python memory while parsing | store in SQLite |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['rows']:,} | {r['bytes'] / 1024:,.0f} KiB | {r['parse_s'] * 1000:,.0f} ms | "
              f"{r['peak_mib']:,.1f} MiB | {r['store_s'] * 1000:,.0f} ms |")
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    if args.documents:
        for suffix, rows, seconds in measure_documents():
            print(f"{suffix.upper()} with {rows:,} cấp xã rows: parse + validate {seconds * 1000:,.0f} ms")


if __name__ == "__main__":
    main()
