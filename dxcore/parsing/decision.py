"""A Block stream → ParsedDecision: header facts, the Điều 1 tier counts, and the appendix ranking tables.

Only what a decision itself says is taken: its own number and date (from the "Số: …" header, or from the appendix
notes "Kèm theo Quyết định số …"), never the decisions cited in "Căn cứ …" lines.
"""

from __future__ import annotations

import functools
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
    SubScore,
)
from dxcore.parsing.validate import assumed_max, ranking_name
from dxcore.understanding.levels import _PATTERNS as _LEVEL_PATTERNS
from dxcore.understanding.levels import detect_level, level_name
from dxcore.understanding.text import clean, fold, name_key, strip_diacritics
from dxcore.understanding.tiers import (
    TIER_WORDS,
    TierVocabulary,
    vocabulary_for,
)
from dxcore.understanding.vocabulary import unit_key


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

_UNIT_WORDS = r"(?:don vi|co quan|dia phuong|dv|so|quan|huyen|xa|phuong|bo|tinh)"
_WORD = r"[^\W\d_]+"
# "Xếp loại <words>: 3 đơn vị" and "3 đơn vị xếp loại <words>": the words, whatever they are, so that a word the
# issuer does not use is reported instead of a tier word inside it being taken ("Trung bình khá" is not "Trung bình").
_LABEL_AFTER = re.compile(rf"(?<!\w)(?:xep loai|loai|muc)\s+({_WORD}(?:\s+{_WORD}){{0,4}}?)(?:\s*\([^)]*\))?\s*[:\-]?\s*"
                          rf"\d+(?:\s*/\s*\d+)?\s*{_UNIT_WORDS}(?!\w)")
# "…, trong đó: Xuất sắc: 04 đơn vị; Trung bình yếu: 04 đơn vị": a word before a count, without "xếp loại".
_LABEL_BARE = re.compile(rf"(?:^|[;,:]\s*)(?:(?:xep loai|loai|muc|dat)\s+)?({_WORD}(?:\s+{_WORD}){{0,3}}?)"
                         rf"(?:\s*\([^)]*\))?\s*:\s*\d+(?:\s*/\s*\d+)?\s*{_UNIT_WORDS}(?!\w)")
_LABEL_BEFORE = re.compile(rf"(?<!\w)\d+\s*{_UNIT_WORDS}\s*(?:duoc\s*)?(?:xep loai|dat loai|dat muc|o muc|muc|loai)\s+"
                           rf"({_WORD}(?:\s+{_WORD}){{0,4}}?)(?=\s*(?:[,;.:()]|$|\s+va\s))")


@functools.cache
def _count_patterns(vocab: TierVocabulary) -> tuple[re.Pattern[str], re.Pattern[str]]:
    words = set(vocab.words) | {_folded(w) for w in TIER_WORDS.values()}
    alt = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    after = re.compile(rf"(?<!\w)((?:xep loai|loai|muc|dat)?\s*({alt}))(?:\s*\([^)]*\))?\s*[:\-]?\s*(\d+)"
                       rf"(?:\s*/\s*\d+)?\s*{_UNIT_WORDS}")
    before = re.compile(rf"(?<!\w)(\d+)\s*{_UNIT_WORDS}\s*(?:duoc\s*)?((?:xep loai|dat|o|muc|loai|\s)*({alt}))(?!\w)")
    return after, before


def _counts_in(text: str, vocab: TierVocabulary) -> tuple[list[tuple[str, str, int]], list[str]]:
    """(tier code, label as printed, count) stated in one line, in their order; and the words used as tiers in it
    that the issuer's vocabulary does not know (as printed)."""
    folded = _folded(text)
    unknown: list[tuple[int, int, str]] = []
    bare = [m for m in _LABEL_BARE.finditer(folded)]
    # A bare word before a count is a tier only among tier counts ("Tổng số: 24 đơn vị" is not one).
    bare = bare if any(vocab.parse(m.group(1)) for m in bare) else []
    for m in [*_LABEL_AFTER.finditer(folded), *_LABEL_BEFORE.finditer(folded), *bare]:
        if vocab.parse(m.group(1)) is None and not any(m.start(1) < e and s < m.end(1) for s, e, _ in unknown):
            unknown.append((m.start(1), m.end(1), text[m.start(1):m.end(1)]))
    after, before = _count_patterns(vocab)
    found: list[tuple[int, str, str, int]] = []
    for m in after.finditer(folded):
        label = text[m.start(1) : m.end(1)].strip()
        found.append((m.start(), vocab.parse(m.group(2)) or "", label[:1].upper() + label[1:], int(m.group(3))))
    if not found:
        for m in before.finditer(folded):
            label = text[m.start(2) : m.end(2)].strip()
            found.append((m.start(), vocab.parse(m.group(3)) or "", label[:1].upper() + label[1:], int(m.group(1))))
    kept = []
    for start, code, label, count in sorted(found):
        if not code or any(s - 12 <= start < e for s, e, _ in unknown):
            continue  # inside a word the issuer does not use: reported as that word, not counted as a tier
        kept.append((code, label, count))
    return kept, [word for _, _, word in unknown]


_LIST_MARK_RE = re.compile(r"^(?:\d{1,2}[.)]|[a-zđ]\)|[-+•–])(?:\s|$)")


def _statements(blocks: list[Block]) -> list[tuple[Block, str]]:
    """Điều 1's lines as statements: a line a PDF wrapped ("… trong đó: Tốt:" / "02 đơn vị; Khá: 02 đơn vị.") is
    joined to the line it continues, at the first line's place."""
    joined: list[tuple[Block, str]] = []
    for block in blocks:
        text = block.text
        if (joined and not block.is_table_row and not joined[-1][0].is_table_row
                and not joined[-1][1].rstrip().endswith((".", ";", ")")) and not _LIST_MARK_RE.match(text)):
            first, before = joined[-1]
            joined[-1] = (first, f"{before} {text}")
        else:
            joined.append((block, text))
    return joined


def _count_head(text: str, vocab: TierVocabulary) -> str:
    """What a statement says before its first count ("1. Nhóm 1: Các sở … có cung cấp dịch vụ công: " before
    "Tốt: 02 đơn vị"; "3. Cấp xã: …; có " before "02 đơn vị đạt loại Tốt")."""
    folded = _folded(text)
    after, before = _count_patterns(vocab)
    starts = [m.start(1) if p is after else m.start() for p in (after, before) if (m := p.search(folded))]
    return text[: min(starts)] if starts else text


def _read_counts(blocks: list[Block], vocab: TierVocabulary,
                 problems: list[Problem]) -> dict[tuple[str | None, str | None], list[StatedCount]]:
    """Điều 1's counts by (level, group): the group as the statement words it ("Nhóm các sở … có cung cấp dịch vụ
    công"), None when it names none (the whole level, or its groups together)."""
    stated: dict[tuple[str | None, str | None], list[StatedCount]] = {}
    level: str | None = None
    group: str | None = None
    for block, text in _statements(blocks):
        counts, unknown = _counts_in(text, vocab)
        head = re.split(r"xếp loại|:", text, maxsplit=1, flags=re.IGNORECASE)[0]
        full = _count_head(text, vocab) if counts else head
        label = _LEAD_RE.sub("", clean(full)).strip(" :;,.-")
        named = label if _GROUP_WORDS_RE.search(_folded(label)) and len(label) <= 120 else None
        code = detect_level(head) or (detect_level(full) if named else None)
        if code is not None or named is not None:
            level = code or level
            group = named
            if (level, group) in stated:
                problems.append(Problem(block.loc, msg("problem.counts_twice_level",
                                                       level=f"{level_name(level)} – {group}" if group and level
                                                       else group or level_name(level))))
        for word in unknown:
            problems.append(Problem(block.loc, msg("problem.count_not_tier", text=word, known=vocab.known(),
                                                   issuer=vocab.issuer or "?")))
        for tier, label, count in counts:
            entries = stated.setdefault((level, group), [])
            if any(e.tier == tier for e in entries):
                problems.append(Problem(block.loc, msg("problem.count_twice", label=label)))
            entries.append(StatedCount(tier, label, count, block.loc))
    return stated


# --- ranking tables ---------------------------------------------------------------------------------------------

# Header words → column role, tried in this order on the folded header text ("Kết quả xếp loại" is a tier, "Kết quả
# đánh giá (%)" a score, "Tên cơ quan/đơn vị" the unit, "Xếp hạng DTI" a rank).
_ROLE_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("seq", re.compile(r"^(?:stt|tt|so tt|so thu tu)$")),
    ("rank", re.compile(r"(?<!\w)(?:xep hang|thu hang|hang|vi tri)(?!\w)")),
    # "Mức độ" alone heads a tier column; "Mức độ chuyển đổi số …" is a title or a score.
    ("tier", re.compile(r"(?<!\w)(?:xep loai|phan loai|muc xep loai|loai)(?!\w)|^muc do(?: dat duoc)?$")),
    ("score", re.compile(r"(?<!\w)(?:ty le|ti le|diem|ket qua|chi so|p?dti|tong|nam \d{4})(?!\w)|%")),
    ("unit", re.compile(r"(?<!\w)(?:don vi|co quan|dia phuong|ten|so,? ban,? nganh|tinh|thanh pho|bo,? nganh)(?!\w)")),
]
_TOTAL_RE = re.compile(r"(?<!\w)(?:tong|p?dti|chung|tong the)(?!\w)")
_MAX_WORDS_RE = re.compile(r"(?:toi da|thang diem)\s*:?\s*(?:la\s*)?(\d{1,3}(?:[.,]\d{3})+|\d{2,5})(?!\s*%)"
                           r"(?![\d,.]*\s*%)")
# "Tổng điểm (thang 1.000)", "thang 100": a scale, matched on the printed text, as "tháng 12" folds to "thang 12".
_SCALE_RE = re.compile(r"(?<!\w)thang\s+(\d{1,3}(?:[.,]\d{3})+|\d{2,5})(?!\s*%)(?![\d,.]*\s*%)")
# "Nhận thức số (150)": a sub-index and its maximum, printed in its header cell.
_LABEL_MAX_RE = re.compile(r"^(.*?\S)\s*\(\s*(?:toi da\s*:?\s*)?(\d{1,3}(?:\.\d{3})+|\d{2,5})\s*(?:diem)?\s*\)$")
_MAX_RE = re.compile(r"(?:/|toi da|thang diem|tren tong so|tren)\s*:?\s*(\d{1,3}(?:[.,]\d{3})+|\d{2,5})(?:\s*diem)?(?!\s*%)(?![\d,.]*\s*%)")


def _levels_named(text: str) -> list[str]:
    """Every level a heading names, in the order it names them ("… CƠ QUAN CHUYÊN MÔN … VÀ UBND CÁC HUYỆN" → so,
    huyen); a heading naming two levels cannot say which one the table below ranks."""
    folded = fold(text)
    found = sorted((m.start(), code) for pattern, code in _LEVEL_PATTERNS if (m := pattern.search(folded)))
    return list(dict.fromkeys(code for _, code in found))


def _heading_level(text: str) -> str | None:
    codes = _levels_named(text)
    return codes[0] if len(codes) == 1 else None


def _fold_cell(cell: str) -> str:
    return " ".join(re.sub(r"[^\w%,./]+", " ", _folded(cell)).split())


def _column_role(cell: str) -> str | None:
    folded = _fold_cell(cell)
    if not folded or len(folded) > 80 or re.fullmatch(r"[\d.,%()/ ]+", folded):
        return None  # a title or a sentence, or a figure: not a column header
    return next((name for name, rule in _ROLE_RULES if rule.search(folded)), None)


def _kind_hint(label: str) -> str | None:
    folded = _fold_cell(label)
    if "%" in folded or re.search(r"(?<!\w)(?:ty le|ti le|phan tram)(?!\w)", folded):
        return "percent"
    if re.search(r"(?<!\w)diem(?!\w)", folded):
        return "points"
    if re.search(r"(?<!\w)(?:chi so|p?dti)(?!\w)", folded):
        return "index"
    return None


def _max_in(text: str, slash: bool = True) -> Decimal | None:
    """A points maximum a label or note prints ("/1.000", "(tối đa 1000 điểm)", "thang điểm 800"); running text
    (``slash`` False) only in words, as "/" there is more often a date or a number."""
    m = (_MAX_RE if slash else _MAX_WORDS_RE).search(_folded(text)) or _SCALE_RE.search(text.lower())
    if not m:
        return None
    value = Decimal(re.sub(r"[.,]", "", m.group(1)))
    return value if 10 <= value <= 100000 else None


def _label_max(label: str) -> tuple[str, Decimal] | None:
    """ "Nhận thức số (150)", "Tổng điểm (1.000)" → (the label without it, the maximum); a year is no maximum."""
    m = _LABEL_MAX_RE.match(_folded(label))
    if not m or re.fullmatch(r"(?:19|20)\d\d", m.group(2)):
        return None
    return label[: m.end(1)], Decimal(m.group(2).replace(".", ""))


@dataclass
class _Columns:
    unit: int
    width: int
    rank: int | None = None
    seq: int | None = None
    tier: int | None = None
    score: int | None = None
    score_label: str = ""
    subs: list[tuple[int, str]] = field(default_factory=list)  # other score or rank columns: sub-indices
    max_hint: Decimal | None = None
    header_rows: int = 1
    unit_label: str = ""
    sub_maxima: list[Decimal | None] = field(default_factory=list)


def _header_columns(block: Block, sub: Block | None = None) -> _Columns | None:
    """The columns a header row (and its sub-header row, when merged over two rows) names, or None."""
    top = list(block.cells)
    low = list(sub.cells) if sub is not None else []
    width = max(len(top), len(low))
    top += [""] * (width - len(top))
    low += [""] * (width - len(low))
    labels: list[tuple[str | None, str]] = []
    parent = ""
    for i in range(width):
        if top[i]:
            parent = top[i]
        if low[i]:
            up = top[i] or parent  # a cell merged across the columns of its sub-header
            up_role = _column_role(up)
            role = up_role if up_role in ("rank", "tier", "seq", "unit") else (_column_role(low[i]) or up_role)
            labels.append((role, low[i]))
        else:
            labels.append((_column_role(top[i]), top[i]))
    roles: dict[str, list[int]] = {}
    for i, (role, _) in enumerate(labels):
        if role:
            roles.setdefault(role, []).append(i)
    if "unit" not in roles or not ({"rank", "seq"} & roles.keys()):
        return None
    if any(parse_number(c) is not None for c in top + low if c):
        return None  # a figure in a header: a data row whose words look like labels ("Thanh tra tỉnh | … | Không xếp hạng")
    cols = _Columns(unit=roles["unit"][0], width=width, header_rows=2 if sub is not None else 1,
                    unit_label=labels[roles["unit"][0]][1])
    cols.seq = roles.get("seq", [None])[0]
    cols.tier = roles.get("tier", [None])[0]
    ranks = roles.get("rank", [])
    cols.rank = ranks[0] if ranks else None
    scores = roles.get("score", [])
    if scores:
        totals = [i for i in scores if _TOTAL_RE.search(_fold_cell(labels[i][1]))]
        cols.score = totals[-1] if totals else scores[-1]
        cols.score_label = labels[cols.score][1]
    cols.subs = [(i, labels[i][1]) for i in sorted(ranks[1:] + [i for i in scores if i != cols.score])]
    maxima: list[Decimal | None] = []
    for n, (i, label) in enumerate(cols.subs):
        top_value = _label_max(label) if i in scores else None
        maxima.append(top_value[1] if top_value else None)
        if top_value:
            cols.subs[n] = (i, top_value[0])  # "Nhận thức số (150)": the sub-index "Nhận thức số", of 150
    if any(m is not None for m in maxima):
        cols.sub_maxima = maxima
    header_text = " ".join(top + low)
    total = _label_max(cols.score_label)
    cols.max_hint = _max_in(cols.score_label) or (total[1] if total else None) or _max_in(header_text)
    return cols


_MAX_ROW_RE = re.compile(r"^(?:diem |thang diem |so diem )?toi da$|^thang diem$")


def _max_row(block: Block, cols: _Columns) -> bool:
    """A row under the header printing each column's maximum ("Điểm tối đa | 40 | 40 | … | 400"): read into
    ``cols``; True when it was one."""
    labels = [c for c in block.cells if c and parse_number(c) is None]
    if len(labels) != 1 or not _MAX_ROW_RE.match(_fold_cell(labels[0])):
        return False
    cells = block.cells
    if cols.score is not None and (top := parse_number(_cell(cells, cols.score), thousands=True)) is not None:
        cols.max_hint = top
    cols.sub_maxima = [parse_number(_cell(cells, i), thousands=True) for i, _ in cols.subs]
    return True


def _is_sub_header(block: Block, cols: _Columns) -> bool:
    """A second header row under merged cells: labels only, at least two, under the header's columns. A cell that
    reads as a rank with its score ("1 (0,6419)") or as a figure makes the row data, not labels."""
    filled = [c for c in block.cells if c]
    return (len(filled) >= 2 and len(block.cells) <= cols.width + 2
            and not any(_NUMBER_RE.match(c.replace(" ", "")) or _ROMAN_RE.match(c) or _split_rank(c)[0] is not None
                        or _OUT_OF_RE.match(c.replace(" ", "")) for c in filled)
            and detect_level(block.text) is None)


_UNRANKED_RE = re.compile(r"^(?:khong xep hang|khong xh|khong xet|-+|—|–)$")
_OUT_OF_RE = re.compile(r"^([\d.,]+)/([\d.,]+)(?:diem)?$")
_RANK_RE = re.compile(r"^0*(\d+)\.?(?:\s*\(\s*([-+]?[\d.,]+)\s*%?\s*\))?$")
_NUMBER_RE = re.compile(r"^[-+]?\d[\d.,]*%?$")
_PERCENT_RE = re.compile(r"^(\d{1,3})(?:[.,](\d{1,6}))?\s*%?$")
_ROMAN_RE = re.compile(r"^[IVXLC]+\.?$")
_GROUP_WORDS_RE = re.compile(r"^(?:nhom|khoi|cac xa|xa,? phuong|phuong,? xa|cac phuong)\b")
_LEAD_RE = re.compile(r"^(?:[IVXLC]+|\d{1,2}|[A-Za-z])[.)]?\s+(?=\S)")


def parse_percentage(text: str) -> Decimal | None:
    """ "99,73%", "99.73", "087,5 %", "100" → Decimal; anything else → None."""
    m = _PERCENT_RE.match(text.replace(" ", "").replace("\u00a0", "")) if text else None
    if not m:
        return None
    try:
        return Decimal(f"{int(m.group(1))}.{m.group(2) or '0'}").normalize() + Decimal("0.000")
    except InvalidOperation:
        return None


def parse_number(text: str, thousands: bool = False) -> Decimal | None:
    """A figure exactly as printed: "0,8340" → 0.8340, "885,58" → 885.58, "1.000" → 1000 when ``thousands``
    (points), "1.000,5" → 1000.5; a trailing "%" is allowed. Anything else → None."""
    t = text.replace(" ", "").replace("\u00a0", "").rstrip("%")
    if not t or not _NUMBER_RE.match(t):
        return None
    if "." in t and "," in t:
        sep = "," if t.rfind(",") > t.rfind(".") else "."
        t = t.replace("." if sep == "," else ",", "").replace(sep, ".")
    elif thousands and re.fullmatch(r"\d{1,3}(?:\.\d{3})+", t) and not t.startswith("0"):
        t = t.replace(".", "")  # "1.000": a thousands dot (Vietnamese writes decimals with a comma)
    else:
        t = t.replace(",", ".")
    if t.count(".") > 1:
        return None
    try:
        return Decimal(t)
    except InvalidOperation:
        return None


@dataclass
class _Pending:
    """What a ranking's rows printed, turned into scores once the whole ranking (and its kind) is known."""

    cols: _Columns
    score_texts: list[str] = field(default_factory=list)
    seq_ranks: list[int | None] = field(default_factory=list)
    rank_from_seq: bool = False
    bad_tiers: dict[str, list[ParsedRow]] = field(default_factory=dict)
    max_hint: Decimal | None = None
    cell_maxima: list[Decimal | None] = field(default_factory=list)


def _split_rank(text: str) -> tuple[int | None, str | None]:
    """ "17 (0,633)" → (17, "0,633"); "01" → (1, None)."""
    m = _RANK_RE.match(text.replace("\n", " ").strip())
    return (int(m.group(1)), m.group(2)) if m else (None, None)


def _cell(cells: tuple[str, ...], i: int | None) -> str:
    return cells[i] if i is not None and i < len(cells) else ""


def _parse_row(block: Block, pending: _Pending, vocab: TierVocabulary, problems: list[Problem]) -> ParsedRow:
    cols, cells = pending.cols, block.cells
    rank: int | None = None
    unranked = False
    score_text = _cell(cells, cols.score)
    if cols.rank is not None:
        rank_text = cells[cols.rank]
        rank, in_brackets = _split_rank(rank_text)
        unranked = rank is None and bool(_UNRANKED_RE.search(_folded(rank_text)))
        if unranked:
            pass  # evaluated but not ranked ("Không xếp hạng"): a row without a rank
        elif rank is None and rank_text:
            problems.append(Problem(block.loc, msg("problem.rank_not_number", rank=rank_text)))
        if cols.score is None and in_brackets:
            score_text = in_brackets
    if score_text and cols.score is not None and (pair := _split_rank(score_text))[1] is not None:
        rank, score_text = (pair[0] if rank is None else rank), pair[1] or ""  # "Năm 2017: 01 (0,727)"
    if score_text and (m := _OUT_OF_RE.match(score_text.replace(" ", ""))):
        score_text = m.group(1)  # "112,3/138": achieved out of the maximum
        pending.cell_maxima.append(parse_number(m.group(2), thousands=True))
    if rank is None and cols.rank is None:
        pending.rank_from_seq = True
        pending.seq_ranks.append(_split_rank(_cell(cells, cols.seq))[0])
    name = _cell(cells, cols.unit)
    if not name:
        problems.append(Problem(block.loc, msg("problem.unit_empty")))
    tier_text = _cell(cells, cols.tier)
    tier = vocab.parse(tier_text) if tier_text else None
    row = ParsedRow(rank, name, None, tier, tier_text, block.loc, unranked=unranked)
    if tier_text and tier is None:
        pending.bad_tiers.setdefault(tier_text.strip(), []).append(row)
    for i, _ in cols.subs:
        printed = _cell(cells, i)
        _, inner = _split_rank(printed)
        row.subscores.append(SubScore(parse_number(inner or printed), printed))
    pending.score_texts.append(score_text)
    return row


def _is_data_row(block: Block, cols: _Columns, vocab: TierVocabulary) -> bool:
    """A row as wide as the header whose rank, score or tier reads as one (the others may be typos)."""
    needed = max(i for i in (cols.unit, cols.rank, cols.seq, cols.score, cols.tier) if i is not None) + 1
    if not needed <= len(block.cells) <= cols.width:
        return False
    cells = block.cells
    if _ROMAN_RE.match(cells[0]):
        return False
    return bool(
        (cols.rank is not None and _split_rank(cells[cols.rank])[0] is not None)
        or (cols.seq is not None and _split_rank(cells[cols.seq])[0] is not None)
        or (cols.score is not None and parse_number(cells[cols.score]) is not None)
        or (cols.tier is not None and vocab.parse(cells[cols.tier]))
    )


@dataclass
class _Context:
    """Headings read since the last table: which appendix, level and group the next table belongs to."""

    appendix: str | None = None
    level: str | None = None
    level_loc: Location | None = None
    group: str | None = None
    max_hint: Decimal | None = None

    title: str = ""  # the heading lines read so far, while they run on (a title wrapped over lines)

    def take(self, block: Block) -> str | None:
        """Read a heading line: "appendix" when it starts one, "level" when it names a level, "group" when it names
        a group ("Nhóm …", "Khối …"), else None. A title wrapped over lines is read whole: "… CƠ QUAN CHUYÊN MÔN
        THUỘC UBND TỈNH VÀ" / "UBND CÁC HUYỆN, THÀNH PHỐ" names two levels, not the last line's one."""
        text = block.text
        folded = _folded(text)
        self.max_hint = _max_in(text, slash=False) or self.max_hint
        if (m := _APPENDIX_RE.match(folded)) or re.fullmatch(r"phu luc", folded.strip(" .:")):
            self.appendix = f"Phụ lục {m.group(1).upper()}" if m else "Phụ lục"
            self.title = text[m.end():] if m else ""
            self.level = _heading_level(self.title)  # "Phụ lục I - KẾT QUẢ XẾP HẠNG CẤP SỞ"
            self.level_loc = block.loc if self.level else None
            self.group = None
            return "appendix"
        if "kem theo" in folded or "quyet dinh so" in folded:
            self.title = ""
            return None  # the appendix note names the issuer ("Ủy ban nhân dân thành phố"), not a level
        if folded.startswith("("):
            return None  # "(xếp hạng theo từng huyện, thị xã, thành phố)": a note, not a heading
        label = _LEAD_RE.sub("", clean(text))
        # A numbered line ("I | CẤP HUYỆN", "2. Nhóm …") or a row of cells starts a heading of its own.
        fresh = len([c for c in block.cells if c]) > 1 or bool(_LEAD_RE.match(clean(text)))
        title = f"{self.title} {text}" if self.title and not fresh else text
        self.title = "" if text.rstrip().endswith((".", ";", ":")) or len(title) > 300 else title
        codes = _levels_named(title)
        if len(codes) == 1:
            self.level, self.level_loc = codes[0], block.loc
            self.group = label if len(label) <= 80 and _GROUP_WORDS_RE.search(_folded(label)) else None
            return "level"
        if len(codes) > 1:
            self.level, self.group = None, None  # names two levels: the rows of the table will say which
            return "level"
        if len(label) <= 80 and _GROUP_WORDS_RE.search(_folded(label)):
            self.group = label
            return "group"
        return None

    def table_started(self) -> None:
        self.level = self.group = self.max_hint = None
        self.title = ""


def _group_row(block: Block, cols: _Columns) -> tuple[str | None, str] | None:
    """A row inside a table that starts a level or a group: (level code or None, label as printed), or None."""
    distinct = [c for c in block.cells if c]
    if not 1 <= len(distinct) <= 2:
        return None
    roman = bool(_ROMAN_RE.match(distinct[0]))
    label = clean(" ".join(distinct[1:] if roman and len(distinct) == 2 else distinct))
    label = _LEAD_RE.sub("", label) if not roman else label
    folded = _folded(label)
    if len(label) > 100 or folded.startswith(("phu luc", "dieu ", "kem theo", "noi nhan")):
        return None
    code = _heading_level(label)
    if code is None and re.match(r"^(?:cac )?(?:xa|phuong)\b", folded):
        code = "xa"
    grouped = bool(_GROUP_WORDS_RE.search(folded))
    if roman or code is not None or grouped or block.is_table_row and len(distinct) == 1:
        return (code, label) if (roman or code or grouped) else None
    return None


class _Tables:
    """The appendix tables of a decision, read block by block into rankings (levels and their groups)."""

    def __init__(self, decision: ParsedDecision, vocab: TierVocabulary, problems: list[Problem],
                 warnings: list[Problem], doc_max: Decimal | None) -> None:
        self.decision, self.vocab, self.problems, self.warnings = decision, vocab, problems, warnings
        self.doc_max = doc_max
        self.pending: dict[int, _Pending] = {}
        self.ctx = _Context()
        self.current: ParsedLevel | None = None
        self.cols: _Columns | None = None
        self.header_loc: Location | None = None  # a header read before any level was named: level rows may follow

    def start(self, code: str, loc: Location, group: str | None, max_hint: Decimal | None = None) -> None:
        assert self.cols is not None
        level = ParsedLevel(code=code, appendix=self.ctx.appendix or level_name(code), loc=loc, group=group)
        self.decision.levels.append(level)
        self.pending[id(level)] = _Pending(self.cols, max_hint=max_hint or self.cols.max_hint or self.ctx.max_hint)
        self.current = level

    def read(self, blocks: list[Block]) -> None:
        skipped: list[Block] = []
        i = 0
        while i < len(blocks):
            block = blocks[i]
            i += 1
            header = _header_columns(block)
            if header is not None:
                if i < len(blocks) and _is_sub_header(blocks[i], header):
                    header = _header_columns(block, blocks[i]) or header
                    i += header.header_rows - 1
                if i < len(blocks) and _max_row(blocks[i], header):
                    i += 1
                if self.current is not None and self.ctx.level is None and self.ctx.group is None and self.cols \
                        and (header.width == self.cols.width or not self.current.rows):
                    # The header repeated on a new page, or the header of a ranking a row above it named: the same
                    # ranking goes on.
                    pending = self.pending[id(self.current)]
                    self.cols = pending.cols = header
                    if header.max_hint is not None and not self.current.rows:
                        pending.max_hint = header.max_hint
                    continue
                # "(Điểm tối đa: 100 điểm)" above the table: every ranking of the table (each group) is out of it.
                header.max_hint = header.max_hint or self.ctx.max_hint
                self.cols, self.current, skipped, self.header_loc = header, None, [], None
                code = self.ctx.level or (self.decision.levels[-1].code if self.ctx.group and self.decision.levels
                                          else None) or _heading_level(header.unit_label)
                if code is None:
                    self.header_loc = block.loc  # "STT | Đơn vị | …" then "I | CẤP SỞ" rows inside the table
                    self.ctx.title = ""
                    continue
                self.start(code, block.loc, self.ctx.group)
                self.ctx.table_started()
                continue
            cols = self.cols
            if cols is not None and _is_data_row(block, cols, self.vocab):
                if self.current is None:
                    if self.header_loc is not None:
                        self.problems.append(Problem(self.header_loc, msg("problem.no_level_heading")))
                        self.header_loc = None
                    continue
                self.warnings.extend(Problem(b.loc, msg("problem.ignored_text", text=b.text[:60]))
                                     for b in skipped if not _PAGE_FURNITURE_RE.match(b.text))
                skipped = []
                self.current.rows.append(_parse_row(block, self.pending[id(self.current)], self.vocab, self.problems))
                continue
            if cols is not None and not _APPENDIX_RE.match(_folded(block.text)) and (found := _group_row(block, cols)):
                if self._group(block, *found):
                    skipped = []
                    continue
            if cols is not None and self._named_group(block, blocks[i] if i < len(blocks) else None):
                skipped = []
                continue
            heading = self.ctx.take(block)
            if heading == "level" and self.current is not None and self.ctx.level == self.current.code:
                self.ctx.level = None  # a page heading repeating the level being read: the same ranking goes on
            elif heading is not None:
                self.cols, self.current, skipped = None, None, []
                if self.header_loc is not None:
                    self.problems.append(Problem(self.header_loc, msg("problem.no_level_heading")))
                    self.header_loc = None
            elif self.current is not None:
                skipped.append(block)
        if self.header_loc is not None and self.current is None:
            self.problems.append(Problem(self.header_loc, msg("problem.no_level_heading")))
        for level in self.decision.levels:
            self._finish(level)
        self._merge_rank_lists()
        seen: dict[tuple[str, str | None], ParsedLevel] = {}
        for level in self.decision.levels:
            if (first := seen.setdefault((level.code, level.group), level)) is not level:
                self.problems.append(Problem(level.loc, msg("problem.level_twice", level=ranking_name(first),
                                                            where=first.loc)))

    def _named_group(self, block: Block, following: Block | None) -> bool:
        """A row of one short label inside a table, followed by data rows ("Huyện B" over its
        communes): a group of the level being read."""
        cells = [c for c in block.cells if c]
        cols = self.cols
        if (len(cells) != 1 or len(cells[0]) > 60 or _PAGE_FURNITURE_RE.match(cells[0]) or cols is None
                or following is None or not _is_data_row(following, cols, self.vocab)
                or parse_number(cells[0]) is not None or not cells[0][:1].isupper()):
            return False
        return self._group(block, None, clean(cells[0]), named=True)

    def _merge_rank_lists(self) -> None:
        """A report that lists the ranking twice, ranks only and then in detail: one ranking, the detailed one."""
        levels = self.decision.levels
        for listed in list(levels):
            if listed.score_kind is not None:
                continue
            order = [(r.rank, unit_key(r.name)) for r in listed.rows]  # "BQL A" in one list is "Ban Quản lý A"
            if any(other is not listed and other.code == listed.code and other.group == listed.group
                   and other.score_kind is not None and sorted(order) == sorted((r.rank, unit_key(r.name))
                                                                                for r in other.rows)
                   for other in levels):
                levels.remove(listed)

    def _group(self, block: Block, code: str | None, label: str, named: bool = False) -> bool:
        """A level or group row inside a table; False when it is neither (the caller reads it as text)."""
        current = self.current
        grouped = named or bool(_GROUP_WORDS_RE.search(_folded(label)))
        max_hint = _max_in(label)
        if code is not None and (current is None or code != current.code):
            self.header_loc = None
            # A level row ("II | CẤP HUYỆN"), or a block naming one ("I | Nhóm cơ quan chuyên môn …"): the group is
            # the block's name.
            titled = grouped or not re.match(r"^cap \w+(?: nam \d{4})?$", _folded(label))
            self.start(code, block.loc, label if titled else None, max_hint)
            return True
        if code is not None and not grouped:
            return True  # the table's title row, repeated at the top of the next page
        level_code = current.code if current is not None else self.ctx.level
        if level_code is None:
            return False
        if current is not None and not current.rows and current.group is None:
            current.group = label  # the first group of the level just started
            if max_hint:
                self.pending[id(current)].max_hint = max_hint
            return True
        self.header_loc = None
        self.start(level_code, block.loc, label, max_hint)
        self.ctx.level = None
        return True

    def _finish(self, level: ParsedLevel) -> None:
        pending = self.pending.pop(id(level), None)
        if pending is None:
            return
        self._tiers(level, pending)
        self._scores(level, pending)
        self._ranks(level, pending)
        level.subscore_names = [name for _, name in pending.cols.subs]
        if any(m is not None for m in pending.cols.sub_maxima):
            level.subscore_maxima = list(pending.cols.sub_maxima)
        if level.subscore_names and all(not s.printed for r in level.rows for s in r.subscores):
            level.subscore_names = []  # sub-index columns printed empty
            level.subscore_maxima = []
            for row in level.rows:
                row.subscores = []

    def _tiers(self, level: ParsedLevel, pending: _Pending) -> None:
        for word, rows in pending.bad_tiers.items():
            issuer = self.vocab.issuer or self.decision.issuer or "?"
            self.problems.append(Problem(rows[0].loc, msg("problem.not_tier", text=word, known=self.vocab.known(),
                                                          rows=len(rows), issuer=issuer)))

    def _scores(self, level: ParsedLevel, pending: _Pending) -> None:
        cols, texts = pending.cols, pending.score_texts
        printed = [t for t in texts if t]
        if cols.score is None and not printed:
            level.score_kind = None
            return
        kind = _kind_hint(cols.score_label) if cols.score is not None else None
        values = [v for v in (parse_number(t) for t in printed) if v is not None]
        if pending.cell_maxima:
            kind = "points"
        elif kind == "index" and values and max(values) > 1:
            kind = None  # "Chỉ số DTI" printed as a percentage (95,26) or as points: the figures tell
        if kind is None:
            if any("%" in t for t in printed) or (values and max(values) > 1 and max(values) <= 100):
                kind = "percent"
            elif values and max(values) <= 1:
                kind = "index"
            else:
                kind = "points"
        level.score_kind = kind
        bad: list[tuple[ParsedRow, str]] = []
        for row, text in zip(level.rows, texts):
            if not text:
                continue
            if kind == "percent":
                row.score = parse_percentage(text)
                if row.score is None and (value := parse_number(text)) is not None:
                    row.score = value  # more than 3 decimals: refused below, as printed
                if row.score is not None and row.score.as_tuple().exponent < -3:
                    self.problems.append(Problem(row.loc, msg("problem.percentage_decimals", text=text)))
            else:
                row.score = parse_number(text, thousands=kind == "points")
            if row.score is None:
                bad.append((row, text))
        if bad:
            row, text = bad[0]
            key = "problem.percentage_not_number" if kind == "percent" else "problem.score_not_number"
            self.problems.append(Problem(row.loc, msg(key, text=text, rows=len(bad), column=cols.score_label or "?")))
        if kind == "points":
            maxima = set(pending.cell_maxima) - {None}
            if len(maxima) > 1:
                self.problems.append(Problem(level.loc, msg("problem.maxima_differ", ranking=ranking_name(level),
                                                            maxima=", ".join(sorted(map(str, maxima))))))
            level.score_max = next(iter(sorted(maxima)), None) or pending.max_hint or self.doc_max
            if level.score_max is None and (guess := assumed_max(level)) is not None:
                # Only the range check uses it: a maximum the document does not print is never stored or shown.
                self.warnings.append(Problem(level.loc, msg("problem.max_assumed", ranking=ranking_name(level),
                                                            maximum=str(guess))))

    def _ranks(self, level: ParsedLevel, pending: _Pending) -> None:
        if not pending.rank_from_seq:
            return
        scores = [r.score for r in level.rows]
        if level.score_kind is not None and all(s is not None for s in scores):
            if any(b > a for a, b in zip(scores, scores[1:])):
                self.problems.append(Problem(level.loc, msg("problem.seq_not_rank", ranking=ranking_name(level))))
                return
            for i, row in enumerate(level.rows):  # competition ranking: equal scores share a rank (1, 2, 2, 4)
                if row.rank is None:
                    row.rank = i + 1 if i == 0 or scores[i] != scores[i - 1] else level.rows[i - 1].rank
        else:
            for row, seq in zip(level.rows, pending.seq_ranks):
                row.rank = row.rank or seq
        self.warnings.append(Problem(level.loc, msg("problem.rank_from_seq", ranking=ranking_name(level))))


# --- the whole document -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GivenFacts:
    """What a document that is not a decision (a report: no issuer header, no Điều 1) does not say, given by whoever
    ingests it (``dxbot ingest FILE --issuer … --number … --signed DD/MM/YYYY --year YYYY``)."""

    issuer: str | None = None
    number: str | None = None  # any label, e.g. "DTI-2022/BTTTT"
    signed: date | None = None
    year: int | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.issuer, self.number, self.signed, self.year))


_FLAGS = {"issuer": '--issuer "…"', "number": '--number "…"', "signed": "--signed DD/MM/YYYY", "year": "--year YYYY"}
_REPORT_YEAR_RE = re.compile(r"(?:xep hang|danh gia|chuyen doi so|chi so).*\bnam\s+(\d{4})")


def interpret(blocks: list[Block], name: str,
              given: GivenFacts | None = None) -> tuple[ParsedDecision, list[Problem], list[Problem]]:
    """Read a decision out of its blocks; returns it with the problems found while reading (errors, warnings).

    ``given`` fills the facts a report does not print; a fact both printed and given must agree."""
    given = given or GivenFacts()
    decision = ParsedDecision(source=name)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    articles = [(i, int(m.group(1))) for i, b in enumerate(blocks) if (m := _DIEU_RE.match(_folded(b.text)))]
    article1 = next((i for i, n in articles if n == 1), None)
    after1 = next((i for i, n in articles if article1 is not None and i > article1 and n != 1), None)

    facts = _HeaderFacts()
    _read_header(blocks[: article1 if article1 is not None else len(blocks)], facts)
    issuer = str(facts.issuer.value) if facts.issuer else given.issuer
    vocab = vocabulary_for(issuer)
    stated = _read_counts(blocks[article1:after1], vocab, problems) if article1 is not None else {}
    doc_max = next((m for b in blocks[article1:after1] if (m := _max_in(b.text, slash=False))), None) \
        if article1 is not None else None
    tables_from = after1 if after1 is not None else (article1 + 1 if article1 is not None else 0)
    _Tables(decision, vocab, problems, warnings, doc_max).read(blocks[tables_from:])
    _name_communes_by_district(decision)
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
    if decision.evaluated_year is None and article1 is None:
        for block in blocks[:first_table]:
            if m := _REPORT_YEAR_RE.search(_folded(block.text)):
                decision.evaluated_year = int(m.group(1))
                break
    _apply_given(decision, given, problems)
    if article1 is None:
        missing = [what for what in _FLAGS if not getattr(decision, _FIELD[what])]
        if missing:
            problems.append(Problem(Location(name), msg(
                "problem.report_needs_facts",
                flags=" ".join(_FLAGS[w] for w in missing))))
    return decision, problems, warnings


_DISTRICT_RE = re.compile(r"(?:^|thuoc\s+)((?:huyen|quan|thi xa|thanh pho)\s+\S.*)$")


def _name_communes_by_district(decision: ParsedDecision) -> None:
    """Communes ranked within each district are printed without it ("Xã A" under "Huyện B", and again under
    "Thành phố C"): each takes its district, as decisions ranking all communes together print
    them ("UBND xã X (huyện Y)"), so that two communes of one name stay two units and never share figures."""
    for level in decision.levels:
        if level.code != "xa" or not level.group:
            continue
        if (m := _DISTRICT_RE.search(_folded(level.group).strip())) is None:
            continue
        district = level.group.strip()[m.start(1):]  # folding keeps positions: the district as printed
        district = district[:1].lower() + district[1:]
        for row in level.rows:
            if "(" not in row.name:
                row.name = f"{row.name} ({district})"


_FIELD = {"issuer": "issuer", "number": "number", "signed": "signed_date", "year": "evaluated_year"}


def _apply_given(decision: ParsedDecision, given: GivenFacts, problems: list[Problem]) -> None:
    for what, value in (("issuer", given.issuer), ("number", given.number), ("signed", given.signed),
                        ("year", given.year)):
        if value is None:
            continue
        printed = getattr(decision, _FIELD[what])
        if printed is None:
            setattr(decision, _FIELD[what], value)
        elif (name_key(printed) != name_key(value)) if what == "issuer" else printed != value:
            shown = (lambda v: f"{v:%d/%m/%Y}") if what == "signed" else str
            problems.append(Problem(Location(decision.source), msg(
                "problem.given_differs", flag=_FLAGS[what].split()[0], given=shown(value), printed=shown(printed))))


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


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", _folded(text)))


def _ranking_for_group(rankings: list[ParsedLevel], group: str) -> ParsedLevel | None:
    """The ranking whose group a statement of Điều 1 names, by its words ("Nhóm các sở, ban, ngành không cung cấp
    dịch vụ công" is "Nhóm 2: Các sở, ban, ngành không cung cấp dịch vụ công"): the one missing fewest of the
    statement's words, then having fewest others; None when two tie or none shares a word beyond "nhóm", "khối"."""
    said = _words(group)
    scored = sorted(((len(said - _words(r.group or "")), len(_words(r.group or "") - said), i)
                     for i, r in enumerate(rankings)
                     if (said & _words(r.group or "")) - {"nhom", "khoi", "cac"}))
    if not scored or len(scored) > 1 and scored[0][:2] == scored[1][:2]:
        return None
    return rankings[scored[0][2]]


def _attach_counts(decision: ParsedDecision, stated: dict[tuple[str | None, str | None], list[StatedCount]],
                   problems: list[Problem]) -> None:
    codes = {code for code, _ in stated}
    if codes == {None} and len({lv.code for lv in decision.levels}) == 1:
        # one level: its counts need no level heading
        stated = {(decision.levels[0].code, group): counts for (_, group), counts in stated.items()}
    for (code, group), counts in stated.items():
        rankings = [lv for lv in decision.levels if code is None or lv.code == code]
        if group is not None and code is not None and len(rankings) == 1:
            target = rankings  # "1. Khối sở, ban, ngành: …" for the one ranking of that level
        elif group is not None:
            target = [r] if (r := _ranking_for_group(rankings, group)) else []
        elif code is not None:
            # A level ranked in groups ("Cấp xã: được đánh giá theo từng huyện …; có 02 đơn vị đạt loại Tốt"):
            # its counts are of the groups together, checked so (validate: one statement shared by the rankings).
            target = [r for r in rankings if not any(c == r.code and g is not None for c, g in stated)]
        else:
            target = []
        if not target:
            if code is not None and group is not None and rankings:
                problems.append(Problem(counts[0].loc, msg("problem.counts_group_unknown", group=group,
                                                           level=level_name(code))))
            else:
                problems.append(Problem(counts[0].loc, msg("problem.counts_for_unranked", level=level_name(code))
                                        if code else msg("problem.counts_without_level")))
            continue
        for level in target:
            if level.stated_counts:
                problems.append(Problem(counts[0].loc, msg("problem.counts_twice_level", level=ranking_name(level))))
                continue
            level.stated_counts = list(counts)
            level.counts_loc = counts[0].loc
