"""The layout corpus (tests/fixtures/layouts/) is consistent with itself and with expected.toml.

Checks the documents only; the dxbot parser does not read these layouts yet (issue 13). Tables are found by a
line count written here: a block after a blank line whose first line has a tab is a table; data rows are the
tabbed lines whose first cell is a number; a line without a tab, or whose first cell is a Roman numeral, is a
group row.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from decimal import Decimal
from pathlib import Path

import docx
import pytest

from tests.layoutgen import make_layout_docx, make_layout_pdf

LAYOUTS = Path(__file__).resolve().parent / "fixtures" / "layouts"
EXPECTED = tomllib.loads((LAYOUTS / "expected.toml").read_text(encoding="utf-8"))["document"]
ROMAN = re.compile(r"^[IVXLC]+$")
RANK_SCORE = re.compile(r"^(\d+) \(([\d,.]+)\)$")


def _tables(text: str) -> list[list[str]]:
    found, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.strip():
            block.append(line)
        else:
            if block and "\t" in block[0]:
                found.append(block)
            block = []
    return found


def _rows(table: list[str], group_row: str | None) -> list[list[str]]:
    rows, inside = [], group_row is None
    for line in table:
        cells = line.rstrip("\t").split("\t")
        if "\t" not in line or ROMAN.match(cells[0]):
            if group_row is not None:
                inside = line.rstrip("\t") == group_row
            continue
        if inside and cells[0].isdigit():
            rows.append(cells)
    return rows


def _score(text: str, decimal: str) -> Decimal:
    text = text.removesuffix("%").split("/")[0]
    return Decimal(text.replace(".", "").replace(",", ".") if decimal == "," else text)


def _doc(name: str) -> tuple[dict, str]:
    doc = next(d for d in EXPECTED if d["file"] == name)
    return doc, (LAYOUTS / name).read_text(encoding="utf-8")


def test_every_document_is_listed_and_exists() -> None:
    listed = {d["file"] for d in EXPECTED}
    assert listed == {p.name for p in LAYOUTS.glob("*.txt")}
    for doc in EXPECTED:
        assert {"layout", "provenance", "issuer", "number", "signed", "year", "ranking"} <= doc.keys(), doc["file"]
        note = Path(doc["provenance"]).name
        assert note.endswith(".md"), doc["file"]
        if doc["kind"] == "report":
            assert "Điều 1" not in (LAYOUTS / doc["file"]).read_text(encoding="utf-8")
            assert set(doc["label"]) == {"issuer", "number", "signed", "year"}


@pytest.mark.parametrize("name", [d["file"] for d in EXPECTED])
def test_rankings_are_consistent(name: str) -> None:
    doc, text = _doc(name)
    tables = _tables(text)
    article1 = text[text.find("Điều 1."):text.find("Điều 2.")] if "Điều 1." in text else ""
    headings = [r.get("article1_heading") for r in doc["ranking"] if r.get("article1_heading")]
    for ranking in doc["ranking"]:
        where = f"{name}: {ranking['level']} {ranking.get('group', '')}"
        rows = _rows(tables[ranking["table"] - 1], ranking.get("group_row"))
        assert len(rows) == ranking["rows"], where

        # ranks follow scores (competition ranking, ties share); unranked rows carry a score but no rank
        ranked, scores = [], []
        for cells in rows:
            if "rank_score_col" in ranking:
                rank, score = RANK_SCORE.match(cells[ranking["rank_score_col"]]).groups()
            else:
                rank = cells[ranking["rank_col"]]
                score = cells[ranking["score_col"]] if "score_col" in ranking else None
            if not rank.isdigit():
                continue
            ranked.append(int(rank))
            if score is not None:
                scores.append(_score(score, ranking["decimal"]))
        assert len(rows) - len(ranked) == ranking.get("unranked", 0), where
        if scores:
            assert scores == sorted(scores, reverse=True), where
            assert ranked == [1 + sum(other > s for other in scores) for s in scores], where
        else:
            assert ranked == list(range(1, len(ranked) + 1)), where

        if "tier_col" in ranking:
            tiers = [cells[ranking["tier_col"]] for cells in rows]
            assert dict(Counter(tiers)) == ranking["tiers"], where
            order = [ranking["tier_vocabulary"].index(t) for t in tiers]
            assert order == sorted(order), f"{where}: a lower score has a better tier"
        if "article1" in ranking:
            assert {t: n for t, n in ranking["article1"].items() if n} == ranking["tiers"], where
            start = article1.index(ranking["article1_heading"])
            later = [article1.index(h) for h in headings if article1.index(h) > start]
            section = article1[start:min(later, default=len(article1))]
            for tier, n in ranking["article1"].items():
                assert re.search(rf"{tier}\s*:\s*0*{n}(?!\d)", section), f"{where}: Điều 1 has no '{tier}: {n}'"

        if "sub_indices" in ranking:
            first, last = ranking["sub_cols"]
            header_lines = [line.split("\t") for line in tables[ranking["table"] - 1]
                            if not line.split("\t")[0].isdigit()]
            assert any(cells[first:last + 1] == ranking["sub_indices"] for cells in header_lines), where
            if "sub_maxima" in ranking:  # the sub-indices add up to the total
                for cells in rows:
                    parts = [_score(v, ranking["decimal"]) for v in cells[first:last + 1]]
                    assert sum(parts) == _score(cells[ranking["score_col"]], ranking["decimal"]), (where, cells)
        if "rank_list_table" in ranking:
            listed = [cells[:2] for cells in _rows(tables[ranking["rank_list_table"] - 1], None)]
            assert listed == [[cells[0], cells[1]] for cells in rows], where

        for fact in ranking["fact"]:
            (cells,) = [c for c in rows if c[ranking["name_col"]] == fact["unit"]]
            if "rank_score_col" in ranking:
                assert cells[ranking["rank_score_col"]] == fact["cell"] == f"{fact['rank']} ({fact['score']})"
                assert int(cells[0]) == fact["tt"]
                continue
            assert cells[ranking["rank_col"]] == fact["rank"], (where, fact)
            if "score" in fact:
                assert cells[ranking["score_col"]] == fact["score"], (where, fact)
            if "tier" in fact:
                assert cells[ranking["tier_col"]] == fact["tier"], (where, fact)
            for sub, value in fact.get("sub", {}).items():
                column = ranking["sub_cols"][0] + ranking["sub_indices"].index(sub)
                assert cells[column] == value, (where, fact, sub)


@pytest.mark.parametrize("name", [d["file"] for d in EXPECTED])
def test_renders_as_docx_and_pdf(name: str, tmp_path: Path) -> None:
    _, text = _doc(name)
    docx_path = make_layout_docx(LAYOUTS / name, tmp_path / "doc.docx")
    pdf_path = make_layout_pdf(LAYOUTS / name, tmp_path / "doc.pdf")
    # two layout tables for the issuer | motto header and the signature, where the document has them
    frames = sum(1 for b in ("CỘNG HÒA", "Nơi nhận:") if b in text)
    assert len(docx.Document(str(docx_path)).tables) == len(_tables(text)) + frames
    assert pdf_path.read_bytes().startswith(b"%PDF")
