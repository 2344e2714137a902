"""Units followed across the 2025 reorganisation (issue 14): the shipped lineage files, read with the seed decision
and a Cần Thơ decision for 2025 in the post-reorganisation layout (tests/fixtures/reorganisation/)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from dxcore.alerts.message import alert_answer
from dxcore.alerts.subscriptions import LEVEL, UNIT
from dxcore.answering import answers as A
from dxcore.answering.assistant import answer_text
from dxcore.answering.charts import history_chart
from dxcore.answering.queries import unit_history
from dxcore.conversation.actions import ShowUnit
from dxcore.parsing import Location, ParsedDecision, ParsedLevel, ParsedRow, parse_file
from dxcore.paths import shipped_decisions
from dxcore.store.db import Database
from dxcore.store.decisions import store_decision
from dxcore.understanding.catalog import Catalog, CatalogView
from dxcore.understanding.lineage import (
    LEVEL_ABOLISHED,
    MERGED,
    SPLIT,
    Lineage,
    LineageError,
    lineage_warnings,
    read_lineage,
    shipped_lineage,
)

DECISION_2025 = Path(__file__).parent / "fixtures" / "reorganisation" / "QD-850-UBND-2026-can-tho-2025.txt"


async def _store(db: Database, *paths: Path) -> CatalogView:
    async with db.session() as session, session.begin():
        for path in paths:
            outcome = parse_file(path)
            assert outcome.ok, outcome.errors
            await store_decision(session, outcome.decision, actor="test")
    return await Catalog(check_every=0).current(db)


@pytest.fixture
async def both(db: Database) -> CatalogView:
    """The seed (results for 2023) and the 2025 decision."""
    return await _store(db, shipped_decisions()[0], DECISION_2025)


def _unit(view: CatalogView, name: str) -> int:
    return next(u.id for u in view.snapshot.units.values() if u.name == name)


def _said(view: CatalogView, question: str, lang: str = "vi") -> str:
    return answer_text(view, question).render_plain(lang)


def test_the_shipped_files_state_cantho_2025() -> None:
    events = shipped_lineage()
    assert [e.day for e in events] == [date(2025, 3, 1), date(2025, 7, 1)]
    departments, provinces = events
    kinds = {c.name: (c.kind, [(s.name, s.share) for s in c.successors]) for c in departments.changes}
    assert kinds["Sở Thông tin và Truyền thông"] == (MERGED, [("Sở Khoa học và Công nghệ", ""), (
        "Sở Văn hóa, Thể thao và Du lịch", "báo chí, xuất bản")])
    assert kinds["Sở Kế hoạch và Đầu tư"][1] == [("Sở Tài chính", "")]
    assert kinds["Sở Lao động - Thương binh và Xã hội"][0] == SPLIT
    assert [s for s, _ in kinds["Sở Lao động - Thương binh và Xã hội"][1]] == [
        "Sở Nội vụ", "Sở Y tế", "Sở Giáo dục và Đào tạo"]
    assert provinces.abolished_levels == ("huyen",)
    assert provinces.merged_issuers == ("UBND tỉnh Sóc Trăng", "UBND tỉnh Hậu Giang")


HEAD = 'issuer = "UBND tỉnh A"\ndate = 2025-03-01\n'


@pytest.mark.parametrize("text, where", [
    ('issuer = "UBND tỉnh A"\n', ":1: date"),
    ('issuer = "UBND tỉnh A"\ndate = 2025-03-01T10:00:00\n', ":2: date"),
    (HEAD + 'level = "quan"\n', ":3: level"),
    (HEAD + 'abolished_levels = "xa"\n', ":3: abolished_levels: expected a list"),
    (HEAD + 'merged_issuers = "UBND tỉnh B"\n', ":3: merged_issuers: expected a list"),
    (HEAD + '\n[[merged]]\nfrom = "Sở A"\ninto = "Sở B"\n\n[[merged]]\nfrom = "Sở C"\n', ":8: merged[1].into"),
    (HEAD + '\n[[merged]]\nfrom = []\ninto = "Sở B"\n', ":4: merged[0].from: names no unit"),
    (HEAD + '\n[[merged]]\nfrom = "Sở A"\ninto = "Sở A"\n', ":4: merged[0]: 'Sở A' cannot go into itself"),
    (HEAD + '\n[[renamed]]\nfrom = "Sở A"\ninto = "Sở B"\nshare = "x"\n', ":7: renamed[0].share: unknown key"),
    (HEAD + '\n[[split]]\nfrom = "Sở B"\nparts = []\n', ":4: split[0].parts"),
    (HEAD + '\n[[moved]]\nfrom = "Sở B"\n', ":4: moved: unknown key"),
    (HEAD + '\n[[transferred]]\nfrom = "Sở B"\ninto = "Sở C"\n', ":4: transferred[0].share"),
    (HEAD + '\n[[renamed]]\nfrom = "Sở A"\ninto = "Sở B"\n\n[[renamed]]\nfrom = "Sở B"\ninto = "Sở A"\n',
     ": a cycle"),
    ("issuer = \n", "lineage/a/bad.toml:1: not TOML"),
])
def test_a_broken_file_is_refused_with_its_place(tmp_path: Path, text: str, where: str) -> None:
    folder = tmp_path / "lineage" / "a"
    folder.mkdir(parents=True)
    (folder / "bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(LineageError) as error:
        read_lineage(tmp_path / "lineage")
    assert str(error.value).startswith("lineage/a/bad.toml") and where in str(error.value)


async def test_history_labels_each_predecessor_and_never_joins_two_bodies(both: CatalogView) -> None:
    said = _said(both, "/lichsu Sở Tài chính")
    assert said.splitlines()[2:] == [
        "Năm 2023, trước 1/3/2025: Sở Tài chính, hạng 20/20, 59,17%, Trung bình (Quyết định số 1568/QĐ-UBND)",
        "Năm 2023, trước 1/3/2025: Sở Kế hoạch và Đầu tư, hạng 15/20, 73,63%, Khá (Quyết định số 1568/QĐ-UBND)",
        "Năm 2025: hạng 3/15, 92,35%, Tốt (Quyết định số 850/QĐ-UBND)",
    ]
    english = _said(both, "/lichsu so tai chinh", "en")
    assert "2023, before 1 Mar 2025: Sở Kế hoạch và Đầu tư, rank 15/20" in english
    # A share of a split unit is named as such; what a predecessor took over on the same day is not its
    y_te = _said(both, "/lichsu so y te")
    assert "trước 1/3/2025: Sở Lao động - Thương binh và Xã hội (phần bảo trợ xã hội, trẻ em), hạng 1/20" in y_te
    religion = _said(both, "/lichsu sở dân tộc và tôn giáo")
    assert "trước 1/3/2025: Ban Dân tộc, hạng 7/20" in religion
    assert "Sở Nội vụ (phần tín ngưỡng, tôn giáo), hạng 11/20" in religion
    assert "Lao động" not in religion
    # Only the province merger touched the department: its earlier result is labelled with that day
    assert "Năm 2023, trước 1/7/2025: Sở Tư pháp, hạng 6/20" in _said(both, "/lichsu sở tư pháp")


async def test_history_chart_draws_predecessors_apart(both: CatalogView) -> None:
    history = unit_history(both.snapshot, _unit(both, "Sở Nông nghiệp và Môi trường"))
    assert [(p.row.name, p.before) for p in history] == [
        ("Sở Nông nghiệp và Phát triển nông thôn", date(2025, 3, 1)),
        ("Sở Tài nguyên và Môi trường", date(2025, 3, 1)),
        ("Sở Nông nghiệp và Môi trường", None)]
    assert not any(p.own for p in history[:2]) and history[2].own
    assert history_chart("Sở Nông nghiệp và Môi trường", history, "vi").startswith(b"\x89PNG")
    answer = answer_text(both, "/bieudo sở nông nghiệp và môi trường")
    assert answer.attachments and "Sở Tài nguyên và Môi trường" in answer.render_plain()


async def test_a_unit_that_no_longer_exists_says_what_it_became(both: CatalogView) -> None:
    answer = answer_text(both, "sở thông tin và truyền thông")
    said = answer.render_plain()
    assert "Sở Thông tin và Truyền thông (cấp sở, năm 2023)" in said and "Xếp hạng: 3/20" in said
    assert "Từ 1/3/2025, Sở Thông tin và Truyền thông đã hợp nhất vào Sở Khoa học và Công nghệ." in said
    assert "Phần báo chí, xuất bản chuyển về Sở Văn hóa, Thể thao và Du lịch." in said
    assert [c.action for c in answer.choices] == [ShowUnit(_unit(both, "Sở Khoa học và Công nghệ")),
                                                  ShowUnit(_unit(both, "Sở Văn hóa, Thể thao và Du lịch"))]
    assert "Since 1 Mar 2025, Sở Thông tin và Truyền thông has been merged into" in answer.render_plain("en")
    split = _said(both, "so lao dong thuong binh xa hoi")
    assert "giáo dục nghề nghiệp về Sở Giáo dục và Đào tạo" in split
    district = _said(both, "quận ninh kiều")
    assert "UBND quận Ninh Kiều (cấp huyện, năm 2023)" in district
    assert "Từ 1/7/2025, không còn tổ chức cấp huyện" in district


async def test_a_unit_only_a_lineage_file_names(db: Database) -> None:
    """A store holding only the 2025 decision still knows the merged units; one holding only 2023 the new ones."""
    view = await _store(db, DECISION_2025)
    answer = answer_text(view, "so tttt xep hang may")
    said = answer.render_plain()
    assert said.startswith("Sở Thông tin và Truyền thông (cấp sở)")
    assert "Chưa có kết quả nào của Sở Thông tin và Truyền thông" in said and "hợp nhất vào Sở Khoa học" in said
    assert ShowUnit(_unit(view, "Sở Khoa học và Công nghệ")) in [c.action for c in answer.choices]
    assert "đã hợp nhất vào Sở Tài chính" in _said(view, "/lichsu sở kế hoạch và đầu tư")
    assert "Sở Khoa học và Công nghệ (cấp sở, năm 2025)" in _said(view, "sở khoa học và công nghệ")


async def test_a_new_unit_before_its_first_ranking(db: Database) -> None:
    view = await _store(db, shipped_decisions()[0])
    said = _said(view, "sở nông nghiệp và môi trường")
    assert "Chưa có kết quả nào của Sở Nông nghiệp và Môi trường" in said
    assert "tiếp nhận: Sở Nông nghiệp và Phát triển nông thôn; Sở Tài nguyên và Môi trường" in said
    # A stored unit's own name is never answered with a lineage-only one
    assert "Ban Dân tộc (cấp sở, năm 2023)" in _said(view, "Ban Dân tộc")


async def test_alerts_compare_a_unit_with_itself_only(both: CatalogView) -> None:
    snapshot = both.snapshot
    decision = next(r.decision.id for r in snapshot.rankings if r.decision.number == "850/QĐ-UBND")
    tai_chinh, tttt = _unit(both, "Sở Tài chính"), _unit(both, "Sở Thông tin và Truyền thông")
    said = alert_answer(snapshot, decision, [(UNIT, "", tai_chinh)]).render_plain()
    assert ("Sở Tài chính: hạng 3/15, 92,35%, Tốt. Trước 1/3/2025: Sở Tài chính hạng 20/20, 59,17%, Trung bình "
            "(năm 2023); Sở Kế hoạch và Đầu tư hạng 15/20, 73,63%, Khá (năm 2023)") in said
    assert "↑" not in said and "+" not in said
    # A followed unit that merged is followed through what it became
    merged = alert_answer(snapshot, decision, [(UNIT, "", tttt)]).render_plain()
    assert "Từ 1/3/2025, Sở Thông tin và Truyền thông đã hợp nhất vào Sở Khoa học và Công nghệ" in merged
    assert "Sở Khoa học và Công nghệ: hạng 1/15, 97,10%, Tốt. Trước 1/3/2025:" in merged
    assert "Sở Văn hóa, Thể thao và Du lịch: hạng 4/15" in merged
    english = alert_answer(snapshot, decision, [(LEVEL, "so", 0)]).render_plain("en")
    assert "Sở Tư pháp: rank 6/15, 88.15%, Good. Before 1 Jul 2025: Sở Tư pháp rank 6/20" in english


async def test_a_pure_rename_keeps_the_series(both: CatalogView) -> None:
    """Renamed and nothing else: the same body, compared with its old name's result."""
    from dxcore.understanding.lineage import RENAMED, Change, Event, Successor

    snapshot = both.snapshot
    rename = Change("UBND thành phố Cần Thơ", "so", "Sở Ngoại vụ", RENAMED, date(2024, 1, 1),
                    (Successor("Sở Dân tộc và Tôn giáo"),), "test")
    snapshot.lineage = Lineage([Event("UBND thành phố Cần Thơ", date(2024, 1, 1), "", (rename,))],
                               snapshot.units.values())
    decision = next(r.decision.id for r in snapshot.rankings if r.decision.number == "850/QĐ-UBND")
    renamed = _unit(both, "Sở Dân tộc và Tôn giáo")
    said = alert_answer(snapshot, decision, [(UNIT, "", renamed)]).render_plain()
    assert "Sở Dân tộc và Tôn giáo: hạng 11/15 (↓ 3 hạng), 79,95% (−6,96 điểm %), Tốt → Khá" in said
    history = unit_history(snapshot, renamed)
    assert [(p.row.name, p.before) for p in history] == [("Sở Ngoại vụ", None), ("Sở Dân tộc và Tôn giáo", None)]
    assert "Năm 2023 (Sở Ngoại vụ): hạng 8/20" in A.history_answer("Sở Dân tộc và Tôn giáo", "so", history).render_plain()


async def test_counts_with_no_year_leave_the_abolished_level_out(both: CatalogView) -> None:
    for lang, district in (("vi", "Cấp huyện"), ("en", "District level")):
        summary = _said(both, "thống kê", lang)
        assert "2025" in summary and district not in summary and "2023" not in summary
    assert "Cấp huyện (năm 2023)" in _said(both, "thống kê cấp huyện")


def test_abolished_levels_reach_every_unit_of_the_level() -> None:
    class U:
        def __init__(self, id: int, name: str, level: str, issuer: str) -> None:
            self.id, self.name, self.level, self.issuer = id, name, level, issuer

    units = [U(1, "UBND quận A", "huyen", "UBND thành phố Cần Thơ"), U(2, "UBND huyện B", "huyen", "UBND tỉnh Sóc Trăng"),
             U(3, "Sở Y tế", "so", "UBND tỉnh Sóc Trăng"), U(4, "Sở Y tế", "so", "UBND thành phố Cần Thơ")]
    lineage = Lineage(shipped_lineage(), units)
    assert lineage.fate(1).kind == LEVEL_ABOLISHED and lineage.fate(2).kind == LEVEL_ABOLISHED
    merged = lineage.fate(3)
    assert merged.kind == "issuer_merged" and [u for _, u in merged.successors] == [4]
    assert date(2025, 7, 1) in lineage.boundaries(4) and lineage.sources(4)[-1].issuer == "UBND tỉnh Sóc Trăng"


def test_a_decision_ranking_a_unit_that_had_ceased_is_warned_about(tmp_path: Path) -> None:
    text = DECISION_2025.read_text(encoding="utf-8").replace("15\tSở Ngoại vụ", "15\tSở Giao thông vận tải")
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    outcome = parse_file(tmp_path / "d.txt")
    assert outcome.ok
    [warning] = lineage_warnings(outcome.decision)
    assert warning.render("en").startswith("d.txt:68: ") and "Sở Giao thông vận tải" in str(warning)
    assert "2025-03-01-co-quan-chuyen-mon.toml" in str(warning) and "1 Mar 2025" in str(warning)
    assert "không còn từ 1/3/2025" in warning.render("vi")
    assert lineage_warnings(parse_file(shipped_decisions()[0]).decision) == []


def test_every_command_refuses_a_broken_lineage_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from bot.cli import main
    from dxcore.paths import data_dir

    shutil.copytree(data_dir(), tmp_path / "data")
    (tmp_path / "data" / "lineage" / "can-tho" / "broken.toml").write_text(
        'issuer = "UBND thành phố Cần Thơ"\ndate = 2025-01-01\n\n[[merged]]\nfrom = "Sở A"\n', encoding="utf-8")
    monkeypatch.setenv("DXBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DXBOT_STATE_DIR", str(tmp_path / "state"))
    shipped_lineage.cache_clear()
    try:
        assert main(["decisions"]) == 2
    finally:
        shipped_lineage.cache_clear()


async def test_a_chat_following_a_merged_unit_is_alerted_through_its_successor(db: Database) -> None:
    """Published end to end: the chat following the merged unit gets one alert, saying what became of it."""
    from dxcore.alerts.delivery import DeliveryWorker
    from dxcore.alerts.subscriptions import Target
    from dxcore.publishing.ingest import ingest_file
    from tests.test_delivery import RecordingSender, _subscribe

    noon_tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=5, minute=0)  # 12:00 in Việt Nam, due

    view = await _store(db, shipped_decisions()[0])
    await _subscribe(db, 1, Target(UNIT, unit_id=_unit(view, "Sở Thông tin và Truyền thông")))
    await _subscribe(db, 2, Target(UNIT, unit_id=_unit(view, "UBND quận Ninh Kiều")))  # abolished: nothing to say
    await _subscribe(db, 3, Target(UNIT, unit_id=_unit(view, "Sở Tài chính")), language="en")
    report = await ingest_file(db, DECISION_2025, actor="test", publish=True)
    assert report.ok and "  published: 2 alerts queued" in report.lines
    sender = RecordingSender()
    assert await DeliveryWorker(db, sender, Catalog(check_every=0), rate=1000, clock=lambda: noon_tomorrow).run_once() == 2
    texts = {chat: text for chat, _, text, _ in sender.sent}
    assert "Từ 1/3/2025, Sở Thông tin và Truyền thông đã hợp nhất vào Sở Khoa học và Công nghệ" in texts[1]
    assert "Sở Khoa học và Công nghệ: hạng 1/15, 97,10%, Tốt. Trước 1/3/2025: Sở Khoa học và Công nghệ" in texts[1]
    assert ("Sở Tài chính: rank 3/15, 92.35%, Good. Before 1 Mar 2025: Sở Tài chính rank 20/20, 59.17%, Average "
            "(2023); Sở Kế hoạch và Đầu tư rank 15/20, 73.63%, Fair (2023)") in texts[3]


async def test_the_successor_button_answers_with_its_latest_result(db: Database) -> None:
    from dxcore.conversation.actions import ButtonSeal
    from dxcore.conversation.core import Conversation
    from dxcore.conversation.events import Person, Place, Pressed, Said

    await _store(db, shipped_decisions()[0], DECISION_2025)
    core = Conversation(db, Catalog(check_every=0), ButtonSeal("1:test"), admins=frozenset())
    place, person = Place(5), Person(5)
    (reply,) = (await core.said(Said(place, person, "sở thông tin và truyền thông", message_id=1))).replies
    button = next(c for c in reply.answer.choices if "Sở Khoa học và Công nghệ" in c.label.render("vi"))
    (shown,) = (await core.pressed(Pressed(place, person, button.payload, 2, None))).replies
    said = shown.answer.render_plain()
    assert said.startswith("Sở Khoa học và Công nghệ (cấp sở, năm 2025)") and "Xếp hạng: 1/15" in said


def _soc_trang(year: int) -> ParsedDecision:
    """A made-up decision of a province that merged into the city on 1/7/2025: departments, and a commune that
    shares its name with one of the city's."""
    here = Location(f"soc-trang-{year}.txt")
    so = [ParsedRow(1, "Sở Công Thương", Decimal("91.00"), "tot", "Tốt", here),
          ParsedRow(2, "Sở Tài chính", Decimal("88.00"), "tot", "Tốt", here),
          ParsedRow(3, "Sở Kế hoạch và Đầu tư", Decimal("80.00"), "kha", "Khá", here)]
    xa = [ParsedRow(1, "Xã Thới Lai", Decimal("75.00"), "kha", "Khá", here)]
    return ParsedDecision(here.file, "UBND tỉnh Sóc Trăng", f"{year}1/QĐ-UBND", date(year + 1, 5, 1), year,
                          levels=[ParsedLevel("so", "Phụ lục I", here, so), ParsedLevel("xa", "Phụ lục II", here, xa)])


@pytest.fixture
async def provinces(db: Database) -> CatalogView:
    """The seed, the 2025 decision, and a 2024 decision of a province merged into the city on 1/7/2025."""
    await _store(db, shipped_decisions()[0], DECISION_2025)
    async with db.session() as session, session.begin():
        await store_decision(session, _soc_trang(2024), actor="test")
    return await Catalog(check_every=0).current(db)


def _of(view: CatalogView, name: str, issuer: str) -> int:
    return next(u.id for u in view.snapshot.units.values() if u.name == name and u.issuer == issuer)


async def test_a_merged_provinces_departments_go_into_the_same_named_ones(provinces: CatalogView) -> None:
    said = _said(provinces, "/lichsu sở công thương cần thơ")
    assert "Năm 2024, trước 1/7/2025: Sở Công Thương (UBND tỉnh Sóc Trăng), hạng 1/3, 91,00%" in said
    assert "Năm 2023, trước 1/7/2025: Sở Công Thương, hạng 10/20" in said
    history = unit_history(provinces.snapshot, _of(provinces, "Sở Công Thương", "UBND thành phố Cần Thơ"))
    assert [p.issuer for p in history if p.before] == ["", "UBND tỉnh Sóc Trăng"]
    assert history_chart("Sở Công Thương", history, "en").startswith(b"\x89PNG")
    # Communes were rearranged on their own: a namesake of another province is no predecessor
    thoi_lai = _of(provinces, "Xã Thới Lai", "UBND tỉnh Sóc Trăng")
    assert provinces.snapshot.lineage.fate(thoi_lai).successors == ()
    assert not any(p.row.unit_id == thoi_lai for u in provinces.snapshot.units
                   for p in unit_history(provinces.snapshot, u) if u != thoi_lai)


async def test_what_a_merged_provinces_unit_became_follows_every_step(provinces: CatalogView) -> None:
    """Its namesake in the city had itself merged on 1/3/2025: the button goes to what that became."""
    answer = answer_text(provinces, "sở kế hoạch và đầu tư sóc trăng")
    assert "Sở Kế hoạch và Đầu tư (cấp sở, năm 2024)" in answer.render_plain()
    assert [c.action for c in answer.choices] == [ShowUnit(_of(provinces, "Sở Tài chính", "UBND thành phố Cần Thơ"))]


async def test_an_alert_says_each_predecessor_under_its_own_day(provinces: CatalogView) -> None:
    snapshot = provinces.snapshot
    decision = next(r.decision.id for r in snapshot.rankings if r.decision.number == "850/QĐ-UBND")
    tai_chinh = _of(provinces, "Sở Tài chính", "UBND thành phố Cần Thơ")
    said = alert_answer(snapshot, decision, [(UNIT, "", tai_chinh)]).render_plain()
    assert ("Trước 1/3/2025: Sở Tài chính hạng 20/20, 59,17%, Trung bình (năm 2023); Sở Kế hoạch và Đầu tư hạng "
            "15/20, 73,63%, Khá (năm 2023). Trước 1/7/2025: Sở Tài chính (UBND tỉnh Sóc Trăng) hạng 2/3, 88,00%, Tốt "
            "(năm 2024)") in said


async def test_successor_buttons_show_only_what_the_unit_became(db: Database) -> None:
    """With no decision after the merger stored, the successor's result is of its body before: no button."""
    view = await _store(db, shipped_decisions()[0])
    answer = answer_text(view, "sở kế hoạch và đầu tư")
    assert "đã hợp nhất vào Sở Tài chính" in answer.render_plain() and answer.choices == []


async def test_a_renamed_unit_is_compared_with_its_former_self(both: CatalogView) -> None:
    said = _said(both, "Sở Dân tộc và Tôn giáo thay đổi thế nào so với năm trước")
    assert "Trước 1/3/2025: Ban Dân tộc hạng 7/20" in said and "lần đầu" not in said


def test_one_abolished_unit_is_not_its_whole_level() -> None:
    from dxcore.understanding.lineage import Change, Event

    gone = Change("UBND tỉnh A", "so", "Sở Ngoại vụ", "abolished", date(2026, 1, 1), (), "test")

    class U:
        id, name, level, issuer = 1, "Sở Ngoại vụ", "so", "UBND tỉnh A"

    fate = Lineage([Event("UBND tỉnh A", date(2026, 1, 1), "", (gone,))], [U()]).fate(1)
    assert A.fate_line("Sở Ngoại vụ", fate, {}).render("vi") == "Từ 1/1/2026, Sở Ngoại vụ không còn tổ chức."


def test_a_merged_provinces_or_abolished_levels_decision_is_warned_about() -> None:
    [merged] = lineage_warnings(_soc_trang(2025))
    assert "UBND tỉnh Sóc Trăng merged into UBND thành phố Cần Thơ on 1 Jul 2025" in str(merged)
    outcome = parse_file(shipped_decisions()[0])
    decision = outcome.decision
    decision.evaluated_year = 2025
    warnings = [str(w) for w in lineage_warnings(decision)]
    assert any("the district level was abolished on 1 Jul 2025" in w for w in warnings)
    assert sum("says this unit ceased" in w for w in warnings) == 7  # the seven departments that ceased on 1/3
