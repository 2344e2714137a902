"""Several issuers in one store: a national report's provinces beside a city's departments. A province is found by
its name alone, a ministry's name is never taken for a place, a city's place still narrows its own units, and a
report is cited as a report."""

from __future__ import annotations

from datetime import date

import pytest

from dxcore.answering.assistant import answer_text
from dxcore.parsing import GivenFacts, parse_bytes
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty, store_decision
from dxcore.understanding.catalog import Catalog
from tests.conftest import ROOT

REPORT = ROOT / "tests" / "fixtures" / "layouts" / "national-dti-2022-report.txt"
FACTS = GivenFacts("Bộ Thông tin và Truyền thông", "DTI-2022/BTTTT", date(2023, 7, 12), 2022)


@pytest.fixture
async def view(db: Database):
    await load_shipped_if_empty(db)
    parsed = parse_bytes(REPORT.read_bytes(), REPORT.name, FACTS)
    assert parsed.ok, [str(e) for e in parsed.errors]
    async with db.session() as session, session.begin():
        await store_decision(session, parsed.decision, actor="test")
    return await Catalog(check_every=0).current(db)


@pytest.mark.parametrize(("question", "unit", "figure"), [
    ("da nang", "TP. Đà Nẵng", "chỉ số 0,8002"),
    ("Quảng Ninh DTI 2022", "Quảng Ninh", "Xếp hạng: 3/63"),
    ("chỉ số DTI của Trà Vinh", "Trà Vinh", "chỉ số 0,6077"),
    ("Sở TT&TT", "Sở Thông tin và Truyền thông", "98,31%"),  # the ministry's name is not a place
    ("sở y tế cần thơ", "Sở Y tế", "70,74%"),
])
async def test_each_issuers_units_are_found(view, question: str, unit: str, figure: str) -> None:
    answer = answer_text(view, question)
    assert answer.kind == "unit", answer.render_plain()
    assert answer.render_plain().startswith(f"{unit} (") and figure in answer.render_plain()


async def test_a_report_is_cited_as_a_report(view) -> None:
    text = answer_text(view, "top 2 cấp tỉnh").render_plain()
    assert "Nguồn: Báo cáo DTI-2022/BTTTT ngày 12/7/2023 của Bộ Thông tin và Truyền thông" in text
    assert "Quyết định số 1568/QĐ-UBND" in answer_text(view, "top 2 cấp huyện").render_plain()


async def test_small_talk_about_a_place_is_not_a_question(view) -> None:
    assert answer_text(view, "đà nẵng đẹp quá").kind == "help"


def test_the_publish_preview_names_each_group_and_its_tiers_as_printed() -> None:
    from dxcore.answering.answers import preview_answer

    layouts = ROOT / "tests" / "fixtures" / "layouts"
    danang = parse_bytes((layouts / "danang-2023-4khoi.txt").read_bytes(), "danang.txt").decision
    text = preview_answer(danang, [], 0, None).render_plain()
    assert "Phụ lục I, cấp sở – KHỐI SỞ, BAN, NGÀNH: 24 đơn vị (Xuất sắc 4, Tốt 7, Khá 9, Trung bình khá 4)." in text
    report = parse_bytes(REPORT.read_bytes(), REPORT.name, FACTS).decision
    text = preview_answer(report, [], 0, None).render_plain()
    assert "Báo cáo DTI-2022/BTTTT ngày 12/7/2023 của Bộ Thông tin và Truyền thông" in text
    assert "\nCấp tỉnh: 63 đơn vị.\n" in text  # no appendix, no tiers: nothing made up


@pytest.fixture
async def with_subindices(db: Database, view):
    ninhbinh = ROOT / "tests" / "fixtures" / "layouts" / "ninhbinh-2022-subindices.txt"
    parsed = parse_bytes(ninhbinh.read_bytes(), ninhbinh.name)
    assert parsed.ok, [str(e) for e in parsed.errors]
    async with db.session() as session, session.begin():
        await store_decision(session, parsed.decision, actor="test")
    return await Catalog(check_every=0).current(db)


async def test_sub_indices_on_request_and_which_is_lowest_against_each_maximum(with_subindices) -> None:
    view = with_subindices
    answer = answer_text(view, "Sở Giáo dục và Đào tạo Ninh Bình thấp nhất ở tiêu chí nào")
    text = answer.render_plain()
    assert answer.kind == "subscores" and "• Nhận thức số: 30,19/40" in text
    # 43,23/60 is the lowest share, though 29,42/40 is the lowest figure
    assert "Thấp nhất: An toàn thông tin mạng (so với điểm tối đa của từng chỉ số)." in text
    index = answer_text(view, "Đà Nẵng thấp nhất ở tiêu chí nào").render_plain()
    assert "Thấp nhất: Chỉ số Hoạt động xã hội số." in index  # an index: one scale for every sub-index
    listed = answer_text(view, "chỉ số thành phần của Trà Vinh").render_plain()
    assert "• Chỉ số Nhận thức số: 0,7231" in listed and "Thấp nhất" not in listed
    none = answer_text(view, "chỉ số thành phần của sở y tế cần thơ").render_plain()
    assert "không có chỉ số thành phần" in none
    assert answer_text(view, "tiêu chí đánh giá là gì").kind == "method"


@pytest.fixture
async def every_layout(db: Database):
    """The shipped decision and every layout of the corpus in one store, as several issuers' admins would load them."""
    import tomllib

    layouts = ROOT / "tests" / "fixtures" / "layouts"
    await load_shipped_if_empty(db)
    for doc in tomllib.loads((layouts / "expected.toml").read_text())["document"]:
        given = None
        if doc.get("kind") == "report":
            label = doc["label"]
            day, month, year = map(int, label["signed"].split("/"))
            given = GivenFacts(label["issuer"], label["number"], date(year, month, day), label["year"])
        parsed = parse_bytes((layouts / doc["file"]).read_bytes(), doc["file"], given)
        assert parsed.ok, (doc["file"], [str(e) for e in parsed.errors[:3]])
        async with db.session() as session, session.begin():
            await store_decision(session, parsed.decision, actor="test")
    return await Catalog(check_every=0).current(db)


async def test_every_layout_is_stored_and_answered_without_mixing_issuers(every_layout) -> None:
    view = every_layout
    top = answer_text(view, "top 3 cấp sở quảng nam").render_plain()
    assert "UBND tỉnh Quảng Nam" in top and "Cần Thơ" not in top and "Đà Nẵng" not in top
    counts = answer_text(view, "thống kê xếp loại đà nẵng").render_plain()
    assert "Trung bình khá: 4 đơn vị" in counts and "Bộ Thông tin" not in counts
    tiers = answer_text(view, "có bao nhiêu đơn vị xếp loại tốt").render_plain()
    assert "Cấp tỉnh" not in tiers  # a ranking without tiers has no tier counts
    # "Không xếp hạng" rows are stored and answered as not ranked; a body of a province is not the province
    assert answer_text(view, "thanh tra tỉnh hải dương").kind in ("no_result", "not_found", "ambiguous")
    assert "Hải Dương (cấp tỉnh" not in answer_text(view, "thanh tra tỉnh hải dương").render_plain()
    assert answer_text(view, "xã tân bình tỉnh tây ninh").kind == "ambiguous"  # the province does not say which


async def test_a_place_that_is_both_an_issuer_and_a_ranked_province(every_layout) -> None:
    """Đà Nẵng issues its own decision and is ranked as a province in the national report: its name alone is the
    province; with a kind of body it is the city's unit; with a summary word it is the city's rankings."""
    view = every_layout
    for question in ("Da Nang DTI", "đà nẵng", "Đà Nẵng xếp hạng mấy"):
        assert answer_text(view, question).render_plain().startswith("TP. Đà Nẵng (cấp tỉnh, năm 2022)"), question
    assert answer_text(view, "tỉnh quảng nam xếp hạng mấy").render_plain().startswith("Quảng Nam (cấp tỉnh")
    health = answer_text(view, "sở y tế đà nẵng").render_plain()
    assert "75,81 điểm" in health and "UBND thành phố Đà Nẵng" in health
    provinces = answer_text(view, "cấp tỉnh").render_plain()
    assert "Văn bản không xếp loại các đơn vị của bảng này (63 đơn vị được xếp hạng)." in provinces
