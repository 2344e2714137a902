"""Questions → answers on the seed: the ask development set (100% required), intents, and the CLI commands."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import func, select

from dxcore.answering.assistant import ask
from dxcore.answering.i18n import word
from dxcore.conversation.actions import Pick
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty
from dxcore.store.models import Alias
from dxcore.understanding import intents as I
from dxcore.understanding.catalog import Catalog, load_resolver, record_pick
from tests.conftest import FIXTURES
from tests.matching import found
from tests.test_cli import dxbot

with open(FIXTURES / "ask-dev.tsv", encoding="utf-8") as fh:
    ASK_DEV = list(csv.DictReader(fh, delimiter="\t"))

def test_the_matching_rule_takes_whole_words_and_numbers() -> None:
    answer = "Cấp huyện có 4/9 đơn vị xếp loại Khá.\nNguồn: Quyết định số 1568/QĐ-UBND ngày 12/7/2024"
    assert not found("4", answer) and not found("7", answer) and not found("khá", "khác")
    assert found("xếp loại khá", answer) and found("4/9", answer) and found("Khá", "loại Khá.")
    assert found("Hòa", "HOÀ  bình") and found("4", "Xếp loại Khá: 4 đơn vị")


@pytest.fixture
async def seeded(db: Database) -> Database:
    await load_shipped_if_empty(db)
    return db


async def test_ask_development_set(seeded: Database) -> None:
    cache = Catalog()
    failures = []
    for row in ASK_DEV:
        text = (await ask(seeded, cache, row["question"])).render_plain()
        missing = [m for m in row["must_contain"].split("|") if m and not found(m, text)]
        present = [m for m in (row["must_not_contain"] or "").split("|") if m and found(m, text)]
        if missing or present:
            failures.append((row["question"], missing, present, text))
    assert failures == []


@pytest.mark.parametrize(("question", "kind", "level", "n", "tier", "year"), [
    ("Sở Tư pháp xếp hạng mấy?", I.UNIT, None, None, None, None),
    ("so y te nam 2023", I.UNIT, None, None, None, 2023),
    ("top 3 cấp huyện", I.TOP, "huyen", 3, None, None),
    ("/top huyện 3", I.TOP, "huyen", 3, None, None),
    ("3 đơn vị dẫn đầu cấp sở", I.TOP, "so", 3, None, None),
    ("đơn vị nào đứng cuối", I.BOTTOM, None, 1, None, None),
    ("cấp sở có mấy đơn vị khá", I.COUNTS, "so", None, "kha", None),
    ("bao nhiêu đơn vị xếp loại Tốt", I.COUNTS, None, None, "tot", None),
    ("những sở xếp loại trung bình", I.TIER_LIST, "so", None, "trung_binh", None),
    ("các quận huyện xếp loại khá năm 2023", I.TIER_LIST, "huyen", None, "kha", 2023),
    ("xin chào", I.CHITCHAT, None, None, None, None),
    ("", I.HELP, None, None, None, None),
    ("các quyết định đã có", I.DECISIONS, None, None, None, None),
    ("cấp huyện", I.COUNTS, "huyen", None, None, None),
])
def test_intents(question: str, kind: str, level: str | None, n: int | None, tier: str | None,
                 year: int | None) -> None:
    intent = I.parse_intent(question)
    assert (intent.kind, intent.level, intent.n, intent.tier, intent.year) == (kind, level, n, tier, year)


async def test_guesses_say_how_they_were_understood(seeded: Database) -> None:
    cache = Catalog()
    top = await ask(seeded, cache, "top cấp sở")
    assert word(top.note) == "Hiểu là: 5 đơn vị đầu bảng cấp sở."
    typo = await ask(seeded, cache, "ninh kieuu")
    assert word(typo.note) == "Hiểu là hỏi về UBND quận Ninh Kiều." and "63,71%" in typo.render_plain()


async def test_ambiguous_and_not_found_offer_choices(seeded: Database) -> None:
    cache = Catalog()
    ambiguous = await ask(seeded, cache, "Sở KH")
    assert ambiguous.kind == "ambiguous"
    assert {word(c.label) for c in ambiguous.choices} == {"Sở Khoa học và Công nghệ", "Sở Kế hoạch và Đầu tư"}
    assert all(isinstance(c.action, Pick) for c in ambiguous.choices)
    missing = await ask(seeded, cache, "Bộ Tài chính Hà Nội")
    assert missing.kind == "not_found" and "Không tìm thấy" in word(missing.title)
    unknown_year = await ask(seeded, cache, "Sở Y tế năm 2019")
    assert unknown_year.kind == "no_result" and "2023" in word(unknown_year.title)


async def _learned(db: Database):
    async with db.session() as session:
        return await load_resolver(session)


async def _pick(db: Database, key: str, unit_id: int, chat_id: int, user_id: int) -> None:
    async with db.session() as session, session.begin():
        await record_pick(session, key, unit_id, chat_id=chat_id, user_id=user_id)


async def test_a_pick_teaches_that_chat_at_once_and_everyone_after_three_users_in_two_chats(seeded: Database) -> None:
    resolver = await _learned(seeded)
    unit_id, key = resolver.resolve("Sở Khoa học và Công nghệ").unit.id, resolver.alias_key("Sở KH")
    await _pick(seeded, key, unit_id, chat_id=1, user_id=11)
    learned = await _learned(seeded)
    assert learned.resolve("sở KH", chat_id=1).unit.id == unit_id
    assert learned.resolve("sở KH", chat_id=2).status == "ambiguous"
    for user in (12, 13):  # three users, but all in one chat: not yet everyone's
        await _pick(seeded, key, unit_id, chat_id=1, user_id=user)
    assert (await _learned(seeded)).resolve("Sở KH", chat_id=2).status == "ambiguous"
    await _pick(seeded, key, unit_id, chat_id=7, user_id=13)  # one of them in a second chat
    assert (await _learned(seeded)).resolve("Sở KH", chat_id=2).unit.id == unit_id


async def test_one_user_picking_again_adds_no_weight_and_no_row(seeded: Database) -> None:
    resolver = await _learned(seeded)
    unit_id, key = resolver.resolve("Sở Khoa học và Công nghệ").unit.id, resolver.alias_key("Sở KH")
    for chat_id in (1, 2, 3, 4):
        await _pick(seeded, key, unit_id, chat_id=chat_id, user_id=11)
    async with seeded.session() as session:
        assert await session.scalar(select(func.count(Alias.id))) == 1
    assert (await _learned(seeded)).resolve("Sở KH", chat_id=9).status == "ambiguous"


def test_cli_ask_prints_the_answer(tmp_path) -> None:
    result = dxbot("ask", "Sở", "Tư", "pháp", "xếp", "hạng", "mấy?", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Xếp hạng: 6/20" in result.stdout and "95,73%" in result.stdout and "Tốt" in result.stdout


def test_cli_resolve_json_arguments_and_stdin(tmp_path) -> None:
    result = dxbot("resolve", "--json", "so y te", "Sở KH", cwd=tmp_path)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["status"] for line in lines] == ["found", "ambiguous"]
    assert lines[0]["unit"]["name"] == "Sở Y tế"
    queries = "\n".join(["ninh kieu", "thot not", "chào bot"] * 400) + "\n"
    import subprocess
    import sys

    from tests.conftest import ROOT

    piped = subprocess.run([sys.executable, "-m", "bot.cli", "resolve", "--json"], input=queries, text=True,
                           capture_output=True, cwd=tmp_path, timeout=120,
                           env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
                                "DXBOT_STATE_DIR": str(tmp_path / "state")})
    statuses = [json.loads(line)["status"] for line in piped.stdout.splitlines()]
    assert len(statuses) == 1200 and statuses[:3] == ["found", "found", "not_found"]


def test_cli_shell_answers_until_end_of_input(tmp_path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    shell = subprocess.run([sys.executable, "-m", "bot.cli", "shell"], input="thống kê cấp huyện\ntop 2 cấp sở\n",
                           text=True, capture_output=True, cwd=tmp_path, timeout=120,
                           env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
                                "DXBOT_STATE_DIR": str(tmp_path / "state")})
    assert shell.returncode == 0, shell.stderr
    assert "Xếp loại Trung bình: 5 đơn vị" in shell.stdout and "2. Sở Văn hóa, Thể thao và Du lịch" in shell.stdout


async def test_resolver_cache_sees_units_stored_later(seeded: Database, seed_text: str) -> None:
    from dxcore.parsing import parse_bytes
    from dxcore.store.decisions import store_decision

    cache = Catalog(check_every=0)
    assert (await ask(seeded, cache, "Sở Quy hoạch - Kiến trúc")).kind != "unit"
    later = (seed_text.replace("1568 /QĐ-UBND ngày 12 tháng 7 năm 2024", "2001 /QĐ-UBND ngày 10 tháng 6 năm 2025")
             .replace("năm 2023", "năm 2024").replace("NĂM 2023", "NĂM 2024")
             .replace("Sở Ngoại vụ", "Sở Quy hoạch - Kiến trúc"))
    async with seeded.session() as session, session.begin():
        await store_decision(session, parse_bytes(later.encode(), "later.txt").decision, actor="test")
    answer = await ask(seeded, cache, "Sở Quy hoạch - Kiến trúc")
    assert answer.kind == "unit" and "86,91%" in answer.render_plain()
