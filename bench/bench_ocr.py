"""OCR time per page and for a 4-page scan at 200 dpi (issue 15's target: ≤ 120 s on 2 cores); writes the
"Scans (issue 15)" section of docs/BENCHMARKS.md with --write.

The scans are the ones the tests read (tests/scangen.py): the shipped decision (header, Điều 1, two appendices)
typed, printed to PDF, rendered at 200 dpi, turned by about half a degree, with noise and dust, saved as images.

Run: .venv/bin/python bench/bench_ocr.py [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dxcore.parsing import GivenFacts, parse_bytes  # noqa: E402
from dxcore.parsing.ocr import scan_pages  # noqa: E402
from tests.docgen import make_decision_pdf, seed_rows  # noqa: E402
from tests.layoutgen import LAYOUTS, make_layout_pdf  # noqa: E402
from tests.scangen import degrade, photo, render, scan_pdf, scanned  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_ocr.py --write"
HEADING = "## Scans (issue 15)"


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _best(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def measure() -> str:
    folder = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    seed = make_decision_pdf(folder / "seed.pdf", levels=seed_rows())
    scan = scanned(seed)
    pages = [degrade(page, angle=0.5, seed=n) for n, page in enumerate(render(seed, 200), start=1)]
    kinds = ["decision text (header, Căn cứ, Điều 1)", "decision text (Điều 2–3, signature)",
             "appendix I: 20 rows, wrapped names", "appendix II: 9 rows"]
    per_page = []
    for number, (image, kind) in enumerate(zip(pages, kinds), start=1):
        seconds = _best(2, lambda image=image, number=number: scan_pages([(number, image, 200)]))
        per_page.append((number, kind, seconds))
    whole = _best(2, lambda: parse_bytes(scan, "scan.pdf"))
    outcome = parse_bytes(scan, "scan.pdf")
    assert outcome.ok and outcome.scanned, [str(e) for e in outcome.errors]
    tuyenquang = scanned(make_layout_pdf(LAYOUTS / "tuyenquang-2023-points-groups.txt", folder / "tq.pdf"))
    tq_pages = len(render(tuyenquang, 20))
    tq_seconds = _best(1, lambda: parse_bytes(tuyenquang, "tq.pdf", GivenFacts(issuer="UBND tỉnh Tuyên Quang")))
    longest = scan_pdf([page for _ in range(5) for page in pages])  # the most pages a scan may have
    longest_seconds = _best(1, lambda: parse_bytes(longest, "20.pdf"))
    shot = photo(seed, 3)
    shot_seconds = _best(2, lambda: parse_bytes(shot, "anh.jpg", GivenFacts(issuer="UBND thành phố Cần Thơ")))
    tesseract = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    cores = len(os.sched_getaffinity(0))
    lines = [
        HEADING,
        "",
        f"Machine: {cores}-core {_cpu()} VM, Python {platform.python_version()}, {tesseract} (Debian, `vie` data). "
        f"Date: {date.today().isoformat()}.",
        f"Command: `{COMMAND}`",
        "",
        "The shipped decision typed, printed to PDF, rendered at 200 dpi (A4: 1654 × 2339 pixels), turned by half a "
        "degree, with noise and dust, saved as a PDF of images (tests/scangen.py). One page alone, one Tesseract "
        "(best of 2):",
        "",
        "| page | holds | deskew, rules, OCR |",
        "|---:|---|---:|",
        *(f"| {number} | {kind} | {seconds:.1f} s |" for number, kind, seconds in per_page),
        "",
        "Whole documents through `parse_bytes` (reading, review of doubtful cells, interpretation, validation), "
        f"pages read side by side, one Tesseract per core ({cores}):",
        "",
        "| document | pages | time |",
        "|---|---:|---:|",
        f"| the shipped decision, scanned (target ≤ 120 s on 2 cores) | 4 | {whole:.1f} s |",
        f"| Tuyên Quang layout (groups, points out of 800/900/1.000), scanned | {tq_pages} | {tq_seconds:.1f} s |",
        f"| phone photo of appendix I (JPEG, 2480 × 3508) | 1 | {shot_seconds:.1f} s |",
        f"| the limit: the decision's 4 pages five times (limit 150 s) | 20 | {longest_seconds:.1f} s |",
        "",
        "A page costs what its text costs: the cells of a table are each read on a line of their own (one Tesseract "
        "call per page for all of them), and only cells that fail their column's form are read again alone "
        "(about 0.2 s each, at most 80 per document).",
        "",
    ]
    return "\n".join(lines)


def write(section: str) -> None:
    path = ROOT / "docs" / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the section in docs/BENCHMARKS.md")
    section = measure()
    print(section)
    if parser.parse_args().write:
        write(section)


if __name__ == "__main__":
    main()
