"""Numbers and dates the Vietnamese way: decimal comma ("70,74%"), day/month/year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def format_number(value: Decimal | int | float, min_places: int = 2, max_places: int = 3) -> str:
    """70.740 → "70,74"; 4.2 → "4,20"; a third decimal is kept only when the source printed one."""
    quantized = Decimal(value).quantize(Decimal(1).scaleb(-max_places))
    text = f"{quantized:.{max_places}f}"
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(min_places, "0")
    return f"{whole},{frac}" if frac else whole


def format_percent(value: Decimal | int | float) -> str:
    return f"{format_number(value)}%"


def format_date(value: date) -> str:
    """12/7/2024, as decisions and officials write it."""
    return f"{value.day}/{value.month}/{value.year}"
