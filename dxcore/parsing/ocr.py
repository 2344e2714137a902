"""Scanned pages and photos → the Blocks the text readers give, read with Tesseract (Debian's ``tesseract-ocr`` and
``tesseract-ocr-vie``, through pytesseract).

A page is deskewed (the angle whose row profile is sharpest, within ±5°), its ruled tables are found from their
rules (long runs of dark pixels joined by vertical ones), the rules are painted out, and the page is read by one
Tesseract call: the text around the tables as it stands, each line of each cell on a line of its own below it.
The words outside tables make text lines as a PDF's do; the cells make table rows. Then ``review`` repairs what the
decision's own structure allows (a rank the sequence gives, a decimal separator the column prints, a tier word
nearest a known one, a group's Roman numeral, a cell read again alone) and turns every repaired or doubtful cell
into a located doubt: page, table, row and column. The interpretation and validation that follow are those of any
document. A page without rules (a borderless table) is read as text lines, its cells split at wide gaps.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from rapidfuzz import fuzz, process

from dxcore.answering.i18n import msg
from dxcore.parsing.decision import (
    _UNRANKED_RE,
    _header_columns,
    _is_data_row,
    _is_sub_header,
    _max_row,
    _split_rank,
    parse_number,
)
from dxcore.parsing.model import Block, DocumentError, Location, Problem
from dxcore.parsing.pdf_reader import word_lines
from dxcore.understanding.text import clean, fold, strip_diacritics
from dxcore.understanding.tiers import TIER_WORDS, _load_vocabularies, vocabulary_for

LANGUAGE = "vie"
MAX_SCAN_PAGES = 20  # pages read by OCR in one document (issue 15)
MAX_PHOTO_PIXELS = 20_000_000
SCAN_SECONDS = 150.0  # a scan's time limit in the reading child, start-up included
# Every page is read at one scale, whatever its scan's: Tesseract's Vietnamese model misreads print larger than
# this ("80,93" at 300 dpi became "830,93"), and it reads 6.5-point print at it; time grows with the pixels too.
DPI = 200
_A4_LONG_INCHES = 11.7
# A word Tesseract is less sure of than this (0–100) makes its cell doubtful.
_LOW_CONFIDENCE = 60
_REREADS = 80  # cells read again alone, at most, in one document: each costs a Tesseract start

# A "word" of these alone in a table cell is dust or a rule's last edge, read as a mark; a hyphen stays.
_DUST_RE = re.compile(r"[|'`‘’\":;_.,!¦]+")
_EDGE_DUST_RE = re.compile(r"^[|'`‘’\":;_.,!¦\s]+|[|'`‘’\":;_.,!¦\s]+$")
# Letters Vietnamese does not have, which Tesseract reads for ones it has: the Icelandic eth for đ, a diaeresis for
# the hook above ("Ÿ" for "Ỷ").
_NOT_VIETNAMESE = str.maketrans("ÐðŸÿÄäËëÏïÖöÜü", "ĐđỶỷẢảẺẻỈỉỎỏỦủ")
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"


# --- what a document is ------------------------------------------------------------------------------------------


def is_image(data: bytes) -> bool:
    """A photo or scanned image (JPEG, PNG), by its magic bytes."""
    return data.startswith((_JPEG, _PNG))


_STREAM_RE = re.compile(rb"/Type\s*/ObjStm\b.*?stream\r?\n", re.DOTALL)
_INFLATE_BUDGET = 16 * 1024 * 1024


def _pdf_mentions_fonts(data: bytes) -> bool:
    """Whether a PDF names any font: in its plain objects, or in its compressed object streams (inflated up to a
    budget, never wholly: a hostile stream cannot make this expensive)."""
    if b"/Font" in data:
        return True
    budget = _INFLATE_BUDGET
    for match in _STREAM_RE.finditer(data):
        if budget <= 0:
            break
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(data[match.end():match.end() + budget], budget)
        except zlib.error:
            continue
        budget -= len(text)
        if b"/Font" in text:
            return True
    return False


def is_scan(data: bytes) -> bool:
    """Cheap, before any parsing (the parent of the reading child calls it): a photo, or a PDF with images and no
    font anywhere, whose text can only come from OCR. A PDF mixing typed and scanned pages says so itself once read
    (``on_scan``)."""
    if is_image(data):
        return True
    return data.startswith(b"%PDF") and b"/Image" in data and not _pdf_mentions_fonts(data)


# --- Tesseract ---------------------------------------------------------------------------------------------------


def _tesseract() -> Any:
    """pytesseract, with one thread per Tesseract (pages are read side by side instead)."""
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    return pytesseract


def _ocr_words(image: Image.Image, dpi: int, psm: int, whitelist: str | None = None) -> list[dict[str, Any]]:
    """Tesseract's words with their boxes and confidence (``text``, ``x0``, ``x1``, ``top``, ``bottom``, ``conf``)."""
    tess = _tesseract()
    config = f"--psm {psm} --dpi {dpi}"
    if whitelist:
        config += f" -c tessedit_char_whitelist={whitelist}"
    try:
        data = tess.image_to_data(image, lang=LANGUAGE, config=config, output_type=tess.Output.DICT)
    except tess.TesseractNotFoundError as exc:
        raise DocumentError(msg("document.ocr_missing")) from exc
    except tess.TesseractError as exc:
        if LANGUAGE in str(exc):  # "Failed loading language 'vie'"
            raise DocumentError(msg("document.ocr_missing")) from exc
        raise DocumentError(msg("document.ocr_failed", reason=str(exc.message or exc.status)[:120])) from exc
    words = []
    for text, conf, left, top, width, height in zip(data["text"], data["conf"], data["left"], data["top"],
                                                    data["width"], data["height"]):
        read = clean(text)
        text = read.translate(_NOT_VIETNAMESE)
        if text and float(conf) >= 0:
            # A letter put right is a letter the engine was unsure of: it makes its cell doubtful.
            confidence = float(conf) if text == read else min(float(conf), _LOW_CONFIDENCE - 1)
            words.append({"text": text, "conf": confidence, "x0": left, "x1": left + width, "top": top,
                          "bottom": top + height})
    return words


# --- page images -------------------------------------------------------------------------------------------------


def _box_sums(values: np.ndarray, size: int) -> np.ndarray:
    """Sums over a size×size window around each pixel (edges repeated), from an integral image."""
    half = size // 2
    padded = np.pad(values, ((half + 1, half), (half + 1, half)), mode="edge")
    integral = padded.cumsum(0).cumsum(1)
    return integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size] + integral[:-size, :-size]


def _dark(gray: Image.Image, dpi: int) -> np.ndarray:
    """Ink: pixels clearly darker than their surroundings, so that shade across a photo does not count."""
    pixels = np.asarray(gray, dtype=np.float32)
    size = max(15, dpi // 5) | 1
    mean = _box_sums(pixels, size) / (size * size)
    return (pixels < mean - 20) & (pixels < 200)


def _flattened(pixels: np.ndarray, dpi: int) -> np.ndarray:
    """The page with its paper made white wherever it is: light falling off across a photo would otherwise make
    one side of it darker than the blank left where tables were lifted out, and read as ink."""
    values = pixels.astype(np.float32)
    size = max(31, dpi // 2) | 1
    paper = _box_sums(values, size) / (size * size)
    return np.clip(values * (245.0 / np.maximum(paper, 1.0)), 0, 255).astype(np.uint8)


def _skew(dark: np.ndarray) -> float:
    """The angle (degrees, counter-clockwise) that makes text lines and rules horizontal: the rotation whose row
    profile is sharpest, searched over ±5° and refined to 0.05°."""
    small = Image.fromarray(dark.astype(np.uint8) * 255)
    width = min(1000, small.width)
    small = small.resize((width, max(1, round(small.height * width / small.width))), Image.Resampling.BOX)

    def sharpness(angle: float) -> float:
        profile = np.asarray(small.rotate(angle, resample=Image.Resampling.BILINEAR), dtype=np.float32).sum(1)
        return float(np.square(np.diff(profile)).sum())

    best = max(np.arange(-5, 5.001, 0.25), key=sharpness)
    return float(max(np.arange(best - 0.25, best + 0.251, 0.05), key=sharpness))


def _runs(dark: np.ndarray, length: int) -> np.ndarray:
    """Pixels that lie on a horizontal run of at least ``length`` dark pixels."""
    rows, width = dark.shape
    if width < length:
        return np.zeros_like(dark)
    counts = np.zeros((rows, width + 1), dtype=np.int32)
    np.cumsum(dark, axis=1, out=counts[:, 1:])
    full = (counts[:, length:] - counts[:, :-length]) == length  # the window starting at x is all dark
    starts = np.zeros((rows, full.shape[1] + 1), dtype=np.int32)
    np.cumsum(full, axis=1, out=starts[:, 1:])
    x = np.arange(width)
    high = np.minimum(x, full.shape[1] - 1) + 1
    low = np.maximum(x - length + 1, 0)
    return (starts[:, high] - starts[:, low]) > 0


def _spans(flags: np.ndarray, min_length: int = 1) -> list[tuple[int, int]]:
    """Runs of True in a 1-D array as (start, end) with end exclusive."""
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_length]


# --- ruled tables ------------------------------------------------------------------------------------------------


@dataclass
class _Cell:
    box: tuple[int, int, int, int]  # x0, top, x1, bottom inside the rules
    column: int  # the first grid column it covers
    span: int = 1  # how many it covers: a group row's label is one cell across the table
    words: list[dict[str, Any]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [" ".join(cells) for _, cells in word_lines(self.words, cell_gap=float("inf"))]

    @property
    def confidence(self) -> float:
        return min((w["conf"] for w in self.words), default=100.0)


@dataclass
class _Row:
    top: int
    cells: list[_Cell]  # in column order; columns a merged cell covers have no cell of their own


@dataclass
class _Table:
    box: tuple[int, int, int, int]
    width: int  # grid columns
    rows: list[_Row]
    rules: list[tuple[int, int, int, int]] = field(default_factory=list)  # the boxes its rules were found in


@dataclass
class _Rule:
    y0: int
    y1: int  # exclusive
    x0: int
    x1: int


def _rules(horizontal: np.ndarray, min_length: int) -> list[_Rule]:
    """Horizontal rules: bands of rows holding long runs, each with its extent (one band may hold several)."""
    rules = []
    for y0, y1 in _spans(horizontal.sum(1) >= min_length):
        for x0, x1 in _spans(horizontal[y0:y1].any(0), min_length):
            rules.append(_Rule(y0, y1, x0, x1))
    return rules


def _separators(vertical: np.ndarray, top: int, bottom: int, x0: int, x1: int) -> list[int]:
    """Where vertical rules cross the band between two horizontal rules: the x of each, left to right."""
    band = vertical[top:bottom, max(0, x0 - 4):x1 + 5]
    if band.shape[0] < 3:
        return []
    covered = band.mean(0) >= 0.8
    return [max(0, x0 - 4) + (a + b) // 2 for a, b in _spans(covered)]


def _tables(dark: np.ndarray, dpi: int) -> tuple[list[_Table], np.ndarray]:
    """The ruled tables of a page and the mask of their rules (to paint out before reading)."""
    horizontal = _runs(dark, max(40, dpi // 3))
    vertical = _runs(dark.T, max(20, dpi // 8)).T
    rules = sorted(_rules(horizontal, max(120, dpi)), key=lambda r: r.y0)
    tables: list[_Table] = []
    mask = np.zeros_like(dark)
    used = [False] * len(rules)
    for i, first in enumerate(rules):
        if used[i]:
            continue
        group = [first]
        used[i] = True
        # Rules joined by vertical rules belong to one table: the next rule down that overlaps and is reached.
        for j in range(i + 1, len(rules)):
            rule, last = rules[j], group[-1]
            if used[j] or rule.x1 <= first.x0 or rule.x0 >= first.x1:
                continue
            if not _separators(vertical, last.y1 + 1, rule.y0 - 1, max(first.x0, rule.x0), min(first.x1, rule.x1)):
                if rule.y0 > last.y1 + 1:
                    break
                continue
            group.append(rule)
            used[j] = True
        if len(group) < 2:
            continue
        table = _grid(group, vertical, horizontal)
        if table is not None:
            tables.append(table)
            # Only the rules themselves: a bracket or an "l" inside a cell is a short vertical run too.
            for x0, top, x1, bottom in table.rules:
                mask[top:bottom, x0:x1] |= (horizontal if bottom - top < x1 - x0 else vertical)[top:bottom, x0:x1]
    return tables, mask


def _grid(rules: list[_Rule], vertical: np.ndarray, horizontal: np.ndarray) -> _Table | None:
    x0 = min(r.x0 for r in rules)
    x1 = max(r.x1 for r in rules)
    bands = [(a.y1, b.y0) for a, b in zip(rules, rules[1:]) if b.y0 - a.y1 > 6]
    if not bands:
        return None
    crossings = [_separators(vertical, top + 2, bottom - 2, x0, x1) for top, bottom in bands]
    # The grid's columns: every place a rule crosses some row, merged when a few pixels apart.
    xs: list[int] = []
    for x in sorted(x for row in crossings for x in row):
        if xs and x - xs[-1] <= 8:
            continue
        xs.append(x)
    if len(xs) < 2:
        return None
    rows: list[_Row] = []
    above: dict[int, _Cell] = {}  # column → the cell of the row above, for cells merged down
    for (top, bottom), crossing in zip(bands, crossings):
        bounds = sorted({_nearest(xs, x) for x in crossing} | {0, len(xs) - 1})
        cells: list[_Cell] = []
        for a, b in zip(bounds, bounds[1:]):
            left, right = xs[a], xs[b]
            lid = horizontal[max(0, top - 4):top + 1, left + 3:right - 2]
            if a in above and lid.size and lid.any(0).mean() < 0.5:
                # No rule above this cell: it goes on from the row above (a heading over two rows).
                cell = above[a]
                cell.box = (cell.box[0], cell.box[1], cell.box[2], bottom)
                continue
            cell = _Cell((left, top, right, bottom), a, b - a)
            cells.append(cell)
            above[a] = cell
        rows.append(_Row(top, cells))
    reach = 6  # pixels either side of where a rule was found
    boxes = [(r.x0, max(0, r.y0 - 1), r.x1, r.y1 + 1) for r in rules]
    boxes += [(max(0, x - reach), max(0, top - reach), x + reach + 1, bottom + reach) for (top, bottom), crossing in zip(bands, crossings)
              for x in crossing]
    return _Table((x0, rules[0].y0, x1, rules[-1].y1), len(xs) - 1, rows, boxes)


def _nearest(values: list[int], x: int) -> int:
    return min(range(len(values)), key=lambda i: abs(values[i] - x))


# --- one page ----------------------------------------------------------------------------------------------------


@dataclass
class PageScan:
    """One page as OCR read it; ``image`` (deskewed, rules painted out) is kept to read doubtful cells again."""

    number: int
    image: Image.Image
    dpi: int
    tables: list[_Table]
    lines: list[tuple[float, tuple[str, ...]]]  # text outside the tables, as (top, cells)
    angle: float = 0.0

    @property
    def words(self) -> int:
        return sum(len(c) for _, c in self.lines) + sum(len(cell.words) for t in self.tables for r in t.rows
                                                        for cell in r.cells)


def prepared(image: Image.Image) -> Image.Image:
    """A photo or page image in grey at the scale pages are read at: a photo is taken to show one A4 page."""
    gray = ImageOps.exif_transpose(image).convert("L")
    factor = DPI * _A4_LONG_INCHES / max(gray.size)
    if abs(factor - 1) > 0.05:
        gray = gray.resize((round(gray.width * factor), round(gray.height * factor)), Image.Resampling.LANCZOS)
    return gray


def scan_page(number: int, gray: Image.Image, dpi: int) -> PageScan:
    """Deskew a page, find its ruled tables, paint the rules out and read it: the text around the tables as it
    stands, and each table cell on a line of its own below the page, so that a name wrapped over lines beside
    figures centred in their cells reads as the lines it is (read as one block, the rows ran into each other)."""
    dark = _dark(gray, dpi)
    angle = _skew(dark)
    if abs(angle) >= 0.05:
        background = int(np.median(np.asarray(gray)))
        gray = gray.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=background)
        dark = _dark(gray, dpi)
    tables, rules = _tables(dark, dpi)
    pixels = np.array(gray)
    if rules.any():
        # Rules and the grey edge around them: a word touching a rule would otherwise be read with it.
        grown = rules.copy()
        for shift in (1, 2):
            grown[shift:] |= rules[:-shift]
            grown[:-shift] |= rules[shift:]
            grown[:, shift:] |= rules[:, :-shift]
            grown[:, :-shift] |= rules[:, shift:]
        pixels[grown] = 255
        dark &= ~grown
    clean_page = Image.fromarray(pixels)
    around = _flattened(pixels, dpi)
    for table in tables:
        x0, top, x1, bottom = table.box
        around[top:bottom, x0:x1] = 255
    strip, bands = _cell_strip(clean_page, dark, tables, dpi)
    sheet = Image.new("L", (max(gray.width, strip.width), gray.height + strip.height), 255)
    sheet.paste(Image.fromarray(around), (0, 0))
    sheet.paste(strip, (0, gray.height))
    starts = [start for start, _ in bands]
    outside = []
    words = _ocr_words(sheet, dpi, psm=6)
    for word in words:
        middle = (word["top"] + word["bottom"]) / 2 - gray.height
        if middle < 0:
            outside.append(word)
        elif bands and (i := bisect_right(starts, middle) - 1) >= 0 and not _DUST_RE.fullmatch(word["text"]):
            bands[i][1].words.append(word)
    heights = sorted(w["bottom"] - w["top"] for w in outside) or [dpi // 7]
    lines = word_lines(outside, cell_gap=1.8 * heights[len(heights) // 2])
    return PageScan(number, clean_page, dpi, tables, lines, angle)


def _solid(dark: np.ndarray) -> np.ndarray:
    """Ink with ink around it: print, without the dust and specks a scan picks up."""
    return dark & (_box_sums(dark.astype(np.int32), 3) >= 5)


def _ink_lines(solid: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The lines of print in a cell (``_solid`` ink), as boxes (x0, top, x1, bottom), top to bottom; a tone mark
    above a line or a dot below it (a strip of its own between blank rows) goes with the nearer line. Empty when
    the cell holds no print."""
    if solid.sum() < 20:
        return []
    spans = _spans(solid.any(1))
    tallest = max(b - a for a, b in spans)
    merged: list[list[int]] = [list(span) for span in spans]
    i = 0
    while len(merged) > 1 and i < len(merged):
        top, bottom = merged[i]
        if bottom - top >= 0.45 * tallest:
            i += 1
            continue
        above = top - merged[i - 1][1] if i > 0 else None
        below = merged[i + 1][0] - bottom if i + 1 < len(merged) else None
        into = i - 1 if below is None or (above is not None and above < below) else i + 1
        merged[into] = [min(merged[into][0], top), max(merged[into][1], bottom)]
        del merged[i]
        i = 0
    boxes = []
    for top, bottom in merged:
        columns = np.flatnonzero(solid[top:bottom].any(0))
        boxes.append((int(columns[0]), top, int(columns[-1]) + 1, bottom))
    return boxes


def _whitened(piece: Image.Image) -> Image.Image:
    """A cell's print on white: the paper's grey and its noise lifted to white, the ink kept as it is."""
    pixels = np.asarray(piece, dtype=np.float32)
    paper = float(np.percentile(pixels, 75))
    ink = float(np.percentile(pixels, 2))
    if paper - ink < 40:
        return piece
    lifted = (pixels - ink) * (255.0 / max(1.0, paper - 12 - ink))
    return Image.fromarray(np.clip(lifted, 0, 255).astype(np.uint8))


def _cell_pieces(pixels: np.ndarray, dark: np.ndarray, box: tuple[int, int, int, int],
                 dpi: int) -> list[Image.Image]:
    """The lines of print in one cell (``box`` in ``pixels``), each on white with a white border."""
    x0, top, x1, bottom = box
    inset = max(3, dpi // 40)  # inside the painted-out rules
    if bottom - top <= 2 * inset + 2 or x1 - x0 <= 2 * inset + 2:
        return []
    cell_dark = dark[top + inset:bottom - inset, x0 + inset:x1 - inset]
    solid = _solid(cell_dark)
    lines = _ink_lines(solid)
    if not lines:
        return []
    # Only the print and its grey edges: dust elsewhere in the cell would be read as marks. Within a line, thin
    # marks stay too: a hyphen of small print is a single row of ink.
    keep = _box_sums(solid.astype(np.int32), 5) > 0
    thin = cell_dark & (_box_sums(cell_dark.astype(np.int32), 3) >= 3)
    for a, b, c, d in lines:
        keep[b:d, a:c] |= thin[b:d, a:c]
    inside = pixels[top + inset:bottom - inset, x0 + inset:x1 - inset].copy()
    inside[~keep] = 255
    border = max(4, dpi // 50)
    pieces = []
    for a, b, c, d in lines:
        line = Image.fromarray(inside[max(0, b - 2):d + 2, max(0, a - 2):c + 2])
        pieces.append(ImageOps.expand(_whitened(line), border=border, fill=255))
    return pieces


def _stacked(pieces: list[Image.Image], dpi: int) -> tuple[Image.Image, list[int]]:
    """Pieces one under another with a blank line between, and the y where each one's band starts."""
    margin, gap = max(8, dpi // 25), max(20, dpi // 6)
    width = max((piece.width for piece in pieces), default=1) + 2 * margin
    height = sum(piece.height + gap for piece in pieces) + gap
    sheet = Image.new("L", (width, height), 255)
    starts = []
    y = gap
    for piece in pieces:
        sheet.paste(piece, (margin, y))
        starts.append(y - gap // 2)
        y += piece.height + gap
    return sheet, starts


def _cell_strip(page: Image.Image, dark: np.ndarray, tables: list[_Table],
                dpi: int) -> tuple[Image.Image, list[tuple[int, _Cell]]]:
    """Every line of print in the table cells, one under another with a blank line between, and where each starts
    (with its cell): apart, a name wrapped over lines beside figures centred in their cells reads as the lines it
    is; read in place, the rows ran into each other."""
    pixels = np.asarray(page)
    pieces: list[tuple[Image.Image, _Cell]] = [
        (piece, cell) for table in tables for row in table.rows for cell in row.cells
        for piece in _cell_pieces(pixels, dark, cell.box, dpi)]
    strip, starts = _stacked([piece for piece, _ in pieces], dpi)
    return strip, [(start, cell) for start, (_, cell) in zip(starts, pieces)]


def page_blocks(scan: PageScan, name: str, first_table_no: int) -> tuple[list[Block], int]:
    """The page's Blocks in reading order (as pdf_reader gives a page with text), and how many tables it held."""
    items: list[tuple[float, Block]] = []
    for table_no, table in enumerate(scan.tables, start=first_table_no):
        for row_no, row in enumerate(table.rows, start=1):
            texts = [""] * table.width
            lines: list[str] = []
            for cell in row.cells:
                cell_lines = cell.lines()
                texts[cell.column] = clean(" ".join(cell_lines))
                lines.extend(cell_lines)
            if lines:
                loc = Location(name, page=scan.number, table=table_no, row=row_no)
                items.append((row.top, Block(tuple(texts), loc, is_table_row=True, lines=tuple(lines))))
    for line_no, (top, cells) in enumerate(scan.lines, start=1):
        items.append((top, Block(cells, Location(name, page=scan.number, line=line_no))))
    items.sort(key=lambda item: item[0])
    return [block for _, block in items], len(scan.tables)


def scan_pages(pages: Iterable[tuple[int, Image.Image, int]]) -> dict[int, PageScan]:
    """Read pages (number, grey image, dpi) side by side, one Tesseract per core."""
    workers = max(1, min(4, len(os.sched_getaffinity(0))))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(scan_page, number, image, dpi) for number, image, dpi in pages]
        return {scan.number: scan for scan in (f.result() for f in futures)}


# --- documents ---------------------------------------------------------------------------------------------------


def render_pdf_pages(data: bytes, pages: list[tuple[int, int]]) -> Iterable[tuple[int, Image.Image, int]]:
    """Pages (number from 1, dpi) of a PDF rendered in grey."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        for number, dpi in pages:
            page = pdf[number - 1]
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            yield number, bitmap.to_pil().convert("L"), dpi
            page.close()
    finally:
        pdf.close()


def read_image(data: bytes, name: str) -> tuple[list[Block], list[Problem]]:
    """A photo (JPEG, PNG) of a printed page → its Blocks and doubts; raises DocumentError when unreadable, too
    large, or when it holds no ranking table."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            pixels = image.width * image.height  # from the header: nothing is decoded yet
            if pixels > MAX_PHOTO_PIXELS:
                raise DocumentError(msg("document.photo_too_large", megapixels=round(pixels / 1e6),
                                        limit=MAX_PHOTO_PIXELS // 1_000_000))
            image.load()
            gray = prepared(image)
    except DocumentError:
        raise
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise DocumentError(msg("document.image_damaged")) from exc
    scans = scan_pages([(1, gray, DPI)])
    blocks, _ = page_blocks(scans[1], name, 1)
    return review(blocks, scans)


# --- review: what the decision's structure repairs, and what stays doubtful -------------------------------------

# Letters Tesseract reads for digits in a cell that can only hold a number.
_DIGIT_LOOKALIKES = str.maketrans({"l": "1", "I": "1", "|": "1", "i": "1", "!": "1", "]": "1", "[": "1", "j": "1",
                                   "O": "0", "o": "0", "D": "0", "Q": "0", "S": "5", "s": "5", "Z": "2", "z": "2",
                                   "B": "8", "g": "9", "q": "9", "G": "6", "b": "6", "T": "7"})
# A Roman numeral's strokes as Tesseract reads them alone in a cell.
_STROKES = str.maketrans({"|": "I", "l": "I", "1": "I", "!": "I", "]": "I", "[": "I", "i": "I", "v": "V", "x": "X"})
_STROKES_RE = re.compile(r"[|lI1!\]\[iVvXx]{1,5}\.?")
_SCORE_RE = re.compile(r"^(\d+)(?:([.,])(\d+))?(%?)$")


def _tier_words() -> dict[str, str]:
    """Every tier word any issuer prints (folded → as printed), for the nearest-word repair; the issuer's own
    vocabulary judges the result afterwards."""
    words = {fold(w): w for w in TIER_WORDS.values()}
    for vocabulary in _load_vocabularies().values():
        words.update({fold(w): w for w in vocabulary.listed})
    return words


@dataclass
class _Column:
    """How one column of a ranking prints its figures (what most of its cells do): the decimal separator, whether
    figures have one at all, how many decimals, a percent sign."""

    separator: str = ","
    separated: bool = False
    decimals: int = 0
    percent: bool = False
    whole: int = 0  # digits before the separator, most often
    widest: int = 0  # and at most
    slashed: bool = False  # "112,3/138": achieved out of the maximum

    @classmethod
    def of(cls, texts: list[str]) -> _Column:
        parsed = [m for t in texts if (m := _SCORE_RE.match(_inner_figure(t)))]
        if not parsed:
            return cls()
        separators = Counter(m.group(2) for m in parsed if m.group(2))
        decimals = Counter(len(m.group(3) or "") for m in parsed)
        wholes = Counter(len(m.group(1)) for m in parsed if m.group(2))
        return cls(separators.most_common(1)[0][0] if separators else ",",
                   sum(separators.values()) >= 0.75 * len(parsed), decimals.most_common(1)[0][0],
                   sum(bool(m.group(4)) for m in parsed) * 2 > len(parsed),
                   wholes.most_common(1)[0][0] if wholes else 0, max(wholes, default=0),
                   sum("/" in t for t in texts) * 2 > len(parsed))


_RANK_SCORE_RE = re.compile(r"^(\d+)\s*\((.*)\)$")


def _inner_figure(text: str) -> str:
    """The figure of a cell: the score of "01 (0,727)", the achieved part of "112,3/138", without spaces."""
    compact = text.replace(" ", "")
    if m := _RANK_SCORE_RE.match(compact):
        compact = m.group(2)
    return compact.split("/", 1)[0]


def _figure_text(text: str, style: _Column) -> str | None:
    """A figure cell in its column's printing ("70.74 %" → "70,74%" where the column prints "99,73%"; "01 (0,727)"
    and "112,3/138" part by part), or None when it is no figure."""
    compact = text.replace(" ", "")
    if m := _RANK_SCORE_RE.match(compact):
        rank, inner = m.group(1), _figure_text(m.group(2), replace(style, percent=False))
        return None if inner is None else f"{rank} ({inner})"
    if "/" in compact and not style.slashed and re.fullmatch(r"\d+/\d+%?", compact):
        compact = compact.replace("/", style.separator)  # a decimal comma read as a slash
    if "/" in compact:  # achieved out of the maximum: each as printed
        parts = [_figure_text(part, replace(style, percent=False)) for part in compact.split("/", 1)]
        return None if None in parts else "/".join(parts)  # type: ignore[arg-type]
    compact = compact.rstrip("°'").replace("%o", "%").translate(_DIGIT_LOOKALIKES)
    m = _SCORE_RE.match(compact)
    if m is None:
        return None
    whole, separator, decimals, percent = m.groups()
    if separator and separator != style.separator and (separator == "," or len(decimals or "") != 3):
        separator = style.separator  # a decimal comma read as a dot, or the other way round; "1.000" stays a thousand
    if style.percent and not percent:
        percent = "%"
    return f"{whole}{separator or ''}{decimals or ''}{percent}"


def _separated(figure: str) -> bool:
    return bool(re.search(r"\d[.,]\d", figure))


def _with_separator(figure: str, style: _Column) -> str | None:
    """A figure whose separator OCR lost ("7074%", "411" where the column prints "41,1" and "52,95"), with it back
    after as many digits as the column's figures have before theirs; None when the figure is no longer than those
    (a whole number such as "314" among "311,66"), or the column prints no separators."""
    m = _SCORE_RE.match(figure)
    if not (m and style.separated and style.whole and not m.group(2)) or len(m.group(1)) <= style.widest:
        return None
    whole = m.group(1)
    return f"{whole[:style.whole]}{style.separator}{whole[style.whole:]}{m.group(4)}"


class _Review:
    def __init__(self, scans: dict[int, PageScan]) -> None:
        self.scans = scans
        self.doubts: list[Problem] = []
        self.rereads = 0
        self.cells: dict[Location, dict[int, _Cell]] = {}  # a scanned table row → its cells by column
        self.tiers = _tier_words()
        self.vocabulary = vocabulary_for(None)

    def bind(self, blocks: list[Block]) -> None:
        """Each table row Block of a scanned page → its cells, by the order pages hand out table numbers."""
        tables: dict[tuple[int, int], _Table] = {}
        seen: dict[int, list[int]] = {}
        for block in blocks:
            loc = block.loc
            if block.is_table_row and loc.page in self.scans and loc.table is not None:
                numbers = seen.setdefault(loc.page, [])
                if loc.table not in numbers:
                    numbers.append(loc.table)
                tables.setdefault((loc.page, loc.table), self.scans[loc.page].tables[numbers.index(loc.table)])
                row = tables[(loc.page, loc.table)].rows[loc.row - 1]
                self.cells[loc] = {cell.column: cell for cell in row.cells}

    def doubt(self, loc: Location, column: int, message: Any) -> None:
        self.doubts.append(Problem(replace(loc, column=column + 1), message))

    def reread(self, loc: Location, column: int, whitelist: str | None) -> str | None:
        """The cell read again alone, as one line; None when its place is unknown or the budget is spent."""
        cell = self.cells.get(loc, {}).get(column)
        if cell is None or self.rereads >= _REREADS or loc.page not in self.scans:
            return None
        self.rereads += 1
        scan = self.scans[loc.page]
        region = scan.image.crop(cell.box)
        pieces = _cell_pieces(np.asarray(region), _dark(region, scan.dpi), (0, 0, region.width, region.height),
                              scan.dpi)
        if not pieces:
            return None
        sheet, _ = _stacked(pieces, scan.dpi)
        words = _ocr_words(sheet, scan.dpi, psm=6, whitelist=whitelist)
        return clean(" ".join(cells[0] for _, cells in word_lines(words, cell_gap=float("inf")))) or None

    def unsure(self, block: Block, column: int, label: str) -> None:
        cell = self.cells.get(block.loc, {}).get(column)
        if cell is not None and cell.words and cell.confidence < _LOW_CONFIDENCE:
            self.doubt(block.loc, column, msg("scan.unsure", column=label, text=block.cells[column],
                                              confidence=round(cell.confidence)))

    def numeral(self, block: Block) -> Block:
        """A group row's Roman numeral read as strokes ("|", "l", "lI" for I, II): the numeral it must be."""
        filled = [(i, c) for i, c in enumerate(block.cells) if c]
        cells = self.cells.get(block.loc, {})
        if (len(filled) != 2 or not _STROKES_RE.fullmatch(filled[0][1]) or filled[0][1].isdigit()
                or getattr(cells.get(filled[1][0]), "span", 1) < 2):
            return block  # a group row's label spans the table; a rank read as "l" stands in a row of cells
        column, read = filled[0]
        value = read.translate(_STROKES).rstrip(".")
        if value == read or not re.fullmatch(r"[IVX]+", value) or len(filled[1][1]) < 4:
            return block
        self.doubt(block.loc, column, msg("scan.repaired_numeral", read=read, value=value))
        texts = list(block.cells)
        texts[column] = value
        return replace(block, cells=tuple(texts))

    # -- a ranking's rows --

    def ranking(self, rows: list[Block], cols: Any, labels: list[str]) -> list[Block]:
        """One ranking's rows (a table, or one group of it) repaired, its doubts noted."""
        cells = [list(b.cells) for b in rows]
        for column in ([cols.score] if cols.score is not None else []) + [i for i, _ in cols.subs]:
            self.figures(rows, cells, column, labels[column] or "?")
        if cols.tier is not None:
            self.tier_words(rows, cells, cols.tier, labels[cols.tier])
        rank_column = cols.rank if cols.rank is not None else cols.seq
        if rank_column is not None:
            self.ranks(rows, cells, rank_column, cols.score, labels[rank_column], sequential=cols.rank is None)
        self.names(rows, cells, cols.unit, labels[cols.unit] or "?")
        return [replace(b, cells=tuple(c)) if list(b.cells) != c else b for b, c in zip(rows, cells)]

    def figures(self, rows: list[Block], cells: list[list[str]], column: int, label: str) -> None:
        """A score or sub-index column: each figure in the column's own printing, read again alone where it is
        no figure or lacks the decimal separator the rest of the column prints."""
        style = _Column.of([_at(c, column) for c in cells])
        for block, row in zip(rows, cells):
            read = _at(row, column)
            if not read:
                continue
            fixed = _figure_text(read, style)
            if fixed is None or style.separated and not _separated(fixed):
                again = self.reread(block.loc, column, "0123456789,.%/()")
                second = _figure_text(again, style) if again else None
                if second is not None and (_separated(second) or not style.separated):
                    self.doubt(block.loc, column, msg("scan.reread", column=label, read=read, value=second))
                    row[column] = second
                elif fixed is not None and (inserted := _with_separator(fixed, style)) is not None:
                    self.doubt(block.loc, column, msg("scan.repaired_score", column=label, read=read, value=inserted))
                    row[column] = inserted
                elif fixed is not None and fixed == second:
                    self.unsure(block, column, label)  # read the same twice: a whole number where others have decimals
                else:
                    self.doubt(block.loc, column, msg("scan.unreadable", column=label, read=read))
                    if fixed is not None:
                        row[column] = fixed
                continue
            if fixed != read:
                self.doubt(block.loc, column, msg("scan.repaired_score", column=label, read=read, value=fixed))
                row[column] = fixed
            else:
                self.unsure(block, column, label)

    def names(self, rows: list[Block], cells: list[list[str]], column: int, label: str) -> None:
        """Unit names without the marks dust leaves at their edges ("'TP. A", "Xã B."): a name begins with a
        letter or digit and ends with one or a bracket."""
        for block, row in zip(rows, cells):
            read = _at(row, column)
            fixed = _EDGE_DUST_RE.sub("", read)
            if fixed and fixed != read:
                self.doubt(block.loc, column, msg("scan.repaired_marks", column=label, read=read, value=fixed))
                row[column] = fixed
            else:
                self.unsure(block, column, label)

    def tier_words(self, rows: list[Block], cells: list[list[str]], column: int, label: str) -> None:
        for block, row in zip(rows, cells):
            read = row[column] if column < len(row) else ""
            known = self.tiers.get(fold(read).strip(" .;:,*"))
            if known is not None and known.lower() != read.lower().strip(" .;:,*"):
                # The word without its marks is a tier word, spelt otherwise ("Trùng bình"): a misread mark.
                self.doubt(block.loc, column, msg("scan.repaired_tier", column=label, read=read, value=known))
                row[column] = known
                continue
            if not read or known is not None or self.vocabulary.parse(read):
                if read:
                    self.unsure(block, column, label)
                continue
            again = self.reread(block.loc, column, None)
            if again and (value := self.tiers.get(fold(again).strip(" .;:,*|"))):
                self.doubt(block.loc, column, msg("scan.reread", column=label, read=read, value=value))
                row[column] = value
                continue
            letters = " ".join(re.findall(r"[^\W\d_]+", fold(read)))
            best = process.extractOne(letters, list(self.tiers), scorer=fuzz.ratio, score_cutoff=60)
            if best is None:
                self.doubt(block.loc, column, msg("scan.unreadable", column=label, read=read))
                continue
            value = self.tiers[best[0]]
            self.doubt(block.loc, column, msg("scan.repaired_tier", column=label, read=read, value=value))
            row[column] = value

    def ranks(self, rows: list[Block], cells: list[list[str]], column: int, score: int | None, label: str,
              sequential: bool) -> None:
        """Ranks the sequence gives: competition ranking on the scores (1, 2, 2, 4) when every score reads, one
        more each row for a TT/STT column, else between the ranks around it."""
        read = [_at(c, column) for c in cells]
        parsed = [_split_rank(t)[0] for t in read]
        values = [parse_number(_at(c, score)) if score is not None else None for c in cells]
        scored = all(v is not None for v in values) and all(b <= a for a, b in zip(values, values[1:]))  # type: ignore[operator]
        steps = [sequential or i == 0 or values[i] != values[i - 1] for i in range(len(rows))]
        expected: list[int | None] = [None] * len(rows)
        # Where the ranking starts (a table continued on the next page goes on from its last rank): what most
        # readable ranks say.
        offsets = Counter(p - i for i, p in enumerate(parsed) if p is not None and steps[i])
        (base, agreeing), = offsets.most_common(1) or [(0, 0)]
        # Ranks printed without scores follow the rows (1, 2, 3, …) where they read: ties only keep their own.
        in_order = score is None and agreeing >= 3 and agreeing >= 0.75 * sum(p is not None for p in parsed)
        if (scored or sequential or in_order) and agreeing:
            for i in range(len(rows)):
                expected[i] = base + i if steps[i] or i == 0 else expected[i - 1]
        previous = 0
        for i, block in enumerate(rows):
            if _UNRANKED_RE.search(strip_diacritics(read[i].lower())) or not read[i] and not values[i]:
                continue
            if parsed[i] is not None and expected[i] in (None, parsed[i]):
                previous = parsed[i]
                self.unsure(block, column, label)
                continue
            lookalike = read[i].translate(_DIGIT_LOOKALIKES)
            digits = re.sub(r"\D", "", lookalike)
            candidates = [_split_rank(lookalike.replace(" ", ""))[0], int(digits) if digits else None]
            if expected[i] is not None and expected[i] not in candidates:
                again = self.reread(block.loc, column, "0123456789")
                candidates.append(_split_rank(again)[0] if again else None)
            following = next((p for p in parsed[i + 1:] if p is not None), None)
            if expected[i] is not None:
                value = expected[i] if expected[i] in candidates or parsed[i] is None else None
            else:
                value = next((c for c in candidates if c is not None and previous <= c <= (following or c)), None)
                if value is None and parsed[i] is None and following == previous + 2:
                    value = previous + 1  # between two ranks one apart
            if value is not None and value < 1:
                value = None
            if value is None:
                if parsed[i] is None:
                    self.doubt(block.loc, column, msg("scan.unreadable", column=label, read=read[i]))
                previous = parsed[i] or previous
                continue
            self.doubt(block.loc, column, msg("scan.repaired_rank", column=label, read=read[i], value=value))
            cells[i][column] = str(value)
            previous = value


def _at(cells: list[str], column: int | None) -> str:
    return cells[column] if column is not None and column < len(cells) else ""


def review(blocks: list[Block], scans: dict[int, PageScan]) -> tuple[list[Block], list[Problem]]:
    """Repair the ranking rows of scanned pages where the decision's structure allows, and report every repaired
    or doubtful cell; refuse a scan with no ranking table at all."""
    checker = _Review(scans)
    checker.bind(blocks)
    out: list[Block] = []
    cols = None
    labels: list[str] = []
    ranking: list[Block] = []

    def flush() -> None:
        if ranking:
            out.extend(checker.ranking(ranking, cols, labels) if cols is not None else ranking)
            ranking.clear()

    found_header = False
    i = 0
    while i < len(blocks):
        block = blocks[i]
        i += 1
        header = _header_columns(block)
        if header is not None:
            flush()
            found_header = True
            labels = list(block.cells) + [""] * header.width
            out.append(block)
            if i < len(blocks) and _is_sub_header(blocks[i], header):
                header = _header_columns(block, blocks[i]) or header
                labels = [low or top for top, low in zip(labels, list(blocks[i].cells) + [""] * header.width)]
                out.extend(blocks[i:i + header.header_rows - 1])
                i += header.header_rows - 1
            cols = header
            if i < len(blocks) and _max_row(blocks[i], header):  # "Điểm tối đa | 40 | 40 | …": no ranked unit
                out.append(blocks[i])
                i += 1
            continue
        scanned = block.loc.page in scans  # a borderless table's rows are text lines
        if cols is not None and scanned and _looks_like_row(block, cols, checker):
            ranking.append(block)
            continue
        flush()
        out.append(checker.numeral(block) if scanned else block)
    flush()
    if not found_header:
        pages = sorted(scans)
        raise DocumentError(msg("document.scan_no_table", pages=len(pages),
                                lines=sum(len(s.lines) for s in scans.values())))
    return out, checker.doubts


def _looks_like_row(block: Block, cols: Any, checker: _Review) -> bool:
    """A data row of the ranking, or one so damaged that only its shape says so: a cell for each column (a group
    row's label spans the table), its unit and its rank printed."""
    if _is_data_row(block, cols, checker.vocabulary):
        return True
    cells = checker.cells.get(block.loc)
    if not cells or any(cell.span > 1 for cell in cells.values()):
        return False
    rank = cols.rank if cols.rank is not None else cols.seq
    return bool(_at(list(block.cells), cols.unit)) and bool(_at(list(block.cells), rank))
