"""What a decision document says, as parsed, before anything is stored."""

from __future__ import annotations

import functools
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date
from decimal import Decimal

from dxcore.answering.i18n import EN, Text, msg, word
from dxcore.steps import Steps, run_all


@dataclass(frozen=True)
class Location:
    """Where something stands in a source file, printed as DESIGN.md says."""

    file: str
    line: int | None = None  # text files, and text lines of PDF pages
    page: int | None = None
    table: int | None = None
    row: int | None = None
    paragraph: int | None = None
    column: int | None = None  # a cell of a scanned table that OCR doubts

    def render(self, lang: str = EN) -> str:
        if self.line is not None and self.page is None:
            return f"{self.file}:{self.line}"
        parts = [msg(f"where.{what}", n=n).render(lang) for what, n in (
            ("page", self.page), ("table", self.table), ("row", self.row), ("paragraph", self.paragraph),
            ("line", self.line), ("column", self.column)) if n is not None]
        return f"{self.file}:{', '.join(parts)}" if parts else self.file

    def __str__(self) -> str:
        return self.render(EN)


@dataclass(frozen=True)
class Block:
    """One line of running text or one table row, in document order.

    ``cells`` are the row's cell texts (a wrapped cell is one value); a text line that reads like a table row
    (tabs, pipes, wide gaps) is split into cells too. ``lines`` keeps the line structure inside cells, which
    header tables (issuer on one line, "Số: …" on the next) need.
    """

    cells: tuple[str, ...]
    loc: Location
    is_table_row: bool = False
    lines: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(c for c in self.cells if c)

    def all_lines(self) -> tuple[str, ...]:
        """Each line of each cell: a two-column header printed side by side is two lines here."""
        return self.lines or self.cells


@dataclass
class Reading:
    """A document read into Blocks; ``scanned`` when OCR read some of it, with the cells it doubts."""

    blocks: list[Block]
    scanned: bool = False
    doubts: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    loc: Location
    message: Text

    def render(self, lang: str = EN) -> str:
        """English for operators (the CLI, logs); the admin's language in Telegram."""
        return f"{self.loc.render(lang)}: {word(self.message, lang)}"

    def __str__(self) -> str:
        return self.render(EN)


SCORE_KINDS = ("percent", "points", "index")  # 0–100 %; points out of the ranking's maximum; an index 0–1


@dataclass
class SubScore:
    """One sub-index (pillar, criterion) of a row, under the ranking's ``subscore_names`` at the same position."""

    value: Decimal | None
    printed: str


@dataclass
class ParsedRow:
    rank: int | None
    name: str
    score: Decimal | None  # exactly as printed (its digits kept), in the ranking's score kind; None: rank only
    tier: str | None  # tier code; None when the printed word is not a tier (or the ranking prints none)
    tier_printed: str
    loc: Location
    subscores: list[SubScore] = field(default_factory=list)
    unranked: bool = False  # evaluated but printed as not ranked ("Không xếp hạng"): outside the ranking's order


@dataclass
class StatedCount:
    tier: str
    label: str  # as the decision words it ("Xếp loại Tốt")
    count: int
    loc: Location


@dataclass
class ParsedLevel:
    """One ranking: a level's table, or one group of it (a block, "Nhóm …", the communes of one district)."""

    code: str
    appendix: str  # "Phụ lục I", or the heading that introduced the table
    loc: Location
    rows: list[ParsedRow] = field(default_factory=list)
    stated_counts: list[StatedCount] = field(default_factory=list)
    counts_loc: Location | None = None
    group: str | None = None  # as printed ("Khối cơ quan Trung ương", "Nhóm sở có TTHC"); None: the whole level
    score_kind: str | None = "percent"  # one of SCORE_KINDS; None: the table prints ranks only
    score_max: Decimal | None = None  # points: the maximum printed for this ranking (100, 800, 1000)
    subscore_names: list[str] = field(default_factory=list)  # sub-index columns, as printed
    subscore_maxima: list[Decimal | None] = field(default_factory=list)  # each sub-index's maximum, where printed


@dataclass
class ParsedDecision:
    source: str
    issuer: str | None = None
    number: str | None = None
    signed_date: date | None = None
    evaluated_year: int | None = None
    title: str | None = None
    levels: list[ParsedLevel] = field(default_factory=list)
    signer: str | None = None  # "Trần Việt Trường"
    signer_title: str | None = None  # "Chủ tịch", "KT. Chủ tịch / Phó Chủ tịch"
    basis: list[str] = field(default_factory=list)  # the "Căn cứ …" and "Theo đề nghị …" lines

    def level(self, code: str) -> ParsedLevel | None:
        return next((lv for lv in self.levels if lv.code == code), None)

    def canonical(self) -> dict:
        """The content that makes two files "the same decision", whatever their format or layout."""
        return {
            "issuer": self.issuer,
            "number": self.number,
            "signed_date": self.signed_date.isoformat() if self.signed_date else None,
            "evaluated_year": self.evaluated_year,
            "levels": [
                {
                    "level": lv.code,
                    "rows": [[r.rank, r.name, str(r.score), r.tier] + ([[str(x.value) for x in r.subscores]]
                                                                       if r.subscores else []) for r in lv.rows],
                    "counts": [[c.tier, c.count] for c in lv.stated_counts],
                    # Only what differs from a percentage table of a whole level: stored hashes stay valid.
                    **({"group": lv.group} if lv.group else {}),
                    **({"score": [lv.score_kind, str(lv.score_max)]} if lv.score_kind != "percent" or lv.score_max
                       else {}),
                    **({"subscores": lv.subscore_names} if lv.subscore_names else {}),
                }
                for lv in self.levels
            ],
        }

    def content_hash(self) -> str:
        payload = json.dumps(self.canonical(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()

    def to_json(self) -> str:
        """Everything parsed, locations included: a previewed decision is published from this, not read again."""
        return json.dumps(_codec(ParsedDecision)[0](self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ParsedDecision:
        return run_all(cls.from_json_in_steps(text))

    @classmethod
    def from_json_in_steps(cls, text: str) -> Steps[ParsedDecision]:
        """``from_json`` as steps of a few hundred rows (``dxcore.steps.paced`` runs it between a bot's answers:
        10,000 rows take about 70 ms, and from another thread they held the interpreter lock almost as long)."""
        plain = json.loads(text)
        load_row, load_level = _codec(ParsedRow)[1], _codec(ParsedLevel)[1]
        levels = []
        for level in plain["levels"]:
            rows = []
            for i, row in enumerate(level["rows"]):
                rows.append(load_row(row))
                if i % _ROWS_PER_STEP == _ROWS_PER_STEP - 1:
                    yield
            levels.append(replace(load_level({**level, "rows": []}), rows=rows))
        return replace(_codec(cls)[1]({**plain, "levels": []}), levels=levels)


_ROWS_PER_STEP = 250
Converter = typing.Callable[[typing.Any], typing.Any]


@functools.cache
def _codec(kind: typing.Any) -> tuple[Converter, Converter]:
    """(to plain JSON values, back) for a type of the parsed model, led by its annotations and worked out once per
    type: a 10,000-row decision converts in tens of milliseconds, not the second that per-value reflection takes."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        dump, load = _codec(next(k for k in args if k is not type(None)))
        return (lambda v: None if v is None else dump(v)), (lambda v: None if v is None else load(v))
    if origin in (list, tuple):
        dump, load = _codec(args[0])
        rebuild = list if origin is list else tuple
        return (lambda v: [dump(x) for x in v]), (lambda v: rebuild(load(x) for x in v))
    if kind is Decimal:
        return str, Decimal  # Decimal keeps its printed digits
    if kind is date:
        return date.isoformat, date.fromisoformat
    if isinstance(kind, type) and is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        codecs = {f.name: _codec(hints[f.name]) for f in fields(kind)}

        def dump_fields(v: typing.Any) -> dict:
            return {name: dump(getattr(v, name)) for name, (dump, _) in codecs.items()}

        def load_fields(v: dict) -> typing.Any:
            return kind(**{name: codecs[name][1](value) for name, value in v.items()})

        return dump_fields, load_fields
    return (lambda v: v), (lambda v: v)


@dataclass
class ParseOutcome:
    decision: ParsedDecision
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    scanned: bool = False  # some text came from OCR (a scanned PDF page or a photo): the preview says so
    doubts: list[Problem] = field(default_factory=list)  # cells OCR repaired or is unsure of, each at its place

    @property
    def ok(self) -> bool:
        return not self.errors


class DocumentError(ValueError):
    """The file cannot be read as a decision at all: ``text`` says why in one sentence, worded in the reader's
    language (the caller adds the file); str() is English."""

    def __init__(self, text: Text) -> None:
        super().__init__(word(text, EN))
        self.text = text
