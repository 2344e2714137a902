"""Ten documents written from the format notes by someone who had not seen the layout corpus or the parser's tests
(tests/fixtures/unseen/, facts in expected.json). They found refused documents and wrong figures; after the fixes
they are a regression set: each must read with its figures as printed."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dxcore.parsing import GivenFacts, parse_bytes
from dxcore.understanding.text import name_key

FOLDER = Path(__file__).parent / "fixtures" / "unseen"
EXPECTED = json.loads((FOLDER / "expected.json").read_text(encoding="utf-8"))


def _number(printed: str) -> Decimal:
    """ "1.045,50" → 1045.50, "92,14%" → 92.14, "0.6987" → 0.6987 (a dot with three digits after it groups)."""
    text = printed.rstrip("%").strip()
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return Decimal(text)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_unseen_document_reads_as_printed(name: str) -> None:
    expected = EXPECTED[name]
    given = None
    if facts := expected.get("given"):
        given = GivenFacts(facts["issuer"], facts["number"], datetime.strptime(facts["signed"], "%d/%m/%Y").date(),
                           facts["year"])
    outcome = parse_bytes((FOLDER / name).read_bytes(), name, given)
    assert outcome.ok, [str(e) for e in outcome.errors[:3]]
    decision = outcome.decision
    assert (decision.issuer, decision.number, decision.evaluated_year) == (
        expected["issuer"], expected["number"], expected["year"])
    got = [(lv.code, lv.score_kind, lv.score_max,
            sum(r.rank is not None for r in lv.rows))  # the facts count ranked rows ("Không xếp hạng" aside)
           for lv in decision.levels]
    assert got == [(r["level"], r["score_kind"], r["max"] and Decimal(r["max"]), r["rows"]) for r in expected["rankings"]]
    for level, ranking in zip(decision.levels, expected["rankings"]):
        printed = Counter(name_key(r.tier_printed) for r in level.rows if r.tier)
        assert printed == Counter({name_key(t): n for t, n in (ranking.get("tiers") or {}).items() if n}), level.code
    # Communes ranked within a district carry its name: a fact gives the name as printed in the table.
    rows = {name_key(r.name.split(" (")[0]): r for lv in decision.levels for r in lv.rows}
    for spot in expected["spots"]:
        row = rows[name_key(spot["unit"])]
        assert row.rank == spot["rank"], spot
        assert row.score == (None if spot["score"] is None else _number(spot["score"])), spot
        assert (row.tier_printed or None) == spot["tier"], spot
