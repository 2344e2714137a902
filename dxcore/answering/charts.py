"""Charts as PNG bytes, ready to send as a photo: a ranking (one bar per unit, coloured by tier) and one unit's
percentage and rank across decisions.

matplotlib's object API on the Agg canvas, never pyplot: pyplot keeps global figure state and the bot renders from
worker threads. The layout is computed in pixels at 100 dpi (1 pt = 100/72 px) before the figure exists, so no
tight/constrained layout pass is needed: the image is 1080 px wide, is usually shown about 400 px wide on a phone,
and its body text is ~24 px tall (~9 px on screen).
"""

from __future__ import annotations

import io
import math
import textwrap
import threading
import unicodedata
from collections import Counter
from decimal import Decimal
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from dxcore.answering.answers import (
    document_title,
    ranking_source,
    ranking_title,
    score_of,
)
from dxcore.answering.formatting import format_exact
from dxcore.answering.i18n import VI, Day, Tier, join, msg, word
from dxcore.answering.queries import Citation, HistoryPoint, RankedRow, RankingView
from dxcore.understanding.tiers import TIER_RANK

# Okabe–Ito colours, told apart with the common colour-vision deficiencies: blue/green for the good tiers and
# orange/red for the poor ones, so both ends of a ranking read at a glance.
TIER_COLOURS: dict[str, str] = {
    "xuat_sac": "#0072B2",
    "tot": "#009E73",
    "kha": "#56B4E9",
    "trung_binh": "#E69F00",
    "yeu": "#D55E00",
    "kem": "#CC79A7",
}
UNKNOWN_TIER_COLOUR = "#999999"

WIDTH_PX = 1080
DPI = 100
# Telegram refuses a photo whose width + height exceed 10,000 px: long rankings get thinner rows instead.
MARGIN_PX = 36
GAP_PX = 24
FONT = "DejaVu Sans"  # bundled with matplotlib and covers Vietnamese; nothing is downloaded
TITLE_PT, BODY_PT, SMALL_PT = 20, 17, 13
INK, MUTED, GRID = "#222222", "#555555", "#e3e3e3"
NAME_MAX_PX = 470  # unit names wrap onto two lines within this, then are shortened with "…"

# matplotlib documents itself as not thread-safe (font and text caches are shared); a chart takes a fraction of a
# second, so renders are simply serialised.
_render_lock = threading.Lock()


# --- Texts (worded through the catalog; public so they can be tested and reused by exports) ---

def history_title(name: str, lang: str = VI) -> str:
    return msg("chart.history.title", name=_nfc(name)).render(lang)


def history_sources(citations: list[Citation], lang: str = VI) -> str:
    """Every decision cited once, in order, grouped by issuer."""
    unique = list(dict.fromkeys((c.issuer, c.number, c.signed_date, c.evaluated_year) for c in citations))
    if len(unique) == 1:
        issuer, number, signed, year = unique[0]
        return msg("source.decision", document=document_title(number), date=Day(signed), issuer=issuer,
                   year=year).render(lang)
    issuers = dict.fromkeys(issuer for issuer, *_ in unique)
    return join((msg("chart.history.sources", issuer=issuer, decisions=join(
        (msg("chart.history.decision", number=number, date=Day(signed), year=year)
         for i, number, signed, year in unique if i == issuer), "; "))
        for issuer in issuers), " ").render(lang)


# --- Public charts ---

def ranking_chart(ranking: RankingView, lang: str = VI) -> bytes:
    """Horizontal bars in rank order (rank 1 on top), coloured by tier and labelled with the percentage."""
    with _render_lock:
        return _ranking_png(ranking, lang)


def history_chart(name: str, history: list[HistoryPoint], lang: str = VI) -> bytes:
    """A unit's percentage (top panel) and rank (bottom panel, 1 on top) per decision, oldest first. A
    predecessor's result is a point of its own line, named under its year, and a dashed line marks the day the
    unit became what it is: one body's results are never joined to another's."""
    if not history:
        raise ValueError("a history chart needs at least one result")
    with _render_lock:
        return _history_png(name, history, lang)


# --- Layout helpers ---

def _nfc(text: str) -> str:
    # Agg draws no combining marks onto letters: decomposed (NFD) names would show loose accents.
    return unicodedata.normalize("NFC", text)


def _font(points: float, bold: bool = False) -> FontProperties:
    return FontProperties(family=FONT, size=points, weight="bold" if bold else "normal")


def _line_px(points: float) -> float:
    return points * DPI / 72 * 1.2  # matplotlib's default line spacing


def _colour(tier: str) -> str:
    return TIER_COLOURS.get(tier, UNKNOWN_TIER_COLOUR)


def _tier_order(tiers: set[str]) -> list[str]:
    return sorted(tiers, key=lambda t: TIER_RANK.get(t, len(TIER_RANK)))


class _Ruler:
    """Measures text as Agg will draw it, so names can be wrapped and shortened before the figure exists.

    Agg's text layout costs about 40 µs a character, and wrapping measures the same words over and over; a line's
    width is therefore summed from its words', each measured once per render (kerning never spans a space).
    """

    def __init__(self) -> None:
        self._renderer = RendererAgg(1, 1, DPI)
        self._widths: dict[tuple[str, float, str], float] = {}

    def _measure(self, text: str, font: FontProperties) -> float:
        key = (text, font.get_size_in_points(), str(font.get_weight()))
        if key not in self._widths:
            self._widths[key] = self._renderer.get_text_width_height_descent(text, font, ismath=False)[0]
        return self._widths[key]

    def width(self, text: str, font: FontProperties) -> float:
        tokens = text.split(" ")
        space = self._measure("x x", font) - self._measure("xx", font)
        return sum(self._measure(token, font) for token in tokens if token) + space * (len(tokens) - 1)

    def wrap(self, text: str, font: FontProperties, width: float, max_lines: int | None = None) -> list[str]:
        """Lines within ``width``, evened out (no lone last word); past ``max_lines`` the rest is cut with "…"."""
        lines = self._greedy(text.split(), font, width)
        if max_lines is not None and len(lines) > max_lines:
            lines = lines[:max_lines - 1] + [" ".join(lines[max_lines - 1:])]
            return [self.shorten(line, font, width) for line in lines]
        # The narrowest width that still needs no more lines balances them; a few steps are close enough.
        narrower = width
        while len(lines) > 1 and narrower > width / 2:
            narrower *= 0.93
            tighter = self._greedy(text.split(), font, narrower)
            if len(tighter) > len(lines) or any(self.width(line, font) > narrower for line in tighter):
                break
            lines = tighter
        return [self.shorten(line, font, width) for line in lines] if max_lines else lines

    def _greedy(self, tokens: list[str], font: FontProperties, width: float) -> list[str]:
        lines: list[str] = []
        for token in tokens:
            if lines and self.width(f"{lines[-1]} {token}", font) <= width:
                lines[-1] = f"{lines[-1]} {token}"
            else:
                lines.append(token)
        return lines or [""]

    def shorten(self, line: str, font: FontProperties, width: float) -> str:
        """The longest prefix that fits with "…" after it (found by bisection: each probe is a new measurement)."""
        if self.width(line, font) <= width:
            return line
        fits, too_long = 0, len(line)
        while too_long - fits > 1:
            middle = (fits + too_long) // 2
            if self.width(f"{line[:middle]}…", font) <= width:
                fits = middle
            else:
                too_long = middle
        return f"{line[:max(fits, 1)].rstrip(' ,-–')}…"


class _Frame:
    """Title and legend on top, citation at the bottom, in pixels; the caller fills the space between."""

    def __init__(self, ruler: _Ruler, title: str, legend: list[tuple[str, str]], footer: str) -> None:
        inner = WIDTH_PX - 2 * MARGIN_PX
        self.title_font, self.legend_font = _font(TITLE_PT, bold=True), _font(BODY_PT)
        self.footer_font = _font(SMALL_PT)
        self.title = ruler.wrap(title, self.title_font, inner)
        self.footer = ruler.wrap(footer, self.footer_font, inner)
        self.legend = legend
        # One legend row if it fits (handle + gap + label + column spacing per entry), else as few rows as needed.
        entry = [ruler.width(label, self.legend_font) + 3.2 * BODY_PT * DPI / 72 for _, label in legend]
        self.legend_rows = max(1, math.ceil(sum(entry) / inner)) if legend else 0
        self.legend_cols = math.ceil(len(legend) / self.legend_rows) if legend else 1
        self.top_px = MARGIN_PX + len(self.title) * _line_px(TITLE_PT) + GAP_PX \
            + self.legend_rows * _line_px(BODY_PT) * 1.3 + (GAP_PX if legend else 0)
        self.bottom_px = MARGIN_PX + len(self.footer) * _line_px(SMALL_PT) + GAP_PX

    def figure(self, body_px: float) -> tuple[Figure, int]:
        height = round(self.top_px + body_px + self.bottom_px)
        fig = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI, facecolor="white")
        FigureCanvasAgg(fig)
        x0 = MARGIN_PX / WIDTH_PX
        fig.text(x0, 1 - MARGIN_PX / height, "\n".join(self.title), ha="left", va="top", color=INK,
                 fontproperties=self.title_font, parse_math=False)
        if self.legend:
            legend_top = MARGIN_PX + len(self.title) * _line_px(TITLE_PT) + GAP_PX
            handles = [Patch(facecolor=colour, edgecolor="none", label=label) for colour, label in self.legend]
            fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(x0, 1 - legend_top / height),
                       ncols=self.legend_cols, frameon=False, prop=self.legend_font, borderpad=0, borderaxespad=0,
                       handlelength=1.0, handleheight=1.0, handletextpad=0.5, columnspacing=1.6, labelcolor=INK)
        fig.text(x0, MARGIN_PX / height, "\n".join(self.footer), ha="left", va="bottom", color=MUTED,
                 fontproperties=self.footer_font, parse_math=False)
        return fig, height


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" entry: the same chart gives the same bytes whatever matplotlib version drew it. zlib level 3
    # encodes a tall chart in half the time of the default for a few percent more bytes.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"compress_level": 3})
    fig.clear()  # drop the artists now rather than whenever the collector runs
    return buffer.getvalue()


def _plain_axes(ax: Axes) -> None:
    for side, spine in ax.spines.items():
        spine.set_visible(side in {"left", "bottom"})
        spine.set_color(MUTED)


# --- Ranking chart ---

def _row_labels(ruler: _Ruler, rows: list[RankedRow]) -> tuple[list[str], FontProperties, float]:
    """Wrapped "rank. name" labels, their font, and the row pitch in pixels that fits the tallest label."""
    font = _font(BODY_PT)
    labels = [ruler.wrap(f"{row.rank}. {_nfc(row.name)}", font, NAME_MAX_PX, max_lines=2) for row in rows]
    lines = max((len(label) for label in labels), default=1)
    pitch = _line_px(BODY_PT) * (lines + 0.7)
    return ["\n".join(label) for label in labels], font, pitch


def _ranking_png(ranking: RankingView, lang: str) -> bytes:
    ruler = _Ruler()
    rows = ranking.rows
    counts = Counter(row.tier for row in rows)
    legend = [(_colour(tier), msg("chart.legend", tier=Tier(tier), count=counts[tier]).render(lang))
              for tier in _tier_order(set(counts) - {None})]
    frame = _Frame(ruler, ranking_title(ranking, lang), legend, ranking_source(ranking.citation, lang))

    slots = max(len(rows), 1)
    # Text keeps its size however long the ranking: a tall chart is sent as a file, not shrunk into a photo.
    labels, font, pitch = _row_labels(ruler, rows)
    fig, height = frame.figure(slots * pitch)

    label_px = max((ruler.width(line, font) for label in labels for line in label.split("\n")), default=0)
    left = MARGIN_PX + label_px + 10
    axes_px = WIDTH_PX - MARGIN_PX - left
    ax = fig.add_axes((left / WIDTH_PX, frame.bottom_px / height, axes_px / WIDTH_PX, slots * pitch / height))
    values = [word(score_of(row), lang) if row.score is not None else "" for row in rows]
    full = _full_scale(ranking)
    # Room right of a full bar for its label: the x range extends past the scale's top by the widest label.
    value_px = max((ruler.width(value, font) for value in values), default=0) + 10
    x_max = full * axes_px / (axes_px - value_px)
    ax.set_xlim(0, x_max)
    ax.set_ylim(slots - 0.5, -0.5)  # rank 1 on top
    positions = range(len(rows))
    ax.barh(positions, [float(row.score or 0) for row in rows], height=0.72,
            color=[_colour(row.tier) for row in rows], linewidth=0)
    pad = 6 * x_max / axes_px
    for y, (row, value) in enumerate(zip(rows, values)):
        ax.text(float(row.score or 0) + pad, y, value, ha="left", va="center", color=INK, fontproperties=font,
                parse_math=False)
    # Names as plain texts rather than tick labels: ticks lay every label out twice, which doubles the time
    # a long ranking takes.
    names_x = -10 / axes_px
    for y, label in enumerate(labels):
        ax.text(names_x, y, label, transform=ax.get_yaxis_transform(), ha="right", va="center", color=INK,
                fontproperties=font, parse_math=False)
    ax.set_yticks([])
    ax.set_xticks([])
    _plain_axes(ax)
    ax.spines["bottom"].set_visible(False)
    return _png(fig)


# --- History chart ---

PERCENT_PANEL_PX, RANK_PANEL_PX, PANEL_GAP_PX = 420, 330, 36
HISTORY_LEFT_PX, HISTORY_RIGHT_PX, XAXIS_PX = 150, 50, 90
LINE_COLOUR = "#444444"
PREDECESSOR_CHARS = 22  # a predecessor's name under its year, shortened to fit one column


def _ticks(low: float, high: float, floor: float, ceiling: float) -> list[float]:
    """Round tick values within the axis and within what the quantity can be (no 110%, no rank 0)."""
    lo, hi = sorted((low, high))
    return [float(t) for t in MaxNLocator(nbins=5, steps=[1, 2, 5, 10], integer=True).tick_values(lo, hi)
            if max(lo, floor) <= t <= min(hi, ceiling)]


def _history_png(name: str, history: list[HistoryPoint], lang: str) -> bytes:
    ruler = _Ruler()
    rows = [point.row for point in history]
    citations = [point.citation for point in history]
    # One series per body: the unit's own, and each predecessor's (by unit: namesakes of two provinces are two)
    bodies = [(point.before, point.row.unit_id if point.before else 0) for point in history]
    predecessor_labels = ["\n".join(textwrap.shorten(part, PREDECESSOR_CHARS, placeholder="…")
                                    for part in (p.row.name, p.issuer) if part) for p in history]
    legend = [(_colour(tier), word(Tier(tier), lang)) for tier in _tier_order({row.tier for row in rows} - {None})]
    frame = _Frame(ruler, history_title(name, lang), legend, history_sources(citations, lang))
    fig, height = frame.figure(PERCENT_PANEL_PX + PANEL_GAP_PX + RANK_PANEL_PX + XAXIS_PX)

    body, small = _font(BODY_PT), _font(SMALL_PT + 2)
    x = list(range(len(history)))
    years = [c.evaluated_year for c in citations]
    # Two decisions for one evaluated year (a corrected decision) are told apart by their numbers.
    ticks = [str(y) if years.count(y) == 1 else f"{y}\n{c.number}" for y, c in zip(years, citations)]
    ticks = [f"{y}\n{label}" if series[0] else tick
             for y, tick, series, label in zip(years, ticks, bodies, predecessor_labels)]
    width = (WIDTH_PX - HISTORY_LEFT_PX - HISTORY_RIGHT_PX) / WIDTH_PX
    left = HISTORY_LEFT_PX / WIDTH_PX

    def panel(bottom_px: float, height_px: float, **kwargs: Any) -> Axes:
        ax = fig.add_axes((left, bottom_px / height, width, height_px / height), **kwargs)
        _plain_axes(ax)
        ax.grid(axis="y", color=GRID, linewidth=1)
        ax.set_axisbelow(True)
        ax.tick_params(labelsize=SMALL_PT + 2, colors=MUTED)
        return ax

    def points(ax: Axes, values: list[float], labels: list[str]) -> None:
        for series in dict.fromkeys(bodies):  # one line per body: never across a reorganisation
            xs = [xi for xi, b in zip(x, bodies) if b == series]
            ax.plot(xs, [values[xi] for xi in xs], color=LINE_COLOUR, linewidth=2.5, zorder=2,
                    linestyle="-" if series[0] is None else ":")
        for day in {b[0] for b in bodies if b[0]}:
            after = next((xi for xi, b in enumerate(bodies) if b[0] is None or b[0] > day), None)
            if after is not None:
                ax.axvline(after - 0.5, color=MUTED, linestyle="--", linewidth=1.2, zorder=1)
        ax.scatter(x, values, s=260, c=[_colour(row.tier) for row in rows], edgecolors=INK, linewidths=1.2, zorder=3)
        for xi, value, label in zip(x, values, labels):
            # Offsets are in screen points, so "above" holds on the inverted rank axis too.
            ax.annotate(label, (xi, value), xytext=(0, 14), textcoords="offset points", ha="center", va="bottom",
                        color=INK, fontproperties=body, annotation_clip=False)

    rank_bottom = frame.bottom_px + XAXIS_PX
    ranks = panel(rank_bottom, RANK_PANEL_PX)
    percents = panel(rank_bottom + RANK_PANEL_PX + PANEL_GAP_PX, PERCENT_PANEL_PX, sharex=ranks)

    # One unit across decisions keeps one kind of score; should it change, the latest says what the axis is.
    kind = rows[-1].scale.kind if rows else "percent"
    scored = [row for row in rows if row.score is not None and row.scale.kind == kind] or rows
    values = [float(row.score) if row.score is not None and row.scale.kind == kind else float("nan") for row in rows]
    known = [v for v in values if v == v] or [0.0]
    top = 1.0 if kind == "index" else float(max([row.scale.max or 100 for row in scored])) if kind == "points" \
        else 100.0
    span = max(max(known) - min(known), top / 10)
    percents.set_ylim(max(0.0, min(known) - span * 0.4), max(known) + span * 0.45)
    if kind == "index":
        percents.set_yticks([t for t in (0, 0.2, 0.4, 0.6, 0.8, 1.0) if percents.get_ylim()[0] <= t
                             <= percents.get_ylim()[1]])
        percents.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_exact(Decimal(f"{v:.1f}"), lang)))
    else:
        percents.set_yticks(_ticks(*percents.get_ylim(), 0, top))
        suffix = "%" if kind == "percent" else ""
        percents.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}{suffix}"))
    label = {"points": "chart.history.points", "index": "chart.history.index"}.get(kind, "chart.history.percentage")
    percents.set_ylabel(msg(label).render(lang), fontproperties=body, color=MUTED)
    points(percents, values, [word(score_of(row), lang) if row.score is not None else "" for row in rows])
    percents.tick_params(axis="x", labelbottom=False, length=0)

    largest = max(point.total for point in history)
    ranks.set_ylim(largest + 0.5, 1 - max(largest * 0.25, 0.8))  # inverted: 1 on top, headroom for labels
    rank_ticks = _ticks(0, largest, 1, largest)
    # Rank 1 is labelled so the inverted axis reads at once, unless a tick already sits next to it.
    ranks.set_yticks(rank_ticks if rank_ticks and rank_ticks[0] < 3 else [1, *rank_ticks])
    ranks.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))
    ranks.set_ylabel(msg("chart.history.rank").render(lang), fontproperties=body, color=MUTED)
    points(ranks, [float(row.rank) for row in rows], [f"{p.row.rank}/{p.total}" for p in history])
    ranks.set_xlim(-0.5, len(x) - 0.5)
    ranks.set_xticks(x, ticks, fontproperties=small, color=INK)
    ranks.set_xlabel(msg("chart.history.year").render(lang), fontproperties=body, color=MUTED)
    return _png(fig)


def _full_scale(ranking: RankingView) -> float:
    """Where a full bar ends: 100%, the ranking's maximum of points (or its best score), an index's 1."""
    kind = ranking.scale.kind
    if kind == "index":
        return 1.0
    if kind == "points":
        best = max((row.score for row in ranking.rows if row.score is not None), default=Decimal(100))
        return float(ranking.scale.max or max(best, Decimal(100)))
    return 100.0
