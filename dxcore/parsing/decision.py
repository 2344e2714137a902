"""A Block stream → ParsedDecision: header facts, the Điều 1 tier counts, and the appendix ranking tables.

Only what a decision itself says is taken: its own number and date (from the "Số: …" header, or from the appendix
notes "Kèm theo Quyết định số …"), never the decisions cited in "Căn cứ …" lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from dxcore.answering.i18n import msg
from dxcore.parsing.model import (
    Block,
    Location,
    ParsedDecision,
    ParsedLevel,
    ParsedRow,
    Problem,
    StatedCount,
)
from dxcore.understanding.levels import detect_level, level_name
from dxcore.understanding.text import clean, strip_diacritics
from dxcore.understanding.tiers import TIER_WORDS, parse_tier


def _folded(text: str) -> str:
    """Lower-cased and without diacritics, the same length as ``text`` (so match spans map back)."""
    return strip_diacritics(text.lower())


# --- header facts -----------------------------------------------------------------------------------------------

_NUMBER = r"(\d+(?:\s*/\s*\d{4})?)\s*/\s*(Q[ĐD](?:\s*-\s*[A-ZĐ0-9]+(?:\.[A-ZĐ0-9]+)*)+)"
_HEADER_NUMBER_RE = re.compile(rf"^S[ỐO]\s*:?\s*{_NUMBER}", re.IGNORECASE)
_ANNEX_NUMBER_RE = re.compile(
    rf"Quyết định số\s*:?\s*{_NUMBER}(?:\s*,?\s*ngày\s+(\d{{1,2}})\s*(?:tháng|/)\s*(\d{{1,2}})\s*(?:năm|/)\s*(\d{{4}}))?",
    re.IGNORECASE,
)
_DATE_LINE_RE = re.compile(r"^[^\d,]{2,40},\s*ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)
_YEAR_RE = re.compile(r"năm\s+(\d{4})", re.IGNORECASE)
_ISSUER_RE = re.compile(r"(?:uy ban nhan dan|ubnd)\s*(tinh|thanh pho)?\s*(.*)$")
_DIEU_RE = re.compile(r"^dieu\s*(\d+)\b")
_APPENDIX_RE = re.compile(r"^phu luc\s*(?:so\s*)?([ivxlc]+|\d+)\b")
_PAGE_FURNITURE_RE = re.compile(r"^(?:trang\s*)?\d{1,4}(?:\s*/\s*\d{1,4})?$")


def _number_text(groups: tuple[str, str]) -> str:
    number, suffix = groups
    return re.sub(r"\s+", "", f"{number}/{suffix}").upper().replace("QD-", "QĐ-")


def _make_date(day: str, month: str, year: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


@dataclass
class _Found:
    """A fact and where it was read, so disagreements can point at both places."""

    value: object
    loc: Location


@dataclass
class _HeaderFacts:
    issuer: _Found | None = None
    number: _Found | None = None
    signed: _Found | None = None
    title: str | None = None
    year: int | None = None
    annex_notes: list[tuple[str, date | None, Location]] = field(default_factory=list)
    basis: list[str] = field(default_factory=list)


def _issuer_from(lines: list[tuple[str, Location]]) -> _Found | None:
    """The issuing body from the capitalised header ("ỦY BAN NHÂN DÂN / THÀNH PHỐ CẦN THƠ", "CHỦ TỊCH UBND TỈNH …")."""
    for i, (line, loc) in enumerate(lines):
        if line != line.upper():
            continue  # running text ("… của Ủy ban nhân dân thành phố ban hành …") is not a header
        match = _ISSUER_RE.search(_folded(line))
        if not match:
            continue
        kind_start = match.start(1) if match.group(1) else match.start(2)
        rest = line[kind_start:].strip()
        if not rest:
            # "ỦY BAN NHÂN DÂN" alone: the place is on a following line of the same column; in a two-column
            # header printed as text, the other column's line ("CỘNG HÒA XÃ HỘI …") comes in between.
            rest = next((ln.strip() for ln, _ in lines[i + 1 : i + 5]
                         if ln == ln.upper() and _folded(ln).startswith(("tinh ", "thanh pho "))), "")
        kind = _folded(rest)
        for word, display in (("thanh pho ", "thành phố"), ("tinh ", "tỉnh")):
            if kind.startswith(word) and len(rest) > len(word):
                place = rest[len(word):].strip(" -.,").title()
                return _Found(f"UBND {display} {place}", loc)
    return None


def _read_header(blocks: list[Block], facts: _HeaderFacts) -> None:
    lines = [(line, b.loc) for b in blocks for line in b.all_lines()]
    facts.issuer = _issuer_from(lines)
    in_title = False
    title_parts: list[str] = []
    for line, loc in lines:
        folded = _folded(line)
        if folded.startswith(("can cu", "theo de nghi", "xet de nghi")):
            in_title = False
            facts.basis.append(clean(line).rstrip(";. "))
            continue  # citations of other documents: never this decision's own facts
        if facts.number is None and (m := _HEADER_NUMBER_RE.match(line)):
            facts.number = _Found(_number_text(m.groups()), loc)
        if facts.signed is None and (m := _DATE_LINE_RE.match(line)):
            facts.signed = _Found(_make_date(*m.groups()), loc)
        if folded.strip(" :") == "quyet dinh" and not title_parts:
            in_title = True
            continue
        if in_title:
            if folded.startswith(("chu tich", "uy ban", "ubnd", "quyet dinh", "dieu ")) or len(title_parts) >= 4:
                in_title = False  # "CHỦ TỊCH ỦY BAN …" follows the title, which may itself be in capitals
            else:
                title_parts.append(line)
    if title_parts:
        facts.title = clean(" ".join(title_parts))
        if m := _YEAR_RE.search(facts.title):
            facts.year = int(m.group(1))


_SIGNER_TITLE_RE = re.compile(r"^(?:(?:kt|tm|tl|tuq)\.? ?)?(?:pho )?(?:chu tich|giam doc|bo truong|thu truong|"
                              r"truong ban|chanh van phong|uy ban nhan dan)\b")
_PERSON_RE = re.compile(r"^[A-ZĐÀ-Ỹ][\wÀ-ỹ]*(?: [A-ZĐÀ-Ỹ][\wÀ-ỹ]*){1,4}$")


def _sentence_case(title: str) -> str:
    """"KT. CHỦ TỊCH" → "KT. Chủ tịch": an authority prefix stays in capitals, the office reads as in running text."""
    prefix, _, office = title.rpartition(". ")
    office = office.capitalize()
    return f"{prefix}. {office}" if prefix else office


def read_signature(blocks: list[Block]) -> tuple[str | None, str | None]:
    """The signer at the foot of the decision text: the last title lines in capitals ("KT. CHỦ TỊCH", "PHÓ CHỦ
    TỊCH") and the name under them ("Trần Việt Trường"). Returns (name, title), or Nones when not printed."""
    titles: list[str] = []
    for block in blocks:
        for line in block.all_lines():
            line = clean(line)
            if not line:
                continue
            folded = _folded(line)
            if line == line.upper() and _SIGNER_TITLE_RE.match(folded):
                titles.append(line)
            elif titles and line != line.upper() and _PERSON_RE.match(line) and len(line) <= 60:
                return line, ", ".join(_sentence_case(t) for t in titles[-2:])
    return None, None


def _read_annex_notes(blocks: list[Block], facts: _HeaderFacts) -> None:
    for block in blocks:
        text = block.text
        if "kem theo" in _folded(text) and (m := _ANNEX_NUMBER_RE.search(text)):
            groups = m.groups()
            signed = _make_date(*groups[2:]) if groups[2] else None
            facts.annex_notes.append((_number_text(groups[:2]), signed, block.loc))


# --- Điều 1 counts ----------------------------------------------------------------------------------------------

_TIER_ALT = "|".join(sorted((re.escape(_folded(w)) for w in TIER_WORDS.values()), key=len, reverse=True))
_UNIT_WORDS = r"(?:don vi|co quan|dia phuong|dv|so|quan|huyen|xa|phuong)"
_COUNT_AFTER_TIER = re.compile(
    rf"(?<!\w)((?:xep loai|loai|muc|dat)?\s*({_TIER_ALT}))(?:\s*\([^)]*\))?\s*[:\-]?\s*(\d+)(?:\s*/\s*\d+)?\s*{_UNIT_WORDS}"
)
_COUNT_BEFORE_TIER = re.compile(
    rf"(?<!\w)(\d+)\s*{_UNIT_WORDS}\s*(?:duoc\s*)?((?:xep loai|dat|o|muc|loai|\s)*({_TIER_ALT}))(?!\w)"
)


def _counts_in(text: str) -> list[tuple[str, str, int]]:
    """(tier code, label as printed, count) pairs stated in one line, in their order."""
    folded = _folded(text)
    found: list[tuple[int, str, str, int]] = []
    for m in _COUNT_AFTER_TIER.finditer(folded):
        label = text[m.start(1) : m.end(1)].strip()
        found.append((m.start(), parse_tier(m.group(2)) or "", label[:1].upper() + label[1:], int(m.group(3))))
    if not found:
        for m in _COUNT_BEFORE_TIER.finditer(folded):
            label = text[m.start(2) : m.end(2)].strip()
            found.append((m.start(), parse_tier(m.group(3)) or "", label[:1].upper() + label[1:], int(m.group(1))))
    return [(code, label, count) for _, code, label, count in sorted(found)]


def _read_counts(blocks: list[Block], problems: list[Problem]) -> dict[str | None, list[StatedCount]]:
    stated: dict[str | None, list[StatedCount]] = {}
    level: str | None = None
    for block in blocks:
        text = block.text
        head = re.split(r"xếp loại|:", text, maxsplit=1, flags=re.IGNORECASE)[0]
        if (code := detect_level(head)) is not None:
            level = code
            if level in stated:
                problems.append(Problem(block.loc, msg("problem.counts_twice_level", level=level_name(level))))
        for tier, label, count in _counts_in(text):
            entries = stated.setdefault(level, [])
            if any(e.tier == tier for e in entries):
                problems.append(Problem(block.loc, msg("problem.count_twice", label=label)))
            entries.append(StatedCount(tier, label, count, block.loc))
    return stated


# --- ranking tables ---------------------------------------------------------------------------------------------

# Header words → column role, tried in this order on the folded header text ("Kết quả xếp loại" is a tier, "Kết quả
# đánh giá (%)" a percentage, "Tên cơ quan/đơn vị" the unit).
_ROLE_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("seq", re.compile(r"^(?:stt|tt|so tt|so thu tu)$")),
    ("rank", re.compile(r"(?<!\w)(?:xep hang|thu hang|hang|vi tri)(?!\w)")),
    ("tier", re.compile(r"(?<!\w)(?:xep loai|phan loai|muc do|muc xep loai|loai)(?!\w)")),
    ("percentage", re.compile(r"(?<!\w)(?:ty le|diem|ket qua|chi so|%)(?!\w)|%")),
    ("unit", re.compile(r"(?<!\w)(?:don vi|co quan|dia phuong|ten|so,? ban,? nganh)(?!\w)")),
]
_REQUIRED_ROLES = {"rank", "unit", "percentage", "tier"}


def _column_role(cell: str) -> tuple[str | None, bool]:
    """The role of a header cell, and whether it says the values are percentages ("Tỷ lệ (%)")."""
    folded = " ".join(re.sub(r"[^\w%,]+", " ", _folded(cell)).split())
    if not folded or len(folded) > 60:
        return None, False  # a title or a sentence, not a column header
    role = next((name for name, rule in _ROLE_RULES if rule.search(folded)), None)
    return role, "%" in folded or "phan tram" in folded


@dataclass
class _Columns:
    index: dict[str, int]
    width: int
    percent: bool


def _header_columns(block: Block) -> _Columns | None:
    roles: dict[str, int] = {}
    percent = False
    for i, cell in enumerate(block.cells):
        role, says_percent = _column_role(cell)
        if role and role not in roles:
            roles[role] = i
            percent |= says_percent and role == "percentage"
    if "rank" not in roles and "seq" in roles:
        roles["rank"] = roles["seq"]  # some offices number the ranking in a single STT column
    if not _REQUIRED_ROLES <= roles.keys():
        return None
    return _Columns(roles, len(block.cells), percent)


_RANK_RE = re.compile(r"^0*(\d+)\.?$")
_PERCENT_RE = re.compile(r"^(\d{1,3})(?:[.,](\d{1,6}))?\s*%?$")
_ROMAN_RE = re.compile(r"^[IVXLC]+\.?$")


def parse_percentage(text: str) -> Decimal | None:
    """ "99,73%", "99.73", "087,5 %", "100" → Decimal; anything else → None."""
    m = _PERCENT_RE.match(text.replace(" ", "").replace("\u00a0", "")) if text else None
    if not m:
        return None
    try:
        return Decimal(f"{int(m.group(1))}.{m.group(2) or '0'}").normalize() + Decimal("0.000")
    except InvalidOperation:
        return None


def _parse_row(block: Block, cols: _Columns, problems: list[Problem]) -> ParsedRow:
    cells = block.cells
    rank_text = cells[cols.index["rank"]]
    rank_match = _RANK_RE.match(rank_text)
    if not rank_match:
        problems.append(Problem(block.loc, msg("problem.rank_not_number", rank=rank_text)))
    name = cells[cols.index["unit"]]
    if not name:
        problems.append(Problem(block.loc, msg("problem.unit_empty")))
    pct_text = cells[cols.index["percentage"]]
    percentage = parse_percentage(pct_text)
    if percentage is None:
        problems.append(Problem(block.loc, msg("problem.percentage_not_number", text=pct_text)))
    elif percentage.as_tuple().exponent < -3:
        problems.append(Problem(block.loc, msg("problem.percentage_decimals", text=pct_text)))
    tier_text = cells[cols.index["tier"]]
    tier = parse_tier(tier_text)
    if tier is None:
        known = ", ".join(TIER_WORDS.values())
        problems.append(Problem(block.loc, msg("problem.not_tier", text=tier_text, known=known)))
    rank = int(rank_match.group(1)) if rank_match else None
    return ParsedRow(rank, name, percentage, tier, tier_text, block.loc)


def _is_data_row(block: Block, cols: _Columns) -> bool:
    """A row as wide as the header whose rank, percentage or tier reads as one (the others may be typos)."""
    needed = max(cols.index.values()) + 1  # trailing empty cells (an empty "Ghi chú") may be left out
    if not needed <= len(block.cells) <= cols.width:
        return False
    cells = block.cells
    return bool(
        _RANK_RE.match(cells[cols.index["rank"]])
        or parse_percentage(cells[cols.index["percentage"]]) is not None
        or parse_tier(cells[cols.index["tier"]])
    )


@dataclass
class _Context:
    """Headings read since the last table: which appendix and level the next table belongs to."""

    appendix: str | None = None
    level: str | None = None
    level_loc: Location | None = None

    def take(self, block: Block) -> str | None:
        """Read a heading line: "appendix" when it starts one, "level" when it names a level, else None."""
        text = block.text
        folded = _folded(text)
        if m := _APPENDIX_RE.match(folded):
            self.appendix = f"Phụ lục {m.group(1).upper()}"
            self.level = detect_level(text[m.end():])  # "Phụ lục I - KẾT QUẢ XẾP HẠNG CẤP SỞ"
            self.level_loc = block.loc if self.level else None
            return "appendix"
        if "kem theo" in folded or "quyet dinh so" in folded:
            return None  # the appendix note names the issuer ("Ủy ban nhân dân thành phố"), not a level
        if (code := detect_level(text)) is not None:
            self.level, self.level_loc = code, block.loc
            return "level"
        return None


def _read_tables(blocks: list[Block], decision: ParsedDecision, problems: list[Problem], warnings: list[Problem]):
    ctx = _Context()
    current: ParsedLevel | None = None
    cols: _Columns | None = None
    header_loc: Location | None = None  # a header read before any level was named: level rows may follow
    skipped: list[Block] = []
    for block in blocks:
        header = _header_columns(block)
        if header is not None:
            if current is not None and ctx.level is None and cols and header.width == cols.width:
                cols = header  # the header repeated on a new page: the same ranking goes on
                continue
            cols, current, skipped, header_loc = header, None, [], None
            if ctx.level is None:
                header_loc = block.loc  # "STT | Đơn vị | …" then "I | CẤP SỞ" rows inside the table
                continue
            current = _start_level(decision, ctx, block.loc, problems)
            ctx.level = None
            continue
        if cols is not None and _is_data_row(block, cols):
            if current is None:
                if header_loc is not None:
                    problems.append(Problem(header_loc, msg("problem.no_level_heading")))
                    header_loc = None
                continue
            warnings.extend(
                Problem(b.loc, msg("problem.ignored_text", text=b.text[:60]))
                for b in skipped if not _PAGE_FURNITURE_RE.match(b.text)
            )
            skipped = []
            current.rows.append(_parse_row(block, cols, problems))
            continue
        distinct = [c for c in block.cells if c]
        if cols is not None and 1 <= len(distinct) <= 2 and (block.is_table_row or _ROMAN_RE.match(distinct[0])):
            roman = bool(_ROMAN_RE.match(distinct[0]))
            if roman or len(distinct) == 1:
                code = detect_level(block.text)
                if current is not None and code == current.code:
                    continue  # the table's title row, repeated at the top of the next page
                if code is not None:  # a level row ("II | CẤP HUYỆN") inside the table
                    ctx.level, ctx.level_loc = code, block.loc
                    current = _start_level(decision, ctx, block.loc, problems)
                    ctx.level, header_loc = None, None
                    continue
                if roman and current is not None:
                    problems.append(Problem(block.loc, msg("problem.group_row", text=block.text)))
                    continue
        heading = ctx.take(block)
        if heading == "level" and current is not None and ctx.level == current.code:
            ctx.level = None  # a page heading repeating the level being read: the same ranking goes on
        elif heading is not None:
            cols, current, skipped = None, None, []
            if header_loc is not None:
                problems.append(Problem(header_loc, msg("problem.no_level_heading")))
                header_loc = None
        elif current is not None:
            skipped.append(block)
    if header_loc is not None and current is None:
        problems.append(Problem(header_loc, msg("problem.no_level_heading")))


def _start_level(decision: ParsedDecision, ctx: _Context, loc: Location, problems: list[Problem]) -> ParsedLevel:
    code = ctx.level or ""
    existing = decision.level(code)
    if existing is not None:
        problems.append(Problem(loc, msg("problem.level_twice", level=level_name(code), where=existing.loc)))
    level = ParsedLevel(code=code, appendix=ctx.appendix or level_name(code), loc=loc)
    decision.levels.append(level)
    return level


# --- the whole document -----------------------------------------------------------------------------------------


def interpret(blocks: list[Block], name: str) -> tuple[ParsedDecision, list[Problem], list[Problem]]:
    """Read a decision out of its blocks; returns it with the problems found while reading (errors, warnings)."""
    decision = ParsedDecision(source=name)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    articles = [(i, int(m.group(1))) for i, b in enumerate(blocks) if (m := _DIEU_RE.match(_folded(b.text)))]
    article1 = next((i for i, n in articles if n == 1), None)
    after1 = next((i for i, n in articles if article1 is not None and i > article1 and n != 1), None)
    if article1 is None:
        problems.append(Problem(Location(name), msg("problem.no_article_1")))

    facts = _HeaderFacts()
    _read_header(blocks[: article1 if article1 is not None else len(blocks)], facts)
    stated = _read_counts(blocks[article1:after1], problems) if article1 is not None else {}
    tables_from = after1 if after1 is not None else (article1 + 1 if article1 is not None else 0)
    _read_tables(blocks[tables_from:], decision, problems, warnings)
    _read_annex_notes(blocks[tables_from:], facts)
    decision.basis = facts.basis
    first_table = next((i for i, b in enumerate(blocks) if i >= tables_from and len(b.cells) > 2), len(blocks))
    decision.signer, decision.signer_title = read_signature(blocks[tables_from:first_table])

    _settle_identity(decision, facts, problems)
    _attach_counts(decision, stated, problems)
    if decision.evaluated_year is None:
        for block in blocks[tables_from:]:
            if detect_level(block.text) and (m := _YEAR_RE.search(block.text)):
                decision.evaluated_year = int(m.group(1))
                break
    return decision, problems, warnings


def _settle_identity(decision: ParsedDecision, facts: _HeaderFacts, problems: list[Problem]) -> None:
    """Number and signing date: the header's, checked against every appendix note, or the notes' when no header."""
    decision.issuer = str(facts.issuer.value) if facts.issuer else None
    decision.title = facts.title
    decision.evaluated_year = facts.year
    number = facts.number.value if facts.number else None
    signed = facts.signed.value if facts.signed else None
    for note_number, note_date, loc in facts.annex_notes:
        if number is None:
            number = note_number
        elif note_number != number:
            problems.append(Problem(loc, msg("problem.annex_number", cited=note_number, number=number)))
        if signed is None:
            signed = note_date
        elif note_date is not None and note_date != signed:
            problems.append(Problem(loc, msg("problem.annex_date", cited=f"{note_date:%d/%m/%Y}",
                                             signed=f"{signed:%d/%m/%Y}")))
    decision.number = str(number) if number else None
    decision.signed_date = signed if isinstance(signed, date) else None


def _attach_counts(decision: ParsedDecision, stated: dict[str | None, list[StatedCount]],
                   problems: list[Problem]) -> None:
    if None in stated and len(decision.levels) == 1 and decision.levels[0].code not in stated:
        stated[decision.levels[0].code] = stated.pop(None)  # one level: its counts need no level heading
    for code, counts in stated.items():
        level = decision.level(code) if code else None
        if level is None:
            problems.append(Problem(counts[0].loc, msg("problem.counts_for_unranked", level=level_name(code)) if code
                                    else msg("problem.counts_without_level")))
            continue
        level.stated_counts = counts
        level.counts_loc = counts[0].loc
