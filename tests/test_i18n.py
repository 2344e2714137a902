"""The message catalog: every message in both languages, well-formed; numbers and dates worded per language."""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal

from dxcore.answering.answers import document_title
from dxcore.answering.i18n import (
    EN,
    VI,
    Day,
    Level,
    Percent,
    Tier,
    catalog,
    join,
    language_of,
    msg,
)


def test_every_message_has_both_languages_and_well_formed_placeholders() -> None:
    messages = catalog()
    assert len(messages) > 100
    for key, texts in messages.items():
        for lang in (VI, EN):
            fields = {name for _, name, _, _ in string.Formatter().parse(texts[lang]) if name}
            assert all(name.isidentifier() for name in fields), (key, lang)


def test_words_per_language() -> None:
    figures = join([msg("history.figure", figure=Percent(Decimal("70.74"))), msg("history.figure", figure=Tier("kha"))],
                   "")
    line = msg("history.line", year=2023, rank=17, total=20, figures=figures, document=document_title("1568/QĐ-UBND"))
    assert line.render(VI) == "Năm 2023: hạng 17/20, 70,74%, Khá (Quyết định số 1568/QĐ-UBND)"
    assert line.render(EN) == "2023: rank 17/20, 70.74%, Fair (Decision No. 1568/QĐ-UBND)"
    source = msg("source.decision", document=document_title("DTI-2022/BTTTT"), date=Day(date(2024, 7, 12)),
                 issuer="X", year=2023)
    assert source.render(EN) == "Source: Report DTI-2022/BTTTT of 12 Jul 2024 by X (results for 2023)."
    assert source.render(VI) == "Nguồn: Báo cáo DTI-2022/BTTTT ngày 12/7/2024 của X (kết quả năm 2023)."
    assert join([Level("so"), Level("huyen", lower=True)]).render(VI) == "Cấp sở, cấp huyện"
    assert [language_of(code) for code in ("en", "en-GB", "EN", "vi", None, "fr")] == [EN, EN, EN, VI, VI, VI]


def test_problems_are_located_in_either_language() -> None:
    from dxcore.parsing import parse_bytes
    from dxcore.parsing.model import Location, Problem

    where = Location("qd.docx", table=2, row=5)
    problem = Problem(where, msg("problem.rank_wrong", rank=7, expected=6, higher=5))
    assert str(problem) == ("qd.docx:table 2, row 5: rank 7 should be 6: 5 units have a higher percentage "
                            "(equal percentages share a rank: 1, 2, 2, 4).")
    assert problem.render(VI).startswith("qd.docx:bảng 2, hàng 5: thứ hạng 7 phải là 6: có 5 đơn vị")
    (empty,) = parse_bytes(b"", "rong.txt").errors
    assert (str(empty), empty.render(VI)) == ("rong.txt: the file is empty.", "rong.txt: tệp trống.")


def test_english_counts_its_nouns_and_names_appendices() -> None:
    from dxcore.answering.i18n import Appendix, word

    assert [msg("counts.total", total=n).render(EN) for n in (1, 9)] == ["Total: 1 unit", "Total: 9 units"]
    assert msg("counts.total", total=1).render(VI) == "Tổng số: 1 đơn vị"
    assert (word(Appendix("Phụ lục II"), EN), word(Appendix("Phụ lục II"), VI)) == ("Appendix II", "Phụ lục II")


def test_commands_take_english_level_words() -> None:
    from dxcore.understanding.intents import command_intent

    assert [command_intent("top", args).level for args in ("3 districts", "departments", "cấp huyện", "so")] == [
        "huyen", "so", "huyen", "so"]


def test_questions_take_the_english_words_english_replies_use() -> None:
    from dxcore.understanding.intents import (
        TIER_LIST,
        TOP,
        command_intent,
        parse_intent,
    )

    assert (command_intent("xeploai", "good departments").tier, command_intent("xeploai", "good").level) == ("tot", None)
    top = parse_intent("top 3 districts")
    assert (top.kind, top.level, top.n) == (TOP, "huyen", 3)
    assert (parse_intent("những đơn vị cấp sở xếp loại khá").kind, parse_intent("fair departments").kind) == (
        TIER_LIST, TIER_LIST)
