"""Other issuers' layouts (issue 13): every document of tests/fixtures/layouts/ ingests with its figures exactly as
printed and the facts tests/fixtures/layouts/expected.toml gives; reports with given facts; a wrong document gets one
clear located error."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dxcore.parsing import GivenFacts, ParsedLevel, parse_bytes
from dxcore.understanding.text import name_key
from tests.layoutgen import make_layout_docx, make_layout_pdf

LAYOUTS = Path(__file__).resolve().parent / "fixtures" / "layouts"
EXPECTED = tomllib.loads((LAYOUTS / "expected.toml").read_text(encoding="utf-8"))["document"]
NAMES = [doc["file"] for doc in EXPECTED]


def _given(doc: dict) -> GivenFacts | None:
    label = doc.get("label")
    if not label:
        return None
    day, month, year = (int(x) for x in label["signed"].split("/"))
    return GivenFacts(issuer=label["issuer"], number=label["number"], signed=date(year, month, day),
                      year=int(label["year"]))


def _figure(printed: str, decimal: str) -> Decimal:
    """A figure as the document prints it ("885,58", "1.000", "0.8340", "95,26%", "112,3/138") → its value."""
    text = printed.removesuffix("%").split("/")[0]
    return Decimal(text.replace(".", "").replace(",", ".") if decimal == "," else text)


def _parse(doc: dict, data: bytes | None = None, name: str | None = None):
    data = data if data is not None else (LAYOUTS / doc["file"]).read_bytes()
    return parse_bytes(data, name or doc["file"], _given(doc))


def _group_label(group_row: str) -> str:
    return re.sub(r"^[IVXLC]+\t", "", group_row).strip()


def _check(doc: dict, outcome) -> None:
    assert outcome.ok, [str(e) for e in outcome.errors]
    d = outcome.decision
    assert (name_key(d.issuer), d.number, d.signed_date.isoformat(), d.evaluated_year) == (
        name_key(doc["issuer"]), doc["number"], doc["signed"], doc["year"])
    rankings = doc["ranking"]
    assert [lv.code for lv in d.levels] == [r["level"] for r in rankings]
    for level, expected in zip(d.levels, rankings):
        _check_ranking(level, expected)


def _check_ranking(level: ParsedLevel, expected: dict) -> None:
    where = f"{level.code}/{level.group}"
    kind = None if expected["score_kind"] == "none" else expected["score_kind"]
    assert level.score_kind == kind, where
    if kind == "points":
        assert level.score_max == _figure(expected["maximum"], ","), where
    if "group_row" in expected:
        assert name_key(level.group or "") == name_key(_group_label(expected["group_row"])), where
    assert len(level.rows) == expected["rows"], where
    if "unranked" in expected:
        assert sum(r.rank is None for r in level.rows) == expected["unranked"], where
    if "tiers" in expected:
        printed = Counter(name_key(r.tier_printed) for r in level.rows if r.tier)
        assert printed == Counter({name_key(k): v for k, v in expected["tiers"].items() if v}), where
    if "article1" in expected:
        assert {name_key(c.label.split("loại")[-1]): c.count for c in level.stated_counts} == {
            name_key(k): v for k, v in expected["article1"].items()}, where
    if "sub_indices" in expected:
        assert level.subscore_names == expected["sub_indices"], where
    if "sub_maxima" in expected:
        assert level.subscore_maxima == [Decimal(m) for m in expected["sub_maxima"]], where
    decimal = expected.get("decimal", ",")
    # Communes ranked within their district take its name ("Xã Tân Bình (huyện Tân Biên)"); facts give the printed one.
    rows = {name_key(r.name): r for r in level.rows} | {name_key(r.name.split(" (")[0]): r for r in level.rows
                                                        if level.group and r.name.endswith(")")}
    for fact in expected.get("fact", []):
        row = rows[name_key(fact["unit"])]
        assert row.rank == (int(fact["rank"]) if fact["rank"].isdigit() else None), fact
        if "score" in fact:
            value = _figure(fact["score"], decimal)
            assert row.score == value, fact
            if kind != "percent":  # points and indices keep their printed digits ("0.8340", "335,9")
                assert str(row.score) == str(value), fact
        if "tier" in fact:
            assert row.tier_printed == fact["tier"], fact
        for (sub_name, printed), sub in zip(fact.get("sub", {}).items(), row.subscores):
            assert sub.printed == printed and sub.value == _figure(printed, decimal), fact


@pytest.mark.parametrize("name", NAMES)
def test_layout_ingests_as_printed(name: str) -> None:
    doc = next(d for d in EXPECTED if d["file"] == name)
    _check(doc, _parse(doc))


@pytest.mark.parametrize("write", [make_layout_docx, make_layout_pdf], ids=["docx", "pdf"])
@pytest.mark.parametrize("name", NAMES)
def test_layout_as_an_office_file_reads_the_same(name: str, write, tmp_path: Path) -> None:
    doc = next(d for d in EXPECTED if d["file"] == name)
    path = write(LAYOUTS / name, tmp_path / f"doc.{write.__name__.rsplit('_', 1)[-1]}")
    outcome = _parse(doc, path.read_bytes(), path.name)
    _check(doc, outcome)
    assert outcome.decision.content_hash() == _parse(doc).decision.content_hash()


def test_a_report_without_facts_gets_one_error_naming_the_flags() -> None:
    data = (LAYOUTS / "national-dti-2022-report.txt").read_bytes()
    outcome = parse_bytes(data, "dti.txt")
    assert [str(e) for e in outcome.errors] == [
        'dti.txt: this document has no heading with its issuer, number and signing date, and no Điều 1 (it looks '
        'like a report); give what is missing: dxbot ingest FILE --issuer "…" --number "…" --signed DD/MM/YYYY.']


def test_a_given_fact_that_contradicts_the_document_is_an_error() -> None:
    doc = next(d for d in EXPECTED if d["file"] == "danang-2023-4khoi.txt")
    outcome = parse_bytes((LAYOUTS / doc["file"]).read_bytes(), "dn.txt", GivenFacts(year=2022))
    assert [str(e) for e in outcome.errors] == ["dn.txt: --year gives '2022', but the document prints '2023'."]


def test_unknown_tier_word_is_one_located_error_naming_the_fix() -> None:
    text = (LAYOUTS / "danang-2023-4khoi.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    bad = [i for i, line in enumerate(lines) if line.endswith("\tKhá")][:9]
    for i in bad:
        lines[i] = lines[i].removesuffix("Khá") + "Hoàn thành tốt"
    outcome = parse_bytes("\n".join(lines).encode(), "dn.txt")
    tier_errors = [str(e) for e in outcome.errors if "tier word" in str(e)]
    assert tier_errors == [
        f"dn.txt:{bad[0] + 1}: 'Hoàn thành tốt' is not a tier word of UBND thành phố Đà Nẵng (9 rows, the first "
        "here; known: Xuất sắc, Tốt, Khá, Trung bình khá). If UBND thành phố Đà Nẵng uses it, add it to its entry in "
        'data/issuers.toml: tiers = [its words, best first] or tier_words = { "Hoàn thành tốt" = "tier code" } '
        "(xuat_sac, tot, kha, trung_binh_kha, trung_binh, yeu, kem)."]
    assert not any(r.tier == "tot" and r.tier_printed == "Hoàn thành tốt" for lv in outcome.decision.levels
                   for r in lv.rows)


def test_trung_binh_kha_in_article_1_is_never_read_as_trung_binh() -> None:
    text = (LAYOUTS / "danang-2023-4khoi.txt").read_text(encoding="utf-8")
    outcome = parse_bytes(text.encode(), "dn.txt")
    so = outcome.decision.level("so")
    assert [(c.tier, c.count) for c in so.stated_counts] == [
        ("xuat_sac", 4), ("tot", 7), ("kha", 9), ("trung_binh_kha", 4)]
    # An issuer without the word: one error in Điều 1 naming it, not a count for "Trung bình".
    changed = text.replace("Trung bình khá: 04", "Trung bình yếu: 04")
    outcome = parse_bytes(changed.encode(), "dl.txt")
    errors = [str(e) for e in outcome.errors if "Trung bình yếu" in str(e)]
    assert errors == [
        "dl.txt:26: Điều 1 states a count for 'Trung bình yếu', which is not a tier word of UBND thành phố Đà Nẵng "
        "(known: Xuất sắc, Tốt, Khá, Trung bình khá); it is not counted as another tier. If UBND thành phố Đà Nẵng "
        "uses it, add it to data/issuers.toml (tiers or tier_words)."]
    assert "trung_binh" not in [c.tier for c in outcome.decision.level("so").stated_counts]


POINTS_1000 = """\
ỦY BAN NHÂN DÂN            CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH HÀ NAM                Độc lập - Tự do - Hạnh phúc

Số: 12/QĐ-UBND             Hà Nam, ngày 05 tháng 03 năm 2025

QUYẾT ĐỊNH
Công bố kết quả chuyển đổi số năm 2024

Điều 1. Công bố kết quả đánh giá theo Phụ lục.

Điều 2. Quyết định này có hiệu lực kể từ ngày ký.

PHỤ LỤC
KẾT QUẢ XẾP HẠNG CẤP SỞ
TT | Tên đơn vị | Tổng điểm (/1.000) | Xếp hạng
1 | Sở Y tế | 1.000 | 1
2 | Sở Tài chính | 885,58 | 2
3 | Sở Nội vụ | 885,58 | 2
4 | Ban Dân tộc | 741,625 | 4
"""


def test_points_out_of_1000_with_thousands_dots_and_ties() -> None:
    outcome = parse_bytes(POINTS_1000.encode(), "hanam.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    (so,) = outcome.decision.levels
    assert (so.score_kind, so.score_max) == ("points", Decimal(1000))
    assert [(r.rank, str(r.score)) for r in so.rows] == [(1, "1000"), (2, "885.58"), (2, "885.58"), (4, "741.625")]


def test_points_beyond_the_maximum_and_wrong_ties_are_located() -> None:
    outcome = parse_bytes(POINTS_1000.replace("741,625 | 4", "1.741,6 | 4").encode(), "hanam.txt")
    errors = [str(e) for e in outcome.errors]
    assert errors[0] == "hanam.txt:19: score 1,741.6/1,000 points is outside 0–1000 of the Cấp sở table."
    assert ("hanam.txt:19: 1,741.6/1,000 points is higher than 885.58/1,000 points in the row above; scores must not "
            "increase down the ranking.") in errors


def test_dxbot_ingest_takes_a_report_with_the_given_facts_and_summarizes_it_each_time(tmp_path: Path) -> None:
    from tests.test_cli import dxbot

    report = str(LAYOUTS / "national-dti-2022-report.txt")
    refused = dxbot("ingest", report, cwd=tmp_path)
    assert refused.returncode == 2 and "--issuer" in refused.stderr and "Traceback" not in refused.stderr
    flags = ["--issuer", "Bộ Thông tin và Truyền thông", "--number", "DTI-2022/BTTTT", "--signed", "12/07/2023",
             "--year", "2022"]
    for status in ("stored as a new decision", "already stored with the same content"):
        result = dxbot("ingest", report, *flags, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "DTI-2022/BTTTT of 12/7/2023, Bộ Thông tin và Truyền thông, results for 2022" in result.stdout
        assert "Cấp tỉnh (tinh): 63 rows, index 0–1, 8 sub-indices" in result.stdout and status in result.stdout
    bad_date = dxbot("ingest", report, "--signed", "2023-07-12", cwd=tmp_path)
    assert bad_date.returncode == 2 and "DD/MM/YYYY" in bad_date.stderr


def test_dxbot_ingest_summary_names_groups_and_tiers_as_printed(tmp_path: Path) -> None:
    from tests.test_cli import dxbot

    result = dxbot("ingest", "--dry-run", str(LAYOUTS / "danang-2023-4khoi.txt"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Cấp sở (so), KHỐI SỞ, BAN, NGÀNH: 24 rows, points out of 100: Xuất sắc 4, Tốt 7, Khá 9, Trung bình khá 4" \
        in result.stdout


def test_tt_is_a_rank_only_in_score_order() -> None:
    outcome = parse_bytes(POINTS_1000.replace(" | Xếp hạng", "").replace(" | 1\n", "\n").replace(" | 2\n", "\n")
                          .replace(" | 4\n", "\n").encode(), "tt.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    assert [r.rank for r in outcome.decision.levels[0].rows] == [1, 2, 2, 4]  # tied scores share a rank, not TT
    assert [str(w) for w in outcome.warnings] == [
        "tt.txt:15: the Cấp sở table has no rank column; ranks are taken from the row order (TT/STT) and the scores, "
        "as the rows are in score order."]
    shuffled = POINTS_1000.replace("1 | Sở Y tế | 1.000 | 1", "1 | Sở Y tế | 700 | 1").replace(" | Xếp hạng", "")
    shuffled = "\n".join(line.rsplit(" | ", 1)[0] if line[:1].isdigit() and line.count("|") == 3 else line
                         for line in shuffled.splitlines())
    outcome = parse_bytes(shuffled.encode(), "tt.txt")
    assert [str(e) for e in outcome.errors] == [
        "tt.txt:15: the Cấp sở table has no rank column (such as 'Xếp hạng', 'Thứ hạng'), and its rows are not in "
        "score order, so TT/STT is not a rank."]


def test_rank_score_cells_keep_ties_that_tt_does_not() -> None:
    doc = next(d for d in EXPECTED if d["file"] == "national-2017-egov-rank-score-cells.txt")
    (tinh,) = _parse(doc).decision.levels
    rows = {r.name: r for r in tinh.rows}
    assert (rows["Bà Rịa - Vũng Tàu"].rank, str(rows["Bà Rịa - Vũng Tàu"].score)) == (17, "0.633")
    assert (rows["Tuyên Quang"].rank, str(rows["Tuyên Quang"].score)) == (40, "0.546")


def test_an_issuers_own_tier_words_come_from_issuers_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dxcore.understanding import tiers

    (tmp_path / "issuers.toml").write_text(
        '[[issuer]]\nname = "UBND tỉnh Hậu Giang"\ntiers = ["Hoàn thành xuất sắc", "Tốt", "Khá"]\n'
        'tier_words = { "Hoàn thành xuất sắc" = "xuat_sac" }\n', encoding="utf-8")
    monkeypatch.setattr(tiers, "data_dir", lambda: tmp_path)
    tiers._load_vocabularies.cache_clear()
    try:
        vocab = tiers.vocabulary_for("UBND tỉnh Hậu Giang")
        assert (vocab.parse("HOÀN THÀNH XUẤT SẮC"), vocab.parse("Khá"), vocab.parse("Trung bình")) == (
            "xuat_sac", "kha", None)
        assert vocab.known() == "Hoàn thành xuất sắc, Tốt, Khá"
    finally:
        tiers._load_vocabularies.cache_clear()


def test_communes_ranked_within_districts_take_the_district_and_stay_apart() -> None:
    doc = next(d for d in EXPECTED if d["file"].startswith("tayninh"))
    decision = _parse(doc).decision
    names = [r.name for lv in decision.levels if lv.code == "xa" for r in lv.rows if r.name.startswith("Xã Tân Bình")]
    assert sorted(names) == ["Xã Tân Bình (huyện Tân Biên)", "Xã Tân Bình (thành phố Tây Ninh)"]


# --- unseen layouts (tester's documents, reduced): maxima, rank (score) rows, Điều 1 counts of groups -------------


def test_a_maximum_the_document_does_not_print_is_assumed_for_the_range_check_only() -> None:
    from dxcore.publishing.ingest import summarize

    outcome = parse_bytes(POINTS_1000.replace("Tổng điểm (/1.000)", "Tổng điểm").encode(), "hanam.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    (so,) = outcome.decision.levels
    assert (so.score_kind, so.score_max) == ("points", None)  # never "885,58/1.000 điểm" in an answer
    assert any("no maximum is stored" in str(w) for w in outcome.warnings)
    assert "  Phụ lục, Cấp sở (so): 4 rows, points" in summarize(outcome.decision)
    negative = parse_bytes(POINTS_1000.replace("Tổng điểm (/1.000)", "Tổng điểm").replace("741,625", "-741,625")
                           .encode(), "hanam.txt")
    assert any("outside 0–1000" in str(e) for e in negative.errors)


@pytest.mark.parametrize(("header", "note", "maximum"), [
    ("Tổng điểm (thang 1.000)", "", 1000),
    ("Tổng điểm (thang 1.200)", "", 1200),
    ("Tổng điểm thang 1000", "", 1000),
    ("Tổng điểm (1.000)", "", 1000),
    ("Điểm đạt được", "(Điểm tối đa: 1.000 điểm)\n", 1000),
])
def test_a_maximum_printed_as_a_scale_or_above_the_table_is_the_rankings(header: str, note: str,
                                                                          maximum: int) -> None:
    text = POINTS_1000.replace("Tổng điểm (/1.000)", header).replace("TT | Tên đơn vị", f"{note}TT | Tên đơn vị")
    outcome = parse_bytes(text.encode(), "hanam.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    assert outcome.decision.levels[0].score_max == maximum and not outcome.warnings


def test_a_month_in_a_heading_is_no_maximum() -> None:
    text = POINTS_1000.replace("Tổng điểm (/1.000)", "Tổng điểm").replace("CẤP SỞ", "CẤP SỞ THÁNG 12")
    assert parse_bytes(text.encode(), "hanam.txt").decision.levels[0].score_max is None


def test_a_maximum_above_a_table_ranked_in_groups_is_every_groups() -> None:
    text = POINTS_1000.replace("KẾT QUẢ XẾP HẠNG CẤP SỞ\nTT | Tên đơn vị | Tổng điểm (/1.000)",
                               "KẾT QUẢ XẾP HẠNG CẤP SỞ\n(Điểm tối đa: 1.200 điểm)\nTT | Tên đơn vị | Điểm đạt được")
    text = text.replace("1 | Sở Y tế", "Nhóm 1\n1 | Sở Y tế").replace("3 | Sở Nội vụ | 885,58 | 2\n4 | Ban Dân tộc | 741,625 | 4",
                                                                  "Nhóm 2\n3 | Sở Nội vụ | 885,58 | 1\n4 | Ban Dân tộc | 741,625 | 2")
    outcome = parse_bytes(text.encode(), "hanam.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    assert [(lv.group, lv.score_max) for lv in outcome.decision.levels] == [("Nhóm 1", 1200), ("Nhóm 2", 1200)]


SUB_MAXIMA = POINTS_1000.replace(
    "TT | Tên đơn vị | Tổng điểm (/1.000) | Xếp hạng\n",
    "| Xếp hạng | Tên đơn vị | Điểm các chỉ số chính | | Tổng điểm (/1.000) |\n"
    "| | | Nhận thức số (400) | Hạ tầng số (600) | |\n").replace(
    "1 | Sở Y tế | 1.000 | 1", "1 | Sở Y tế | 400 | 600 | 1.000").replace(
    "2 | Sở Tài chính | 885,58 | 2", "2 | Sở Tài chính | 385,58 | 500 | 885,58").replace(
    "3 | Sở Nội vụ | 885,58 | 2", "2 | Sở Nội vụ | 285,58 | 600 | 885,58").replace(
    "4 | Ban Dân tộc | 741,625 | 4", "4 | Ban Dân tộc | 341,625 | 400 | 741,625")


def test_sub_index_maxima_printed_in_their_header_cells() -> None:
    outcome = parse_bytes(SUB_MAXIMA.encode(), "hanam.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    (so,) = outcome.decision.levels
    assert so.subscore_names == ["Nhận thức số", "Hạ tầng số"]
    assert so.subscore_maxima == [Decimal(400), Decimal(600)] and so.score_max == 1000


RANK_SCORE_REPORT = """\
TỔNG THỂ XẾP HẠNG CHỈ SỐ CHUYỂN ĐỔI SỐ CẤP TỈNH NĂM 2021

| Xếp hạng DTI | Tỉnh, thành phố | Xếp hạng CQS | Xếp hạng KTS |
|---|---|---|---|
| 1 (0,6419) | TP. Đà Nẵng | 1 (0,6868) | 1 (0,6312) |
| 2 (0,5872) | Thừa Thiên - Huế | 2 (0,6666) | 2 (0,5922) |
| 3 (0,5609) | TP. Hồ Chí Minh | 3 (0,6197) | 3 (0,5773) |
"""


def test_a_first_row_of_rank_score_cells_is_data_not_a_second_header_row() -> None:
    given = GivenFacts(issuer="Bộ Thông tin và Truyền thông", number="DTI-2021", signed=date(2022, 5, 1), year=2021)
    outcome = parse_bytes(RANK_SCORE_REPORT.encode(), "dti2021.txt", given)
    assert outcome.ok, [str(e) for e in outcome.errors]
    (tinh,) = outcome.decision.levels
    first = tinh.rows[0]
    assert (first.rank, first.name, str(first.score)) == (1, "TP. Đà Nẵng", "0.6419")
    assert len(tinh.rows) == 3 and tinh.subscore_names == ["Xếp hạng CQS", "Xếp hạng KTS"]


COMMUNES_BY_DISTRICT = """\
ỦY BAN NHÂN DÂN            CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH TÂY NINH              Độc lập - Tự do - Hạnh phúc

Số: 55/QĐ-UBND             Tây Ninh, ngày 05 tháng 03 năm 2023

QUYẾT ĐỊNH
Công bố kết quả chuyển đổi số năm 2022

Điều 1. Công bố kết quả như sau:
1. Cấp huyện: có 01 đơn vị đạt loại Tốt, 01 đơn vị đạt loại Khá (Phụ lục I).
2. Cấp xã: được đánh giá, xếp hạng theo từng huyện, thị xã, thành phố; có 02 đơn vị đạt loại Tốt, 02 đơn vị đạt loại Khá (Phụ lục II).

Điều 2. Quyết định này có hiệu lực kể từ ngày ký.

Phụ lục I
KẾT QUẢ XẾP HẠNG CẤP HUYỆN
STT | Tên cơ quan, đơn vị | Điểm đạt được | Mức độ | Xếp hạng
1 | Thị xã Trảng Bàng | 88,60 | Tốt | 1
2 | Huyện Gò Dầu | 76,45 | Khá | 2

Phụ lục II
KẾT QUẢ XẾP HẠNG CẤP XÃ (xếp hạng theo từng huyện, thị xã, thành phố)
STT | Tên cơ quan, đơn vị | Điểm đạt được | Mức độ | Xếp hạng
| Các xã, phường, thị trấn thuộc thị xã Trảng Bàng | | |
1 | Phường An Tịnh | 85,20 | Tốt | 1
2 | Xã Đôn Thuận | 79,95 | Khá | 2
| Các xã, phường, thị trấn thuộc huyện Gò Dầu | | |
3 | Xã Thạnh Đức | 83,75 | Tốt | 1
4 | Xã Bàu Đồn | 77,60 | Khá | 2
"""


def test_a_tier_column_headed_muc_do_and_counts_of_a_level_ranked_in_groups_together() -> None:
    outcome = parse_bytes(COMMUNES_BY_DISTRICT.encode(), "tayninh.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    huyen, *xa = outcome.decision.levels
    assert [r.tier for r in huyen.rows] == ["tot", "kha"] and len(xa) == 2
    assert all([(c.tier, c.count) for c in lv.stated_counts] == [("tot", 2), ("kha", 2)] for lv in xa)
    wrong = parse_bytes(COMMUNES_BY_DISTRICT.replace("có 02 đơn vị đạt loại Tốt", "có 03 đơn vị đạt loại Tốt")
                        .encode(), "tayninh.txt")
    assert [str(e) for e in wrong.errors] == [
        "tayninh.txt:11: Điều 1 says 3 Cấp xã units are Tốt, but the appendix lists 2."]


GROUP_COUNTS = """\
ỦY BAN NHÂN DÂN            CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH HẢI DƯƠNG             Độc lập - Tự do - Hạnh phúc

Số: 77/QĐ-UBND             Hải Dương, ngày 05 tháng 03 năm 2024

QUYẾT ĐỊNH
Công bố kết quả chuyển đổi số năm 2023

Điều 1. Phê duyệt kết quả như sau:
1. Nhóm các sở, ban, ngành có cung cấp dịch vụ công: Tốt: 01 đơn vị; Khá: 01 đơn vị.
2. Nhóm các sở, ban, ngành không cung cấp dịch vụ công: Tốt: 00 đơn vị; Khá: 02 đơn vị.

Điều 2. Quyết định này có hiệu lực kể từ ngày ký.

Phụ lục I
KẾT QUẢ XẾP HẠNG CẤP SỞ
Nhóm 1: Các sở, ban, ngành có cung cấp dịch vụ công
STT | Tên cơ quan, đơn vị | Tổng điểm (thang 1.200) | Xếp loại | Xếp hạng
1 | Sở Tư pháp | 1.045,50 | Tốt | 1
2 | Sở Tài chính | 1.012,00 | Khá | 2
Nhóm 2: Các sở, ban, ngành không cung cấp dịch vụ công
STT | Tên cơ quan, đơn vị | Tổng điểm (thang 1.000) | Xếp loại | Xếp hạng
1 | Văn phòng UBND tỉnh | 812,30 | Khá | 1
2 | Ban Dân tộc | 768,55 | Khá | 2
"""


@pytest.mark.parametrize("named", [False, True])
def test_article_1_counts_of_each_group_go_to_the_group_its_words_name(named: bool) -> None:
    text = GROUP_COUNTS.replace("1. Nhóm các", "1. Nhóm 1: Các").replace("2. Nhóm các", "2. Nhóm 2: Các") \
        if named else GROUP_COUNTS
    outcome = parse_bytes(text.encode(), "haiduong.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    first, second = outcome.decision.levels
    assert [(c.tier, c.count) for c in first.stated_counts] == [("tot", 1), ("kha", 1)]
    assert [(c.tier, c.count) for c in second.stated_counts] == [("tot", 0), ("kha", 2)]
    assert (first.score_max, second.score_max) == (1200, 1000)
    swapped = parse_bytes(text.replace("Tốt: 01 đơn vị; Khá: 01", "Tốt: 00 đơn vị; Khá: 02").encode(), "haiduong.txt")
    assert "haiduong.txt:10: Điều 1 says 0 Cấp sở – Nhóm 1: Các sở, ban, ngành có cung cấp dịch vụ công units are " \
           "Tốt, but the appendix lists 1." in [str(e) for e in swapped.errors]


def test_ingest_summary_names_a_reports_ranking_once() -> None:
    from dxcore.publishing.ingest import summarize

    given = GivenFacts(issuer="Bộ Thông tin và Truyền thông", number="DTI-2021", signed=date(2022, 5, 1), year=2021)
    decision = parse_bytes(RANK_SCORE_REPORT.encode(), "dti2021.txt", given).decision
    assert summarize(decision)[1] == "  Cấp tỉnh (tinh): 3 rows, index 0–1, 2 sub-indices"
