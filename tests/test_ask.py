"""Questions → answers on the seed: the ask development set (100% required), intents, and the CLI commands."""

from __future__ import annotations

import csv
import json

import pytest

from dxcore.answering.assistant import ask
from dxcore.answering.i18n import word
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty
from dxcore.understanding import intents as I
from dxcore.understanding.catalog import Catalog, load_resolver, record_pick
from tests.conftest import FIXTURES
from tests.test_cli import dxbot

with open(FIXTURES / "ask-dev.tsv", encoding="utf-8") as fh:
    ASK_DEV = list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture
async def seeded(db: Database) -> Database:
    await load_shipped_if_empty(db)
    return db


async def test_ask_development_set(seeded: Database) -> None:
    cache = Catalog()
    failures = []
    for row in ASK_DEV:
        text = (await ask(seeded, cache, row["question"])).render_plain()
        missing = [m for m in row["must_contain"].split("|") if m and m not in text]
        present = [m for m in (row["must_not_contain"] or "").split("|") if m and m in text]
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
    ("xin chào", I.HELP, None, None, None, None),
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
    assert all(c.payload.startswith("p:") and len(c.payload.encode()) <= 64 for c in ambiguous.choices)
    missing = await ask(seeded, cache, "Bộ Tài chính Hà Nội")
    assert missing.kind == "not_found" and "Không tìm thấy" in word(missing.title)
    unknown_year = await ask(seeded, cache, "Sở Y tế năm 2019")
    assert unknown_year.kind == "no_result" and "2023" in word(unknown_year.title)


async def test_a_pick_teaches_that_chat_at_once_and_everyone_after_three_users(seeded: Database) -> None:
    async with seeded.session() as session:
        resolver = await load_resolver(session)
    unit_id = resolver.resolve("Sở Khoa học và Công nghệ").unit.id
    async with seeded.session() as session, session.begin():
        await record_pick(session, resolver, "Sở KH", unit_id, chat_id=1, user_id=11)
    async with seeded.session() as session:
        learned = await load_resolver(session)
    assert learned.resolve("sở KH", chat_id=1).unit.id == unit_id
    assert learned.resolve("sở KH", chat_id=2).status == "ambiguous"
    async with seeded.session() as session, session.begin():
        for user in (12, 13):
            await record_pick(session, resolver, "Sở KH", unit_id, chat_id=100 + user, user_id=user)
    async with seeded.session() as session:
        everyone = await load_resolver(session)
    assert everyone.resolve("Sở KH", chat_id=2).unit.id == unit_id


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
