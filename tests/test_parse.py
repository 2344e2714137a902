"""The decision parser on the seed and on other shapes of plain-text decisions."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

from dxcore.parsing import parse_bytes, parse_file
from tests.conftest import SEED


def test_seed_parses_exactly() -> None:
    outcome = parse_file(SEED)
    assert outcome.ok, outcome.errors
    d = outcome.decision
    assert (d.issuer, d.number, d.signed_date, d.evaluated_year) == (
        "UBND thành phố Cần Thơ", "1568/QĐ-UBND", date(2024, 7, 12), 2023,
    )
    assert d.title == "Công bố kết quả đánh giá, xếp hạng Chuyên đổi số năm 2023"
    assert [(lv.code, lv.appendix, len(lv.rows)) for lv in d.levels] == [("so", "Phụ lục I", 20), ("huyen", "Phụ lục II", 9)]
    assert [c.count for c in d.levels[0].stated_counts] == [8, 9, 3, 0]
    assert [c.count for c in d.levels[1].stated_counts] == [0, 4, 5, 0]
    assert [c.label for c in d.levels[0].stated_counts] == [
        "Xếp loại Tốt", "Xếp loại Khá", "Xếp loại Trung bình", "Xếp loại Yếu",
    ]
    y_te = d.levels[0].rows[16]
    assert (y_te.rank, y_te.name, y_te.score, y_te.tier) == (17, "Sở Y tế", Decimal("70.74"), "kha")
    last = d.levels[1].rows[-1]
    assert (last.rank, last.name, last.score, last.tier) == (9, "UBND huyện Thới Lai", Decimal("60.18"), "trung_binh")
    assert str(y_te.loc) == f"{SEED.name}:92"


def test_decoy_numbers_and_dates_are_not_taken(seed_text: str) -> None:
    # The seed cites 922/QĐ-BTTTT, 2088/QĐ-UBND (2022) and a Tờ trình of 9/7/2024; none of them is this decision.
    d = parse_bytes(seed_text.encode(), "seed.txt").decision
    assert d.number == "1568/QĐ-UBND" and d.signed_date == date(2024, 7, 12)


def test_nfd_crlf_nbsp_copy_is_the_same_decision(seed_text: str) -> None:
    mangled = unicodedata.normalize("NFD", seed_text).replace("\n", "\r\n").replace(" đơn vị", "\u00a0đơn\u00a0vị")
    mangled = mangled.replace("Sở Tư pháp", "Sở\u00a0Tư\u00a0pháp")
    outcome = parse_bytes(mangled.encode("utf-8"), "nfd.txt")
    assert outcome.ok, outcome.errors
    assert outcome.decision.content_hash() == parse_file(SEED).decision.content_hash()
    assert outcome.decision.levels[0].rows[5].name == "Sở Tư pháp"


def test_old_tone_placement_names_are_the_same_units(seed_text: str) -> None:
    old_style = seed_text.replace("Văn hóa", "Văn hoá").replace("Bình Thủy", "Bình Thuỷ")
    outcome = parse_bytes(old_style.encode(), "old.txt")
    assert outcome.ok
    assert outcome.decision.content_hash() == parse_file(SEED).decision.content_hash()


HEADED = """\
ỦY BAN NHÂN DÂN            CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH HẬU GIANG             Độc lập - Tự do - Hạnh phúc

Số: 0215/QĐ-UBND           Hậu Giang, ngày 05 tháng 03 năm 2025

QUYẾT ĐỊNH
Về việc công bố kết quả xếp hạng mức độ chuyển đổi số
năm 2024 của các cơ quan, địa phương

CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH HẬU GIANG

Căn cứ Quyết định số 1111/QĐ-UBND ngày 01 tháng 01 năm 2023 của Ủy ban nhân dân tỉnh;

QUYẾT ĐỊNH:

Điều 1. Công bố kết quả như sau:
- Cấp xã: 01 đơn vị xếp loại Xuất sắc, 02 đơn vị xếp loại Tốt, 1 đơn vị xếp loại Khá.

Điều 2. Quyết định này có hiệu lực kể từ ngày ký.

PHỤ LỤC
KẾT QUẢ XẾP HẠNG CẤP XÃ
STT | Tên đơn vị | Thứ hạng | Tỷ lệ (%) | Xếp loại
01 | UBND xã Vị Thanh | 01 | 95.5 | XUẤT SẮC
02 | UBND phường Ngã Bảy | 02 | 88.25 | tốt
03 | UBND thị trấn Cây Dương | 02 | 88.250 | Tốt
04 | UBND xã Long Mỹ | 04 | 071,000 | khá
"""


def test_headed_pipe_table_document() -> None:
    outcome = parse_bytes(HEADED.encode(), "haugiang.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    d = outcome.decision
    assert (d.issuer, d.number, d.signed_date, d.evaluated_year) == (
        "UBND tỉnh Hậu Giang", "0215/QĐ-UBND", date(2025, 3, 5), 2024,
    )
    assert d.title == "Về việc công bố kết quả xếp hạng mức độ chuyển đổi số năm 2024 của các cơ quan, địa phương"
    (xa,) = d.levels
    assert xa.code == "xa"
    assert [(r.rank, r.score, r.tier) for r in xa.rows] == [
        (1, Decimal("95.5"), "xuat_sac"), (2, Decimal("88.25"), "tot"), (2, Decimal("88.25"), "tot"), (4, Decimal("71"), "kha"),
    ]
    assert [(c.tier, c.count) for c in xa.stated_counts] == [("xuat_sac", 1), ("tot", 2), ("kha", 1)]


def test_levels_in_one_table_by_roman_rows() -> None:
    text = HEADED.replace("- Cấp xã:", "1. Cấp huyện: 1 đơn vị xếp loại Tốt.\n2. Cấp xã:").replace(
        "STT | Tên đơn vị", "I | CẤP HUYỆN | | |\n| Xếp hạng | Đơn vị | Tỷ lệ | Xếp loại |\n| 1 | UBND thị xã Long Mỹ | 90 | Tốt |\nII | CẤP XÃ | | |\nSTT | Tên đơn vị"
    )
    outcome = parse_bytes(text.encode(), "two.txt")
    assert [lv.code for lv in outcome.decision.levels] == ["huyen", "xa"], [str(e) for e in outcome.errors]



OFFICE_VARIANT = """\
ỦY BAN NHÂN DÂN                    CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH HẬU GIANG                     Độc lập - Tự do - Hạnh phúc

Số: 245/QĐ-CT.UBND                 Hậu Giang, ngày 05 tháng 3 năm 2024

QUYẾT ĐỊNH
VỀ VIỆC CÔNG BỐ KẾT QUẢ ĐÁNH GIÁ, XẾP HẠNG
MỨC ĐỘ CHUYỂN ĐỔI SỐ NĂM 2023

CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH

Điều 1. Công bố kết quả như sau:
- Cấp sở: Mức Tốt (từ 85% trở lên): 02 đơn vị; Mức Khá: 01/04 đơn vị; Trung bình: 1 đơn vị.

Điều 2. Quyết định này có hiệu lực kể từ ngày ký.

Phụ lục I - KẾT QUẢ XẾP HẠNG CẤP SỞ
STT\tTên cơ quan/đơn vị\tĐiểm đạt được\tThứ hạng\tKết quả xếp loại\tGhi chú
1\tSở Y tế\t90,5\t1\tTốt\t
2\tSở Tài chính\t90,5\t1\tTốt\tĐồng hạng
3\tSở Nội vụ\t75\t3\tKhá
4\tBan Dân tộc\t60,1\t4\tTrung bình\t
"""


def test_office_variants_read_as_printed() -> None:
    outcome = parse_bytes(OFFICE_VARIANT.encode(), "variant.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    d = outcome.decision
    assert (d.issuer, d.number, d.evaluated_year) == ("UBND tỉnh Hậu Giang", "245/QĐ-CT.UBND", 2023)
    (so,) = d.levels
    assert (so.code, so.appendix) == ("so", "Phụ lục I")
    assert [(r.rank, r.name, r.tier) for r in so.rows][:2] == [(1, "Sở Y tế", "tot"), (1, "Sở Tài chính", "tot")]
    assert [(c.tier, c.count) for c in so.stated_counts] == [("tot", 2), ("kha", 1), ("trung_binh", 1)]


def test_levels_as_roman_rows_after_the_header() -> None:
    text = HEADED.replace("- Cấp xã:", "1. Cấp sở: 01 đơn vị xếp loại Tốt.\n2. Cấp xã:").replace(
        "KẾT QUẢ XẾP HẠNG CẤP XÃ\nSTT | Tên đơn vị | Thứ hạng | Tỷ lệ (%) | Xếp loại\n",
        "KẾT QUẢ XẾP HẠNG\nSTT | Tên đơn vị | Thứ hạng | Tỷ lệ (%) | Xếp loại\nI | CẤP SỞ\n"
        "01 | Sở Y tế | 01 | 90 | Tốt\nII | CẤP XÃ\n",
    )
    outcome = parse_bytes(text.encode(), "roman.txt")
    assert outcome.ok, [str(e) for e in outcome.errors]
    assert [(lv.code, len(lv.rows)) for lv in outcome.decision.levels] == [("so", 1), ("xa", 4)]
