"""The resolver against the development sets (≥ 95% required; our own broader set too), and its contracts."""

from __future__ import annotations

import csv

import pytest

from dxcore.answering.i18n import word
from dxcore.parsing import parse_file
from dxcore.understanding.resolver import AMBIGUOUS, FOUND, NOT_FOUND, Resolver, UnitRef
from dxcore.understanding.text import clean
from tests.conftest import FIXTURES, SEED


def seed_units() -> list[UnitRef]:
    decision = parse_file(SEED).decision
    rows = [(lv.code, r.name) for lv in decision.levels for r in lv.rows]
    return [UnitRef(i, clean(name), level, decision.issuer) for i, (level, name) in enumerate(rows, start=1)]


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver(seed_units())


def _rows(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def is_right(resolver: Resolver, row: dict[str, str]) -> bool:
    result = resolver.resolve(row["query"])
    expected = [n for n in row["unit"].split("|") if n]
    if row["expect"] == FOUND:
        return result.status == FOUND and result.unit.name == expected[0]
    if row["expect"] == AMBIGUOUS:
        names = [c.unit.name for c in result.candidates]
        return result.status == AMBIGUOUS and set(expected) <= set(names) and 2 <= len(names) <= 5
    return result.status == NOT_FOUND


@pytest.mark.parametrize("dataset", ["resolve-dev.tsv", "resolve-more.tsv"])
def test_accuracy_on_development_sets(resolver: Resolver, dataset: str) -> None:
    rows = _rows(dataset)
    wrong = [row["query"] for row in rows if not is_right(resolver, row)]
    accuracy = 1 - len(wrong) / len(rows)
    assert accuracy >= 0.95, f"{accuracy:.1%}; wrong: {wrong}"


@pytest.mark.parametrize("dataset", ["resolve-dev.tsv", "resolve-more.tsv"])
def test_never_confident_on_a_not_found_row(resolver: Resolver, dataset: str) -> None:
    confident = [row["query"] for row in _rows(dataset)
                 if row["expect"] == NOT_FOUND and resolver.resolve(row["query"]).status == FOUND]
    assert confident == []


def test_json_shape(resolver: Resolver) -> None:
    found = resolver.resolve("so y te").to_json()
    assert found["status"] == "found" and found["query"] == "so y te"
    assert found["unit"]["name"] == "Sở Y tế" and found["unit"]["level"] == "so"
    assert found["candidates"][0]["id"] == found["unit"]["id"] and 0 < found["candidates"][0]["score"] <= 100
    ambiguous = resolver.resolve("Sở KH").to_json()
    assert ambiguous["unit"] is None and 2 <= len(ambiguous["candidates"]) <= 5
    nothing = resolver.resolve("chào bot").to_json()
    assert nothing == {"query": "chào bot", "status": "not_found", "unit": None, "candidates": []}


def test_nfd_input_and_old_tone_marks(resolver: Resolver) -> None:
    import unicodedata

    assert resolver.resolve(unicodedata.normalize("NFD", "Sở Văn hoá")).unit.name == "Sở Văn hóa, Thể thao và Du lịch"
    assert resolver.resolve("quận Bình Thuỷ").unit.name == "UBND quận Bình Thủy"


def test_level_filter_and_unit_type_evidence() -> None:
    units = [UnitRef(1, "UBND quận Tân An", "huyen", "UBND tỉnh X"), UnitRef(2, "UBND xã Tân An", "xa", "UBND tỉnh X")]
    resolver = Resolver(units)
    assert resolver.resolve("Tân An").status == AMBIGUOUS
    assert resolver.resolve("xã Tân An").unit.id == 2
    assert resolver.resolve("quận Tân An").unit.id == 1
    assert resolver.resolve("Tân An", level="xa").unit.id == 2


def test_aliases_global_and_per_chat() -> None:
    resolver = Resolver(seed_units())
    key = resolver.alias_key("sở số một")
    tu_phap = next(u for u in seed_units() if u.name == "Sở Tư pháp")
    resolver.chat_aliases[(42, key)] = tu_phap.id
    assert resolver.resolve("Sở số một", chat_id=42).unit == tu_phap
    assert resolver.resolve("Sở số một", chat_id=7).status != FOUND
    resolver.aliases[key] = tu_phap.id
    assert resolver.resolve("sở số một?", chat_id=7).unit == tu_phap


def test_empty_and_huge_input(resolver: Resolver) -> None:
    assert resolver.resolve("").status == NOT_FOUND
    assert resolver.resolve("?!").status == NOT_FOUND
    assert resolver.resolve("<b>Sở Y tế</b> " * 300).status in {FOUND, AMBIGUOUS, NOT_FOUND}


def test_several_issuers_a_place_word_narrows_the_search() -> None:
    units = seed_units() + [UnitRef(100, "Sở Y tế", "so", "UBND tỉnh Hậu Giang"),
                            UnitRef(101, "Sở Tài chính", "so", "UBND tỉnh Hậu Giang")]
    resolver = Resolver(units)
    assert resolver.resolve("Sở Y tế").status == AMBIGUOUS  # equal names of different issuers
    assert resolver.resolve("so y te hau giang").unit.id == 100
    assert resolver.resolve("Sở Y tế Cần Thơ").unit.issuer == "UBND thành phố Cần Thơ"
    assert resolver.resolve("Sở Y tế", issuer="UBND tỉnh Hậu Giang").unit.id == 100


def test_choices_across_issuers_name_the_issuer() -> None:
    from dxcore.answering.answers import ambiguous_answer

    units = seed_units() + [UnitRef(100, "Sở Y tế", "so", "UBND tỉnh Hậu Giang")]
    resolution = Resolver(units).resolve("Sở Y tế")
    labels = {word(c.label) for c in ambiguous_answer("Sở Y tế", resolution.candidates, None).choices}
    assert labels == {"Sở Y tế (UBND thành phố Cần Thơ)", "Sở Y tế (UBND tỉnh Hậu Giang)"}


def test_namesakes_told_apart_only_by_their_district_are_never_guessed() -> None:
    """Two communes of one name in different districts: a question without the district is ambiguous, whatever the
    scores say; with it, the one it names."""
    issuer = "UBND tỉnh Tây Ninh"
    units = [UnitRef(1, "Xã Tân Bình (thành phố Tây Ninh)", "xa", issuer),
             UnitRef(2, "Xã Tân Bình (huyện Tân Biên)", "xa", issuer),
             UnitRef(3, "Xã Thạnh Tân (thành phố Tây Ninh)", "xa", issuer)]
    resolver = Resolver(units)
    for question in ("xã tân bình", "Xã Tân Bình xếp hạng mấy", "tan binh"):
        resolution = resolver.resolve(question)
        assert resolution.status == AMBIGUOUS and {c.unit.id for c in resolution.candidates} >= {1, 2}, question
    assert resolver.resolve("xã tân bình huyện tân biên").unit.id == 2
    assert resolver.resolve("xã thạnh tân").unit.id == 3  # no namesake: found as before
