"""What an admin writes in a document's caption to give a report the facts it does not print (the CLI's
``--issuer/--number/--signed/--year``), typed on a phone: one "name: value" per line or separated by ";"

    Cơ quan: Bộ Thông tin và Truyền thông
    Số: DTI-2022/BTTTT
    Ngày: 12/07/2023
    Năm: 2022
"""

from __future__ import annotations

import re
from datetime import date, datetime

from dxcore.answering.i18n import Text, msg
from dxcore.parsing import GivenFacts
from dxcore.understanding.text import fold

# Folded names → the fact; English ones too, for admins who write them.
_NAMES = {"co quan": "issuer", "co quan ban hanh": "issuer", "don vi ban hanh": "issuer", "issuer": "issuer",
          "so": "number", "so hieu": "number", "ky hieu": "number", "number": "number",
          "ngay": "signed", "ngay ky": "signed", "ngay ban hanh": "signed", "signed": "signed", "date": "signed",
          "nam": "year", "nam danh gia": "year", "year": "year"}
_LINE_RE = re.compile(r"^\s*([^:]{1,30}?)\s*:\s*(.+?)\s*$")
EXAMPLE = {"issuer": "Cơ quan: …", "number": "Số: …", "signed": "Ngày: DD/MM/YYYY", "year": "Năm: YYYY"}


def facts_from_caption(caption: str | None) -> tuple[GivenFacts, list[Text]]:
    """The facts a caption gives, and what in it could not be read (each one sentence)."""
    found: dict[str, object] = {}
    problems: list[Text] = []
    for part in re.split(r"[\n;]", caption or ""):
        if not part.strip():
            continue
        match = _LINE_RE.match(part)
        what = _NAMES.get(" ".join(fold(match.group(1)).split())) if match else None
        if what is None:
            continue  # a caption may say anything else ("QĐ mới nhé"): only named facts are taken
        value = match.group(2)
        if what == "signed":
            try:
                found[what] = datetime.strptime(value, "%d/%m/%Y").date()
            except ValueError:
                problems.append(msg("publish.caption_date", text=value))
        elif what == "year":
            if re.fullmatch(r"(?:19|20)\d\d", value):
                found[what] = int(value)
            else:
                problems.append(msg("publish.caption_year", text=value))
        else:
            found[what] = value
    return GivenFacts(**found), problems


def missing_facts(issuer: str | None, number: str | None, signed: date | None, year: int | None) -> list[str]:
    """The caption lines an admin still has to write (as EXAMPLE shows them)."""
    have = {"issuer": issuer, "number": number, "signed": signed, "year": year}
    return [EXAMPLE[what] for what, value in have.items() if value is None]
