"""DOCX and PDF decisions written as real offices do (tests/docgen.py), through the whole parser and ingest."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from dxcore.parsing import parse_file
from dxcore.publishing.ingest import ingest_file
from dxcore.store.db import Database
from dxcore.store.decisions import IngestStatus
from tests.conftest import SEED
from tests.docgen import make_decision_docx, make_decision_pdf, seed_rows, xa_rows

SEED_HASH = parse_file(SEED).decision.content_hash()


def _with_tie(levels):
    """The seed with Sở Ngoại vụ tied with Ban Dân tộc (both 87,46%, rank 7)."""
    (label, heading, rows), rest = levels[0], levels[1:]
    rows = [(7, name, "87,46%", tier) if name == "Sở Ngoại vụ" else (rank, name, pct, tier)
            for rank, name, pct, tier in rows]
    return [(label, heading, rows), *rest]


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("docs")
    return {
        "seed.docx": make_decision_docx(folder / "seed.docx", levels=seed_rows()),
        "seed.pdf": make_decision_pdf(folder / "seed.pdf", levels=seed_rows()),
        "tie.docx": make_decision_docx(folder / "tie.docx", levels=_with_tie(seed_rows())),
        "plain.docx": make_decision_docx(folder / "plain.docx", levels=seed_rows(), stt_column=False,
                                         merged_title=False),
        "three-levels.docx": make_decision_docx(
            folder / "three-levels.docx", levels=[*seed_rows(), ("Phụ lục III", "CẤP XÃ", xa_rows(3000))]
        ),
        "xa.pdf": make_decision_pdf(folder / "xa.pdf", levels=[("Phụ lục I", "CẤP XÃ", xa_rows(150, seed=3))]),
        "wrong-count.docx": make_decision_docx(folder / "wrong-count.docx", levels=seed_rows(),
                                               counts=[{"Tốt": 9}, {}]),
    }


@pytest.mark.parametrize("name", ["seed.docx", "seed.pdf", "plain.docx"])
def test_seed_in_other_formats_is_the_same_decision(docs: dict[str, Path], name: str) -> None:
    outcome = parse_file(docs[name])
    assert outcome.ok, [str(e) for e in outcome.errors]
    assert outcome.decision.content_hash() == SEED_HASH
    assert [len(lv.rows) for lv in outcome.decision.levels] == [20, 9]


def test_docx_header_table_stt_column_and_merged_title(docs: dict[str, Path]) -> None:
    outcome = parse_file(docs["seed.docx"])
    d = outcome.decision
    assert (d.issuer, d.number, str(d.signed_date), d.evaluated_year) == (
        "UBND thành phố Cần Thơ", "1568/QĐ-UBND", "2024-07-12", 2023,
    )
    first = d.levels[0].rows[0]
    assert (first.rank, first.name, first.score) == (1, "Sở Lao động - Thương binh và Xã hội", Decimal("99.73"))
    assert str(first.loc).startswith("seed.docx:table ") and ", row " in str(first.loc)


def test_docx_tie_shares_the_rank(docs: dict[str, Path]) -> None:
    outcome = parse_file(docs["tie.docx"])
    assert outcome.ok, [str(e) for e in outcome.errors]
    rows = outcome.decision.levels[0].rows
    assert [(r.rank, r.score) for r in rows[6:9]] == [(7, Decimal("87.46")), (7, Decimal("87.46")), (9, Decimal("83.76"))]


def test_pdf_wrapped_names_are_whole(docs: dict[str, Path]) -> None:
    rows = parse_file(docs["seed.pdf"]).decision.levels[0].rows
    assert rows[8].name == "BQL các khu chế xuất và công nghiệp Cần Thơ"
    assert str(rows[8].loc).startswith("seed.pdf:page ")


def test_third_level_with_thousands_of_rows(docs: dict[str, Path]) -> None:
    outcome = parse_file(docs["three-levels.docx"])
    assert outcome.ok, [str(e) for e in outcome.errors[:5]]
    levels = outcome.decision.levels
    assert [(lv.code, lv.appendix, len(lv.rows)) for lv in levels] == [
        ("so", "Phụ lục I", 20), ("huyen", "Phụ lục II", 9), ("xa", "Phụ lục III", 3000),
    ]
    assert sum(c.count for c in levels[2].stated_counts) == 3000
    ranks = [r.rank for r in levels[2].rows]
    assert len(set(ranks)) < 3000  # ties share a rank


def test_pdf_table_spanning_pages_is_one_ranking(docs: dict[str, Path]) -> None:
    outcome = parse_file(docs["xa.pdf"])
    assert outcome.ok, [str(e) for e in outcome.errors[:5]]
    (xa,) = outcome.decision.levels
    assert len(xa.rows) == 150 and len({r.loc.page for r in xa.rows}) > 1


def test_docx_errors_are_located_by_paragraph(docs: dict[str, Path]) -> None:
    outcome = parse_file(docs["wrong-count.docx"])
    assert not outcome.ok
    (error,) = outcome.errors
    assert str(error).startswith("wrong-count.docx:paragraph ")
    assert "says 9 Cấp sở units are Tốt, but the appendix lists 8" in str(error)


async def test_same_decision_in_another_format_changes_nothing(db: Database, docs: dict[str, Path]) -> None:
    first = await ingest_file(db, SEED, actor="test")
    again = await ingest_file(db, docs["seed.docx"], actor="test")
    pdf = await ingest_file(db, docs["seed.pdf"], actor="test")
    assert first.status is IngestStatus.CREATED
    assert again.status is pdf.status is IngestStatus.UNCHANGED
    assert again.decision_id == pdf.decision_id == first.decision_id


async def test_dry_run_stores_nothing(db: Database, docs: dict[str, Path]) -> None:
    report = await ingest_file(db, docs["seed.docx"], actor="test", dry_run=True)
    assert report.ok and report.status is None
    assert (await ingest_file(db, docs["seed.docx"], actor="test")).status is IngestStatus.CREATED
