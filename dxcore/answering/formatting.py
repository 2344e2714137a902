"""Numbers and dates: the Vietnamese way by default (decimal comma "70,74%", day/month/year), or English."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

VI, EN = "vi", "en"


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
