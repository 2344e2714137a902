"""Ranking levels: codes carried in JSON and the database, display names, and the phrases documents print."""

from __future__ import annotations

import re

from dxcore.answering.i18n import VI, catalog
from dxcore.understanding.text import fold

# Code → display name, in the order levels are listed when a decision has several. The names are the message
# catalog's (data/messages/words.toml), so answers and documents' summaries say the same.
LEVEL_NAMES: dict[str, str] = {code: catalog()[f"level.{code}"][VI] for code in ("bo", "tinh", "so", "tw", "huyen", "xa")}
LEVEL_ORDER = {code: i for i, code in enumerate(LEVEL_NAMES)}

# Folded phrases → code; most specific first. Matched on word boundaries.
_PHRASES: list[tuple[str, str]] = [
    (r"(?:khoi |nhom )?(?:cac )?co quan (?:cap tinh|thuoc (?:ubnd|uy ban nhan dan) tinh)", "so"),
    (r"cap so", "so"),
    (r"cap huyen", "huyen"),
    (r"cap xa", "xa"),
    (r"cap tinh", "tinh"),
    (r"cap bo", "bo"),
    (r"(?:cac |khoi )?xa,? phuong,? thi tran", "xa"),
    (r"(?:cac |khoi )?xa,? thi tran", "xa"),
    (r"(?:ubnd |uy ban nhan dan )?(?:cac )?xa,? phuong", "xa"),
    (r"(?:khoi |cac )?(?:ubnd |uy ban nhan dan )?(?:cac )?phuong,? xa", "xa"),
    (r"khoi (?:cac )?xa", "xa"),
    (r"(?:cac |khoi )?quan,? huyen", "huyen"),
    (r"quan ?/ ?huyen", "huyen"),
    (r"(?:cac |khoi )?huyen,? (?:thi xa|thanh pho)", "huyen"),
    (r"(?:ubnd |uy ban nhan dan )cac (?:quan|huyen)", "huyen"),
    (r"khoi (?:cac )?(?:quan|huyen)", "huyen"),
    (r"(?:cac |khoi )?so,? ban,? nganh", "so"),
    (r"khoi (?:cac )?so", "so"),
    (r"co quan chuyen mon", "so"),
    (r"(?:khoi |cac )*co quan (?:thuoc )?trung uong", "tw"),
    (r"(?:cac )?bo,? co quan ngang bo", "bo"),
    (r"(?:cac )?tinh,? thanh pho truc thuoc (?:trung uong|tw)", "tinh"),
    (r"(?:cac )?bo,? nganh", "bo"),
]
_PATTERNS = [(re.compile(rf"(?<!\w){p}(?!\w)"), code) for p, code in _PHRASES]


def detect_level(text: str) -> str | None:
    """The level a heading or label names ("CẤP SỞ NĂM 2023", "Khối quận, huyện"), or None."""
    folded = fold(text)
    for pattern, code in _PATTERNS:
        if pattern.search(folded):
            return code
    return None


def level_name(code: str) -> str:
    return LEVEL_NAMES.get(code, code)
