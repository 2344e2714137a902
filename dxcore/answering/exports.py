"""Rankings as files to download: an Excel workbook (a sheet per ranking, cited, numbers as numbers) and a CSV for
scripts (UTF-8 with a BOM so Excel shows Vietnamese, percentages with a dot).

Exporting the same rankings twice gives the same bytes: the workbook carries no save time and its zip entries a
fixed date, so a file sent twice is recognisably the same file.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from datetime import datetime, time
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from dxcore.answering.answers import (
    ranking_label,
    ranking_source,
    ranking_title,
    tier_of,
)
from dxcore.answering.i18n import EN, VI, Level, format_number, msg, word
from dxcore.answering.queries import RankingView

# Layout of a sheet: title, citation, a blank row, the header, then one row per unit.
TITLE_ROW, SOURCE_ROW, HEADER_ROW = 1, 2, 4
COLUMNS = ("rank", "unit", "percentage", "tier")
CSV_COLUMNS = ("level", "rank", "unit", "percentage_points", "tier", "decision", "issuer", "year")
SHEET_TITLE_MAX = 31  # Excel's limit
_FORBIDDEN_IN_SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry


def export_filename(rankings: list[RankingView], ext: str) -> str:
    """"xep-hang-cds-2023.xlsx"; one level only adds its code ("xep-hang-cds-so-2023.csv"); ASCII, safe anywhere."""
    levels = {r.level for r in rankings}
    years = sorted({r.decision.evaluated_year for r in rankings})
    parts = ["xep-hang-cds"]
    if len(levels) == 1:
        parts += levels
    if years:
        parts.append(str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}")
    slug = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")
    return f"{slug}.{re.sub(r'[^a-z0-9]+', '', ext.lower())}"


def rankings_xlsx(rankings: list[RankingView], lang: str = VI) -> bytes:
    """A workbook with one sheet per ranking, in the order given."""
    if not rankings:
        raise ValueError("nothing to export: no rankings")
    book = Workbook()
    book.remove(book.active)
    for ranking, title in zip(rankings, _sheet_titles(rankings, lang)):
        _fill_sheet(book.create_sheet(title), ranking, lang)
    book.properties.creator = "dxbot"
    book.properties.title = ranking_title(rankings[0], lang) if len(rankings) == 1 else None
    # The document is dated by its newest decision, not by "now" (openpyxl's default), so that the same export
    # gives the same bytes.
    dated = datetime.combine(max(r.decision.signed_date for r in rankings), time())
    book.properties.created = book.properties.modified = dated
    buffer = io.BytesIO()
    ExcelWriter(book, _PinnedZip(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return buffer.getvalue()


def rankings_csv(rankings: list[RankingView], lang: str = VI) -> bytes:
    """One row per unit and ranking: level, rank, unit, percentage (points, "70.74"), tier, decision, issuer, year."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")  # RFC 4180, and what Excel writes
    writer.writerow([msg(f"export.header.{name}").render(lang) for name in CSV_COLUMNS])
    for ranking in rankings:
        d = ranking.decision
        for row in ranking.rows:
            writer.writerow([word(Level(ranking.level), lang), row.rank, row.name,
                             _plain(row), word(tier_of(row), lang) if tier_of(row) else "",
                             d.number, d.issuer, d.evaluated_year])
    return "\ufeff".encode() + text.getvalue().encode()


class _PinnedZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed date instead of the time of writing (or a temporary file's)."""

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):  # type: ignore[override]
        # openpyxl writes each sheet to a temporary file first, then adds that file.
        with open(filename, "rb") as fh:
            self.writestr(arcname or os.path.basename(filename), fh.read(), compress_type, compresslevel)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):  # type: ignore[override]
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=_ZIP_DATE)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16  # what ZipFile gives a named entry
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)


def _sheet_titles(rankings: list[RankingView], lang: str) -> list[str]:
    """Level names, with the year when the workbook spans several; unique, within Excel's 31 characters."""
    several_years = len({r.decision.evaluated_year for r in rankings}) > 1
    titles: list[str] = []
    for ranking in rankings:
        level = word(ranking_label(ranking.citation), lang)
        base = msg("export.sheet", level=level, year=ranking.decision.evaluated_year).render(lang) \
            if several_years else level
        # Excel also refuses an apostrophe at either end.
        base = _FORBIDDEN_IN_SHEET_TITLE.sub("-", base).strip("'")[:SHEET_TITLE_MAX] or "-"
        title, n = base, 1
        # Excel compares sheet names without case.
        while title.casefold() in {t.casefold() for t in titles}:
            n += 1
            suffix = f" ({n})"
            title = base[:SHEET_TITLE_MAX - len(suffix)] + suffix
        titles.append(title)
    return titles


def _plain(row) -> str:
    """A CSV score: a percentage in points ("70.74"), points or an index with the digits printed ("0.8340")."""
    if row.score is None:
        return ""
    return format_number(row.score, EN) if row.scale.kind == "percent" else format(row.score, "f")


def _percent_format(ranking: RankingView) -> str:
    """Two decimals, or three when the decision printed three: the sheet shows what the decision says; points and
    indices with as many decimals as printed."""
    scores = [row.score for row in ranking.rows if row.score is not None]
    if ranking.scale.kind != "percent":
        places = max([0, *(-s.as_tuple().exponent for s in scores)])
        return f"#,##0.{'0' * places}" if places else "#,##0"
    places = max([2, *(-s.normalize().as_tuple().exponent for s in scores)])
    return f"0.{'0' * min(places, 3)}%"


def _score_header(ranking: RankingView) -> str:
    return {"points": "points", "index": "index"}.get(ranking.scale.kind or "", "percentage")


def _fill_sheet(sheet: Worksheet, ranking: RankingView, lang: str) -> None:
    sheet.cell(TITLE_ROW, 1, ranking_title(ranking, lang)).font = Font(bold=True, size=14)
    sheet.cell(SOURCE_ROW, 1, ranking_source(ranking.citation, lang)).font = Font(italic=True)
    for column, name in enumerate(COLUMNS, start=1):
        name = _score_header(ranking) if name == "percentage" else name
        cell = sheet.cell(HEADER_ROW, column, msg(f"export.header.{name}").render(lang))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    percent_format = _percent_format(ranking)
    tiers = {row.tier_printed or row.tier: word(tier_of(row), lang) if tier_of(row) else "" for row in ranking.rows}
    for offset, row in enumerate(ranking.rows, start=1):
        line = HEADER_ROW + offset
        sheet.cell(line, 1, row.rank)
        sheet.cell(line, 2, row.name)
        # A fraction shown as a percentage: Excel sums, sorts and charts it as the number it is.
        if row.score is not None:
            percent = ranking.scale.kind == "percent"
            share = sheet.cell(line, 3, row.score / Decimal(100) if percent else row.score)
            share.number_format = percent_format
        sheet.cell(line, 4, tiers[row.tier_printed or row.tier])

    last = HEADER_ROW + max(len(ranking.rows), 1)
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(COLUMNS))}{last}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    _set_widths(sheet, ranking, tiers, lang)


def _set_widths(sheet: Worksheet, ranking: RankingView, tiers: dict[str, str], lang: str) -> None:
    """Widths in characters from the longest value of each column (the title and citation may overflow)."""
    header = [msg(f"export.header.{_score_header(ranking) if name == 'percentage' else name}").render(lang)
              for name in COLUMNS]
    longest = [
        max([len(header[0]), *(len(str(row.rank)) for row in ranking.rows)]),
        max([len(header[1]), *(len(row.name) for row in ranking.rows)]),
        max(len(header[2]), len("100.00%")),
        max([len(header[3]), *(len(t) for t in tiers.values())]),
    ]
    for column, chars in enumerate(longest, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(chars + 3, 70)
