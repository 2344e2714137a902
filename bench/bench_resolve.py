"""Resolver accuracy by category (development sets) and latency/accuracy/memory at 30, 1 000 and 10 000 units,
side by side with a bare rapidfuzz scan (extractOne with WRatio over diacritic-folded names).

Run: .venv/bin/python bench/bench_resolve.py            (everything; each size in its own process for memory)
     .venv/bin/python bench/bench_resolve.py --size 10000 (one size, prints JSON)
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dxcore.understanding.resolver import FOUND, Resolver, UnitRef  # noqa: E402
from dxcore.understanding.text import fold, strip_diacritics  # noqa: E402

PLACES = [
    "Tân", "Phú", "Long", "Thạnh", "Bình", "Hòa", "An", "Mỹ", "Thới", "Trường", "Đông", "Tây", "Nhơn", "Vĩnh", "Xuân",
    "Phước", "Lợi", "Hưng", "Thuận", "Khánh", "Hiệp", "Lộc", "Thắng", "Quới", "Định", "Hậu", "Điền", "Giang", "Sơn",
    "Châu", "Hải", "Lạc", "Thành", "Trung", "Nghĩa", "Đức", "Hội", "Phong", "Thủy", "Lâm", "Hồng", "Kiến", "Tường",
    "Cường", "Bảo", "Quang", "Minh", "Thiện", "Phát", "Toàn",
]
DISTRICTS = ["Phong Điền", "Cờ Đỏ", "Thới Lai", "Vĩnh Thạnh", "Châu Thành", "Long Mỹ", "Phụng Hiệp", "Kế Sách",
             "Mỹ Tú", "Trần Đề", "Cù Lao Dung", "Tam Bình", "Trà Ôn", "Bình Minh", "Mang Thít", "Vũng Liêm",
             "Cai Lậy", "Cái Bè", "Gò Công", "Tân Phước"]
KINDS = ["xã", "phường", "thị trấn"]


def synthetic_units(n: int, seed: int = 11) -> list[UnitRef]:
    rng = random.Random(seed)
    names: set[str] = set()
    while len(names) < n:
        a, b = rng.sample(PLACES, 2)
        names.add(f"UBND {rng.choice(KINDS)} {a} {b} (huyện {rng.choice(DISTRICTS)})")
    return [UnitRef(i, name, "xa", "UBND tỉnh Mẫu") for i, name in enumerate(sorted(names), start=1)]


def _typo(word: str, rng: random.Random) -> str:
    """One slip a phone keyboard makes: a dropped, doubled or swapped letter."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return rng.choice([word[:i] + word[i + 1:], word[:i] + word[i] + word[i:], word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]])


def queries_for(units: list[UnitRef], count: int, seed: int = 5) -> list[tuple[str, int, str]]:
    """(query, expected unit id, kind): the name without diacritics, or without them and with one typo."""
    rng = random.Random(seed)
    out = []
    for unit in rng.sample(units, min(count, len(units))):
        plain = strip_diacritics(unit.name).lower().replace("(", "").replace(")", "").replace("ubnd ", "")
        if rng.random() < 0.5:
            out.append((plain, unit.id, "no_diacritics"))
        else:
            words = plain.split()
            k = rng.randrange(1, len(words))
            words[k] = _typo(words[k], rng)
            out.append((" ".join(words), unit.id, "typo"))
    return out


def measure_size(n: int) -> dict:
    units = synthetic_units(n)
    started = time.perf_counter()
    resolver = Resolver(units)
    build_s = time.perf_counter() - started
    rss_after_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queries = queries_for(units, 1000)
    folded_names = [fold(u.name) for u in units]
    ids = [u.id for u in units]

    ours_ms, ours_right, bare_ms, bare_right = [], 0, [], 0
    for query, expected, _ in queries:
        t0 = time.perf_counter()
        result = resolver.resolve(query)
        ours_ms.append((time.perf_counter() - t0) * 1000)
        ours_right += result.status == FOUND and result.unit.id == expected
        t0 = time.perf_counter()
        best = process.extractOne(fold(query), folded_names, scorer=fuzz.WRatio)
        bare_ms.append((time.perf_counter() - t0) * 1000)
        bare_right += ids[best[2]] == expected

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]

    return {
        "units": n, "queries": len(queries), "build_s": build_s, "rss_mib": rss_after_build,
        "ours": {"p50": statistics.median(ours_ms), "p99": pct(ours_ms, 99), "accuracy": ours_right / len(queries)},
        "bare": {"p50": statistics.median(bare_ms), "p99": pct(bare_ms, 99), "accuracy": bare_right / len(queries)},
    }


def category_accuracy() -> list[tuple[str, int, int, int]]:
    """(category, rows, ours right, bare right) over both development sets, seeded from the shipped decision."""
    from dxcore.parsing import parse_file
    from dxcore.understanding.text import clean

    decision = parse_file(ROOT / "data" / "decisions" / "seed-decision-1568-QD-UBND-2024.txt").decision
    units = [UnitRef(i, clean(r.name), lv.code, decision.issuer)
             for i, (lv, r) in enumerate(((lv, r) for lv in decision.levels for r in lv.rows), start=1)]
    resolver = Resolver(units)
    names = [fold(u.name) for u in units]
    fixtures = ROOT / "tests" / "fixtures"

    def rows(name: str) -> list[dict[str, str]]:
        with open(fixtures / name, encoding="utf-8") as fh:
            return list(csv.DictReader(fh, delimiter="\t"))

    dev_categories = {r["query"]: r["category"] for r in rows("resolve-dev-categories.tsv")}
    labelled = [dict(r, category=dev_categories[r["query"]]) for r in rows("resolve-dev.tsv")] + rows("resolve-more.tsv")
    totals: Counter = Counter()
    ours: Counter = Counter()
    bare: Counter = Counter()
    for row in labelled:
        category = row["category"]
        expected = [n for n in row["unit"].split("|") if n]
        result = resolver.resolve(row["query"])
        if row["expect"] == "found":
            right = result.status == FOUND and result.unit.name == expected[0]
            bare_right = units[process.extractOne(fold(row["query"]), names, scorer=fuzz.WRatio)[2]].name == expected[0]
        elif row["expect"] == "ambiguous":
            right = result.status == "ambiguous" and set(expected) <= {c.unit.name for c in result.candidates}
            bare_right = False  # a single best match cannot say "one of these"
        else:
            right = result.status == "not_found"
            bare_right = False  # extractOne always answers with some unit
        totals[category] += 1
        ours[category] += right
        bare[category] += bare_right
    order = ["diacritics", "no_diacritics", "abbreviation", "typo", "question", "ambiguous", "not_found"]
    return [(c, totals[c], ours[c], bare[c]) for c in order if totals[c]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, help="measure one size and print JSON (used by the full run)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 1000, 10000])
    args = parser.parse_args()
    if args.size:
        print(json.dumps(measure_size(args.size)))
        return
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {date.today().isoformat()}\n")
    print("| category | queries | dxbot resolver | bare WRatio scan |\n|---|---:|---:|---:|")
    all_rows = category_accuracy()
    for category, total, ours, bare in all_rows:
        print(f"| {category} | {total} | {ours / total:.1%} | {bare / total:.1%} |")
    total = sum(r[1] for r in all_rows)
    print(f"| all | {total} | {sum(r[2] for r in all_rows) / total:.1%} | {sum(r[3] for r in all_rows) / total:.1%} |\n")
    print("| units | resolver p50 | p99 | accuracy | bare scan p50 | p99 | accuracy | index build | process RSS |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--size", str(size)], capture_output=True, text=True,
                             check=True)
        r = json.loads(out.stdout)
        o, b = r["ours"], r["bare"]
        print(f"| {size:,} | {o['p50']:.2f} ms | {o['p99']:.2f} ms | {o['accuracy']:.1%} | {b['p50']:.2f} ms | "
              f"{b['p99']:.2f} ms | {b['accuracy']:.1%} | {r['build_s'] * 1000:,.0f} ms | {r['rss_mib']:,.0f} MiB |")


if __name__ == "__main__":
    main()
