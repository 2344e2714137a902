"""Ranking and history charts, drawn from the stored seed (and a later decision), checked by their pixels."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image

from dxcore.answering.charts import (
    TIER_COLOURS,
    WIDTH_PX,
    _font,
    _Ruler,
    history_chart,
    history_sources,
    history_title,
    ranking_chart,
    ranking_source,
    ranking_title,
)
from dxcore.answering.queries import (
    RankedRow,
    RankingView,
    Snapshot,
    latest_rankings,
    load_snapshot,
    unit_history,
)
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty
from tests.conftest import SEED
from tests.test_delivery import _store_later

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def stored_snapshot(db: Database, later_from: str | None = None) -> Snapshot:
    """The shipped seed (2023 results), plus the later decision (2024 results) when given the seed's text."""
    await load_shipped_if_empty(db)
    if later_from is not None:
        await _store_later(db, later_from)
    async with db.session() as session:
        return await load_snapshot(session)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """Both decisions, stored once in SQLite for the module: charts only read the snapshot."""
    async def build() -> Snapshot:
        db = Database(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('charts') / 'dxbot.sqlite3'}")
        await db.prepare()
        try:
            return await stored_snapshot(db, SEED.read_text(encoding="utf-8"))
        finally:
            await db.close()
    return asyncio.run(build())


def ranking_2023(snapshot: Snapshot, level: str) -> RankingView:
    [ranking] = latest_rankings(snapshot, level=level, year=2023)
    return ranking


def image(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_SIGNATURE)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def mask(pixels: np.ndarray, colour: str) -> np.ndarray:
    rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return np.all(pixels == rgb, axis=-1)


def with_rows(ranking: RankingView, rows: list[RankedRow]) -> RankingView:
    return dataclasses.replace(ranking, rows=rows)


def test_ranking_chart_is_a_phone_width_png_growing_with_rows(snapshot: Snapshot) -> None:
    so, huyen = ranking_2023(snapshot, "so"), ranking_2023(snapshot, "huyen")
    one = with_rows(so, so.rows[:1])
    many = with_rows(so, [dataclasses.replace(row, unit_id=1000 + i, name=f"{row.name} {i}")
                          for i in range(6) for row in so.rows])  # 120 rows
    heights = []
    for ranking in (one, huyen, so, many):
        height, width, _ = image(ranking_chart(ranking)).shape
        assert width == WIDTH_PX
        heights.append(height)
    assert heights == sorted(heights) and len(set(heights)) == 4, heights
    assert heights[0] >= 250  # one row still has its title, legend and citation
    # The text keeps its size: six times the rows, about six times the bars (the bot sends such a chart as a file).
    assert heights[-1] - heights[0] >= 5 * (heights[2] - heights[0]), heights


def test_ranking_chart_colours_bars_by_tier_in_rank_order(snapshot: Snapshot) -> None:
    so = ranking_2023(snapshot, "so")  # 8 Tốt, 9 Khá, 3 Trung bình
    pixels = image(ranking_chart(so))
    present = {tier: mask(pixels, TIER_COLOURS[tier]) for tier in ("tot", "kha", "trung_binh")}
    for tier in ("xuat_sac", "yeu", "kem"):
        assert not mask(pixels, TIER_COLOURS[tier]).any(), tier
    counts = {tier: int(m.sum()) for tier, m in present.items()}
    # Bar area follows the number of units and their percentages: 9 Khá bars outweigh 3 Trung bình ones.
    assert counts["kha"] > counts["tot"] * 0.8 and counts["tot"] > counts["trung_binh"] * 2 > 20_000, counts
    # Rank 1 on top: Tốt bars above Khá above Trung bình (medians ignore the small legend swatches).
    medians = [np.median(np.nonzero(present[tier])[0]) for tier in ("tot", "kha", "trung_binh")]
    assert medians == sorted(medians)
    # Bar lengths are proportional to the percentages: widest Tốt bar 99,73%, widest Trung bình 62,54%.
    widest = {tier: present[tier].sum(axis=1).max() for tier in ("tot", "trung_binh")}
    assert widest["tot"] / widest["trung_binh"] == pytest.approx(99.73 / 62.54, rel=0.01)

    huyen = image(ranking_chart(ranking_2023(snapshot, "huyen")))  # 4 Khá, 5 Trung bình, no Tốt
    assert not mask(huyen, TIER_COLOURS["tot"]).any()
    assert mask(huyen, TIER_COLOURS["kha"]).any() and mask(huyen, TIER_COLOURS["trung_binh"]).any()


def test_chart_texts_per_language(snapshot: Snapshot) -> None:
    so = ranking_2023(snapshot, "so")
    assert ranking_title(so, "vi") == "Kết quả đánh giá, xếp hạng Chuyển đổi số cấp sở năm 2023"
    english = ranking_title(so, "en")
    assert english != ranking_title(so, "vi") and "2023" in english and "ố" not in english
    source = ranking_source(so.citation, "vi")
    assert source.startswith("Nguồn: Quyết định số 1568/QĐ-UBND ngày 12/7/2024")
    assert "Phụ lục I " in source and "2023" in source
    assert "12 Jul 2024" in ranking_source(so.citation, "en")
    assert history_title("Sở Y tế", "vi") == "Sở Y tế: kết quả Chuyển đổi số qua các năm"
    assert history_title("Sở Y tế", "en").startswith("Sở Y tế: ")
    assert history_title("Sở Y tế", "en") != history_title("Sở Y tế", "vi")


def test_charts_render_in_either_language(snapshot: Snapshot) -> None:
    so = ranking_2023(snapshot, "so")
    assert ranking_chart(so, "vi") != ranking_chart(so, "en")


def test_history_chart_across_two_decisions(snapshot: Snapshot) -> None:
    y_te = next(row.unit_id for row in ranking_2023(snapshot, "so").rows if row.name == "Sở Y tế")
    history = unit_history(snapshot, y_te)
    assert [(p.row.rank, p.row.tier, p.citation.evaluated_year) for p in history] == [(17, "kha", 2023), (5, "tot", 2024)]

    pixels = image(history_chart("Sở Y tế", history, "vi"))
    assert pixels.shape[1] == WIDTH_PX
    # Markers (and legend swatches) coloured by the tier of each year: Khá then Tốt, nothing else.
    assert mask(pixels, TIER_COLOURS["kha"]).sum() > 200 and mask(pixels, TIER_COLOURS["tot"]).sum() > 200
    assert not mask(pixels, TIER_COLOURS["trung_binh"]).any()
    assert history_chart("Sở Y tế", history, "en") != history_chart("Sở Y tế", history, "vi")
    assert image(history_chart("Sở Y tế", history[:1])).shape[1] == WIDTH_PX
    with pytest.raises(ValueError):
        history_chart("Sở Y tế", [])

    sources = history_sources([p.citation for p in history], "vi")
    assert sources.startswith("Nguồn: các quyết định của UBND thành phố Cần Thơ: ")
    assert sources.count("1568/QĐ-UBND") == sources.count("2001/QĐ-UBND") == 1
    assert sources.index("năm 2023") < sources.index("năm 2024")
    single = history_sources([history[0].citation] * 2, "vi")  # one decision cited once, in the answers' wording
    assert single == "Nguồn: Quyết định số 1568/QĐ-UBND ngày 12/7/2024 của UBND thành phố Cần Thơ (kết quả năm 2023)."


def test_long_names_wrap_on_two_lines_then_shorten() -> None:
    ruler, font = _Ruler(), _font(17)
    name = "BQL các khu chế xuất và công nghiệp Cần Thơ"
    lines = ruler.wrap(name, font, 470, max_lines=2)
    assert len(lines) == 2 and " ".join(lines) == name  # nothing lost
    widths = sorted(ruler.width(line, font) for line in lines)
    assert widths[0] > 0.6 * widths[1]  # evened out: no lone last word
    long = " ".join(["Trung tâm Phục vụ hành chính công"] * 4)
    lines = ruler.wrap(long, font, 470, max_lines=2)
    assert len(lines) == 2 and lines[1].endswith("…") and lines[0] in long
    assert all(ruler.width(line, font) <= 470 for line in lines)
    assert ruler.wrap("Sở Y tế", font, 470, max_lines=2) == ["Sở Y tế"]
    # The word-sum estimate agrees with Agg's own layout of the whole line.
    whole = ruler._renderer.get_text_width_height_descent(name, font, ismath=False)[0]
    assert ruler.width(name, font) == pytest.approx(whole, abs=3)


def test_decomposed_names_draw_like_composed_ones(snapshot: Snapshot) -> None:
    huyen = ranking_2023(snapshot, "huyen")
    nfd = with_rows(huyen, [dataclasses.replace(r, name=unicodedata.normalize("NFD", r.name)) for r in huyen.rows])
    assert ranking_chart(nfd) == ranking_chart(huyen)


def test_charts_render_from_threads_identically(snapshot: Snapshot) -> None:
    huyen = ranking_2023(snapshot, "huyen")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ranking_chart(huyen), range(6)))
    assert len(set(results)) == 1


def test_unknown_tier_and_three_decimals_still_render(snapshot: Snapshot) -> None:
    so = ranking_2023(snapshot, "so")
    odd = with_rows(so, [RankedRow(1, "Đơn vị thử", 1, Decimal("100.000"), "tot"),
                         RankedRow(2, "Đơn vị khác", 2, Decimal("0.125"), "ngoai_le")])
    pixels = image(ranking_chart(odd))
    assert mask(pixels, TIER_COLOURS["tot"]).any()

