"""Scans and photos (issue 15): decisions printed, scanned at 200 dpi half a degree askew with noise, saved as PDFs
without a text layer (tests/scangen.py), read back to exactly the printed rows; a phone photo of an appendix; a
page of other text refused; damaged cells reported at their place; the limits; the reading child."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image

from dxcore.parsing import GivenFacts, ParseOutcome, is_scan, parse_bytes, parse_file
from dxcore.parsing.decision import parse_percentage
from dxcore.parsing.sandbox import DocumentReader, ReadFailed
from tests.conftest import SEED, UNDER_CI
from tests.docgen import make_decision_pdf, seed_rows
from tests.layoutgen import make_layout_pdf
from tests.scangen import photo, render, scan_pdf, scanned, text_page, word_box
from tests.test_cli import dxbot
from tests.test_parse_layouts import EXPECTED, LAYOUTS, _check, _given

ISSUER = GivenFacts(issuer="UBND thành phố Cần Thơ")


def _tesseract_missing() -> str | None:
    if shutil.which("tesseract") is None:
        return "tesseract is not installed"
    languages = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split()
    return None if "vie" in languages else "tesseract has no Vietnamese data (vie)"


@pytest.fixture(scope="module")
def tesseract() -> None:
    """Skip locally with the reason when Tesseract or its Vietnamese data is absent; under CI that is a failure
    (.ci/run installs Debian's tesseract-ocr and tesseract-ocr-vie)."""
    missing = _tesseract_missing()
    if missing and UNDER_CI:
        pytest.fail(f"{missing}; under CI the OCR tests must run")
    if missing:
        pytest.skip(f"{missing}: apt-get install tesseract-ocr tesseract-ocr-vie to run the OCR tests")


needs_tesseract = pytest.mark.usefixtures("tesseract")


@pytest.fixture(scope="module")
def seed_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped decision (header, Điều 1 and both appendices) as typed, printed to PDF."""
    return make_decision_pdf(tmp_path_factory.mktemp("seed") / "seed.pdf", levels=seed_rows())


@pytest.fixture(scope="module")
def seed_scan(seed_pdf: Path) -> bytes:
    return scanned(seed_pdf)


def _printed(outcome: ParseOutcome) -> list[list[tuple]]:
    return [[(r.rank, r.name, r.score, r.tier_printed) for r in level.rows] for level in outcome.decision.levels]


def _seed_printed() -> list[list[tuple]]:
    return [[(rank, name, parse_percentage(score), tier) for rank, name, score, tier in rows]
            for _, _, rows in seed_rows()]


def test_a_scan_has_no_text_layer_and_is_told_by_its_bytes(seed_pdf: Path, seed_scan: bytes) -> None:
    with pdfplumber.open(io.BytesIO(seed_scan)) as pdf:
        assert len(pdf.pages) == 4 and not any(page.chars for page in pdf.pages)
    jpeg, png = io.BytesIO(), io.BytesIO()
    Image.new("L", (40, 40), 255).save(jpeg, format="JPEG")
    Image.new("L", (40, 40), 255).save(png, format="PNG")
    assert is_scan(seed_scan) and is_scan(jpeg.getvalue()) and is_scan(png.getvalue())
    assert not is_scan(seed_pdf.read_bytes()) and not is_scan(SEED.read_bytes())


@needs_tesseract
def test_the_shipped_decision_scanned_reads_as_printed(seed_scan: bytes) -> None:
    outcome = parse_bytes(seed_scan, "qd-1568-scan.pdf")
    assert outcome.ok, [str(e) for e in outcome.errors]
    assert outcome.scanned
    assert _printed(outcome) == _seed_printed()
    decision = outcome.decision
    assert (decision.issuer, decision.number, str(decision.signed_date), decision.evaluated_year) == (
        "UBND thành phố Cần Thơ", "1568/QĐ-UBND", "2024-07-12", 2023)
    assert [{c.tier: c.count for c in level.stated_counts} for level in decision.levels] == [
        {"tot": 8, "kha": 9, "trung_binh": 3, "yeu": 0}, {"tot": 0, "kha": 4, "trung_binh": 5, "yeu": 0}]
    # The same decision as the shipped text: header, Điều 1 counts and every row.
    assert decision.content_hash() == parse_file(SEED).decision.content_hash()


@needs_tesseract
def test_a_finer_scan_reads_the_same(seed_pdf: Path) -> None:
    """300 dpi: pages are read at one scale (Tesseract's Vietnamese model misread larger print, "80,93" as
    "830,93")."""
    outcome = parse_bytes(scanned(seed_pdf, dpi=300, angles=(-0.6, 0.3), seed=11), "scan-300.pdf")
    assert outcome.ok, [str(e) for e in outcome.errors]
    assert _printed(outcome) == _seed_printed()


@needs_tesseract
@pytest.mark.parametrize("name", ["tuyenquang-2023-points-groups.txt", "tayninh-2022-rank-only-xa-by-huyen.txt",
                                  "ninhbinh-2022-subindices.txt"])
def test_other_layouts_scanned_read_as_printed(name: str, tmp_path: Path) -> None:
    """Points out of 800/900/1.000 in groups; communes ranked within each district, ranks only; sub-indices
    under a merged header with a "Điểm tối đa" row."""
    doc = next(d for d in EXPECTED if d["file"] == name)
    scan = scanned(make_layout_pdf(LAYOUTS / name, tmp_path / "typed.pdf"), angles=(-0.5, 0.4, 0.6, -0.3), seed=7)
    outcome = parse_bytes(scan, "scan.pdf", _given(doc))
    _check(doc, outcome)
    typed = parse_bytes((LAYOUTS / name).read_bytes(), name, _given(doc))
    assert _printed(outcome) == _printed(typed)
    assert outcome.decision.content_hash() == typed.decision.content_hash()


@needs_tesseract
def test_a_photo_of_an_appendix_gives_its_rows_and_counts(seed_pdf: Path) -> None:
    shot = photo(seed_pdf, 3, angle=-1.5, seed=3)
    width, height = Image.open(io.BytesIO(shot)).size
    assert shot.startswith(b"\xff\xd8") and 5_000_000 < width * height < 20_000_000
    outcome = parse_bytes(shot, "anh.jpg", ISSUER)  # the appendix names no issuer, as a caption would give it
    assert outcome.ok, [str(e) for e in outcome.errors]
    assert outcome.scanned
    (level,) = outcome.decision.levels
    assert level.code == "so" and _printed(outcome) == _seed_printed()[:1]
    assert Counter(r.tier for r in level.rows) == {"tot": 8, "kha": 9, "trung_binh": 3}
    # Number and date from the appendix note "(Kèm theo Quyết định số …)", the year from its heading.
    assert (outcome.decision.number, str(outcome.decision.signed_date), outcome.decision.evaluated_year) == (
        "1568/QĐ-UBND", "2024-07-12", 2023)


@needs_tesseract
def test_a_page_of_other_text_is_refused_with_one_clear_error(tmp_path: Path) -> None:
    letter = text_page([
        "Kính gửi: Các cơ quan, đơn vị trên địa bàn thành phố.",
        "Thực hiện kế hoạch năm 2024, đề nghị các cơ quan, đơn vị rà soát danh mục thủ tục hành chính, cập nhật "
        "thông tin lên Cổng dịch vụ công và báo cáo kết quả trước ngày 15 tháng 8 năm 2024.",
        "Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, đề nghị liên hệ Văn phòng để được hướng dẫn.",
    ], tmp_path / "letter.pdf")
    outcome = parse_bytes(scanned(letter), "cong-van.pdf")
    assert [str(e) for e in outcome.errors] == [
        "cong-van.pdf: no ranking table was found in the scan: OCR read 6 lines of text on 1 page but no header row "
        "with a unit column and a rank column (Xếp hạng, Thứ hạng, TT/STT); it looks like another document, or a "
        "table too faint to read."]
    assert outcome.scanned and not outcome.decision.levels


@needs_tesseract
def test_damaged_cells_are_repaired_or_doubted_at_their_place(seed_pdf: Path) -> None:
    """Ink over Ban Dân tộc's rank 7 (the scores say it is 7), and over the first digit of Sở Ngoại vụ's 86,91%
    (nothing says what it was)."""
    rank = word_box(seed_pdf, 3, "7", beside="Ban")
    score = word_box(seed_pdf, 3, "86,91%", beside="Ngoại")
    outcome = parse_bytes(scanned(seed_pdf, inked={3: [(rank, (0.0, 1.0)), (score, (0.0, 0.3))]}), "vet-muc.pdf")
    doubts = {(d.loc.page, d.loc.table, d.loc.row, d.loc.column): d for d in outcome.doubts}
    # Page 3, table 1: the merged title row, the header, then Sở … rank 1 on row 3: Ban Dân tộc is row 9.
    repaired = doubts[(3, 1, 9, 2)]
    assert str(repaired).startswith("vet-muc.pdf:page 3, table 1, row 9, column 2: column 'Xếp hạng': read ")
    assert str(repaired).endswith("taken as 7 from the rank sequence.")
    assert repaired.render("vi").startswith("vet-muc.pdf:trang 3, bảng 1, hàng 9, cột 2: cột “Xếp hạng”: đọc được")
    assert "check it against the paper" in str(doubts[(3, 1, 10, 4)])
    so = outcome.decision.levels[0].rows
    assert (so[6].name, so[6].rank) == ("Ban Dân tộc", 7)
    # The unreadable score is no score: the decision is refused there, never stored with a guess.
    assert not outcome.ok and any(e.loc.row == 10 and e.loc.page == 3 for e in outcome.errors)


def test_limits_are_told_before_any_reading(tmp_path: Path) -> None:
    big = io.BytesIO()
    Image.new("L", (6000, 4000), 255).save(big, format="PNG")
    assert [str(e) for e in parse_bytes(big.getvalue(), "anh.png").errors] == [
        "anh.png: the photo has 24 megapixels, more than the 20 read, so it was not read; send a smaller photo "
        "(or the PDF)."]
    pages = scan_pdf([Image.new("L", (170, 240), 250) for _ in range(21)], dpi=20)
    assert [str(e) for e in parse_bytes(pages, "dai.pdf").errors] == [
        "dai.pdf: the scan has 21 pages to read by OCR, more than the 20 read at once, so it was not read; send the "
        "appendix pages on their own."]
    assert [str(e) for e in parse_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "hong.png").errors] == [
        "hong.png: the image cannot be read (the file is damaged, or not a JPEG or PNG)."]


@needs_tesseract
async def test_the_reading_child_gives_a_scan_its_longer_limit_and_its_doubts(seed_pdf: Path) -> None:
    rank = word_box(seed_pdf, 3, "7", beside="Ban")
    shot = photo(seed_pdf, 3, angle=0.8, seed=5)
    inked = scanned(seed_pdf, inked={3: [(rank, (0.0, 1.0))]})
    announced: list[str] = []
    reader = DocumentReader(seconds=1.0)  # far less than OCR takes: only a scan's own limit lets it finish
    read = await reader.read(inked, "vet-muc.pdf", on_scan=lambda: announced.append("scan"))
    assert announced == ["scan"]
    assert read.outcome == parse_bytes(inked, "vet-muc.pdf") and read.outcome.scanned and read.outcome.doubts

    # A PDF of a typed page and a scanned one is no scan by its bytes: the child says so when OCR starts.
    mixed = _typed_page_then(render(inked)[2])
    assert not is_scan(mixed)
    read = await DocumentReader(seconds=1.0).read(mixed, "mixed.pdf", ISSUER, on_scan=lambda: announced.append("mixed"))
    assert announced[-1] == "mixed" and read.outcome.ok and read.outcome.scanned

    with pytest.raises(ReadFailed) as failed:
        await DocumentReader(seconds=1.0, scan_seconds=1.0).read(shot, "anh.jpg")
    assert (failed.value.reason, failed.value.seconds) == ("too_slow", 1.0)
    await asyncio.sleep(0.5)
    assert not _tesseracts(), "a killed read leaves no Tesseract running"


def _typed_page_then(scanned_page: Image.Image) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text="Ban sao (scan) cua phu luc")
    pdf.add_page()
    page = io.BytesIO()
    scanned_page.save(page, format="PNG")
    pdf.image(page, x=0, y=0, w=210, h=297)
    return bytes(pdf.output())


def _tesseracts() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name, state = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2]
            if name == "tesseract" and state != "Z":
                found.append(int(entry.name))
    return found


@needs_tesseract
def test_dxbot_ingest_stores_a_scan_and_refuses_other_text(seed_scan: bytes, tmp_path: Path) -> None:
    (tmp_path / "qd-1568-scan.pdf").write_bytes(seed_scan)
    stored = dxbot("ingest", "qd-1568-scan.pdf", cwd=tmp_path)
    assert stored.returncode == 0, stored.stderr
    assert "stored as a new decision" in stored.stdout
    # The typed text of the same decision is the same decision.
    again = dxbot("ingest", str(SEED), cwd=tmp_path)
    assert again.returncode == 0 and "stored as a new decision" not in again.stdout, again.stdout
    text_page(["Thông báo lịch tiếp công dân tháng 8 năm 2024 của Văn phòng."], tmp_path / "letter.pdf")
    (tmp_path / "letter-scan.pdf").write_bytes(scanned(tmp_path / "letter.pdf"))
    refused = dxbot("ingest", "letter-scan.pdf", cwd=tmp_path)
    assert refused.returncode == 2 and "no ranking table was found in the scan" in refused.stderr
    assert "Traceback" not in refused.stderr
