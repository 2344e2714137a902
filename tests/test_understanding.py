"""The rules that keep another unit's figures from a leader, each checked on kinds of questions a review found
answered wrongly (the shipped decision: Cần Thơ, 2023)."""

from __future__ import annotations

import pytest

from dxcore.answering.assistant import ask
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty
from dxcore.understanding.catalog import Catalog
from dxcore.understanding.reading import read


@pytest.fixture
async def answer(sqlite_url: str):
    db = Database(sqlite_url)
    await db.prepare(load_shipped_if_empty)
    catalog = Catalog()

    async def ask_one(question: str):
        return await ask(db, catalog, question)

    try:
        yield ask_one
    finally:
        await db.close()


@pytest.mark.parametrize("question", [
    "Sở Y tế Hà Nội xếp hạng mấy", "so y te ho chi minh", "so cong thuong ha nam", "sở nội vụ cao bằng",
    "Sở Tài chính tỉnh Vĩnh Long được bao nhiêu điểm", "ubnd huyện phong điền tuyên quang", "top 5 sở hà tĩnh",
])
async def test_another_provinces_unit_is_never_answered_with_a_namesake(answer, question: str) -> None:
    result = await answer(question)
    assert result.kind == "not_found" and not result.units and "%" not in result.render_plain()


@pytest.mark.parametrize("question", [
    "cho xin thông tin", "thông tin thêm", "có thể xem không", "cho tôi xin thông tin kết quả chuyển đổi số",
    "khoa học quá", "nội dung gì",
    "kiều bào", "có tốt không", "thế à", "xem kết quả ở đâu", "oke",
])
async def test_everyday_words_that_are_half_a_name_name_no_unit(answer, question: str) -> None:
    result = await answer(question)
    assert result.kind != "unit" and not result.units


@pytest.mark.parametrize(("question", "unit_line"), [
    ("sở tài chính có trên 60% không", "Tỷ lệ: 59,17%"),
    ("cờ đỏ có lọt top 5 huyện không", "Xếp hạng: 8/9"),
    ("Sở Y tế Cần Thơ xếp hạng mấy", "Xếp hạng: 17/20"),
    ("sở lđ tb xh đc mấy %", "99,73%"),
    ("thông tin về sở y tế", "Xếp hạng: 17/20"),
])
async def test_a_unit_named_with_a_list_cue_is_answered_about_itself(answer, question: str, unit_line: str) -> None:
    result = await answer(question)
    assert result.kind == "unit" and unit_line in result.render_plain()


async def test_two_units_side_by_side_are_compared(answer) -> None:
    result = await answer("sở tài chính và sở tài nguyên")
    assert result.kind == "compare" and "59,17%" in result.render_plain() and "73,99%" in result.render_plain()


@pytest.mark.parametrize(("question", "kind"), [("hạng 1", "rank_n"), ("top 10", "top"), ("trên 59,17%", "threshold")])
async def test_a_question_of_numbers_alone_is_not_small_talk(answer, question: str, kind: str) -> None:
    assert (await answer(question)).kind == kind


def test_places_and_diacritics_are_read_as_typed() -> None:
    assert [typed for _, typed in read("so y te ho chi minh").places] == ["ho chi minh"]
    assert read("huyện tôi thua Vĩnh Thạnh").has("compare")  # "thua" typed so is not the courtesy "thưa"
    assert read("hạng mười bốn cấp sở").rank == 14 and read("trên chín mươi bảy phần trăm").bounds.low == 97
    assert read("thứ sáu tuần này họp").rank is None  # a weekday, not a rank


@pytest.mark.parametrize(("question", "line"), [
    ("bao nhiêu sở xếp loại khá trở lên", "Cấp sở có 17/20 đơn vị"),
    ("bao nhiêu sở không đạt loại tốt", "Cấp sở có 12/20 đơn vị"),
    ("số đơn vị đạt loại tốt hoặc khá", "Các cấp cộng lại có 21 đơn vị"),
    ("bao nhiêu đơn vị dưới mức khá", "Các cấp cộng lại có 8 đơn vị"),
])
async def test_tiers_taken_together(answer, question: str, line: str) -> None:
    assert line in (await answer(question)).render_plain()


@pytest.mark.parametrize(("question", "first", "absent"), [
    ("hai sở cao nhất", "99,73%", "98,31%"), ("điểm cao nhất cấp sở là bao nhiêu", "99,73%", "99,30%"),
])
async def test_superlatives_and_numbers_in_words(answer, question: str, first: str, absent: str) -> None:
    text = (await answer(question)).render_plain()
    assert first in text and absent not in text
