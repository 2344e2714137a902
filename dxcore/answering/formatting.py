"""Numbers and dates: the Vietnamese way by default (decimal comma "70,74%", day/month/year), or English."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

VI, EN = "vi", "en"
LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")  # the time people read, wherever the server runs


def format_number(value: Decimal | int | float, lang: str = VI, min_places: int = 2, max_places: int = 3) -> str:
    """70.740 → "70,74" (English "70.74"); 4.2 → "4,20"; a third decimal is kept only when the source printed one."""
    quantized = Decimal(value).quantize(Decimal(1).scaleb(-max_places))
    whole, _, frac = f"{quantized:.{max_places}f}".partition(".")
    frac = frac.rstrip("0").ljust(min_places, "0")
    return f"{whole}{',' if lang == VI else '.'}{frac}" if frac else whole


def format_percent(value: Decimal | int | float, lang: str = VI) -> str:
    return f"{format_number(value, lang)}%"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(value: date, lang: str = VI) -> str:
    """12/7/2024, as decisions and officials write it; "12 Jul 2024" in English, which reads either way."""
    if lang == EN:
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    return f"{value.day}/{value.month}/{value.year}"


def local_moment(value: datetime, *, iso: bool = False) -> str:
    """A stored instant as people here read it, with its offset: "2026-12-01 07:05 +07:00" (ISO 8601 with
    ``iso``: "2026-12-01T07:05:00+07:00"). A naive value (SQLite returns them) is UTC."""
    local = (value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))).astimezone(LOCAL_TIME)
    if iso:
        return local.isoformat(timespec="seconds")
    offset = local.isoformat()[-6:]  # "+07:00"
    return f"{local:%Y-%m-%d %H:%M} {offset}"


def format_exact(value: Decimal | int, lang: str = VI) -> str:
    """The digits as printed, thousands grouped: Decimal("885.58") → "885,58"; Decimal("1000") → "1.000";
    Decimal("0.8340") → "0,8340" (English "885.58", "1,000", "0.8340")."""
    text = format(Decimal(value), "f")
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = text.partition(".")
    group, point = (".", ",") if lang == VI else (",", ".")
    whole = f"{int(whole):,}".replace(",", group)
    return f"{sign}{whole}{point}{frac}" if frac else f"{sign}{whole}"


def format_score(value: Decimal, kind: str | None, maximum: Decimal | None = None, lang: str = VI) -> str:
    """A score in its ranking's terms: "70,74%", "96,53 điểm", "885,58/1.000 điểm", "chỉ số 0,8340" (English
    "70.74%", "96.53 points", "885.58/1,000 points", "index 0.8340")."""
    if kind == "points":
        out_of = f"/{format_exact(maximum, lang)}" if maximum is not None and maximum != 100 else ""
        return f"{format_exact(value, lang)}{out_of} {'điểm' if lang == VI else 'points'}"
    if kind == "index":
        return f"{'chỉ số' if lang == VI else 'index'} {format_exact(value, lang)}"
    return format_percent(value, lang)


def format_gap(value: Decimal, kind: str | None, lang: str = VI) -> str:
    """A difference of two scores of one kind: "25,16 điểm %" (percentage points), "12,5 điểm", "0,0120" (an
    index's difference is a plain number)."""
    if kind == "index":
        return format_exact(value, lang)
    if kind == "points":
        return f"{format_exact(value, lang)} {'điểm' if lang == VI else 'points'}"
    return f"{format_number(value, lang)} {'điểm %' if lang == VI else 'percentage points'}"
