"""Answer → Telegram HTML messages (escaped, each under 4096 characters, split between rows) and inline keyboards."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from dxcore.answering.answers import Answer
from dxcore.answering.i18n import VI, word

MESSAGE_LIMIT = 4096
CALLBACK_LIMIT = 64  # bytes of callback data Telegram keeps

Row = tuple[str | None, str]  # (HTML tag or None, plain text)


def _rows(answer: Answer, brief: bool, lang: str) -> list[Row]:
    rows: list[Row] = [("b" if answer.kind != "notice" else None, word(answer.title, lang))]
    if answer.note:
        rows.append(("i", word(answer.note, lang)))
    for section in answer.sections:
        rows.append((None, ""))
        if section.heading:
            rows.append(("b", word(section.heading, lang)))
        lines = section.lines[: answer.brief_lines] if brief and answer.brief_lines else section.lines
        rows += [(None, word(line, lang)) for line in lines]
        if section.source:
            rows.append(("i", word(section.source, lang)))
    return rows


def _html(row: Row) -> str:
    tag, text = row
    escaped = html.escape(text, quote=False)
    return f"<{tag}>{escaped}</{tag}>" if tag else escaped


def _cut(row: Row, limit: int) -> list[Row]:
    """A row too long for one message, in pieces whose escaped, tagged form fits."""
    tag, text = row
    room = limit - len(_html((tag, "")))
    pieces: list[Row] = []
    start, used = 0, 0
    for i, char in enumerate(text):
        size = len(html.escape(char, quote=False))
        if used + size > room:
            pieces.append((tag, text[start:i]))
            start, used = i, 0
        used += size
    pieces.append((tag, text[start:]))
    return pieces


def split_messages(rows: list[Row], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pack rows into messages under ``limit`` characters, never splitting a row unless it alone is too long."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for row in rows:
        for piece in _cut(row, limit) if len(_html(row)) > limit else [row]:
            rendered = _html(piece)
            if current and size + 1 + len(rendered) > limit:
                messages.append("\n".join(current).strip("\n"))
                current, size = [], 0
            current.append(rendered)
            size += len(rendered) + (1 if size else 0)
    if current:
        messages.append("\n".join(current).strip("\n"))
    return [m for m in messages if m]


def render(answer: Answer, *, brief: bool = False, lang: str = VI, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The answer as HTML messages; ``limit`` is 1024 for a photo's or document's caption."""
    return split_messages(_rows(answer, brief, lang), limit)


def keyboard(answer: Answer, lang: str = VI) -> InlineKeyboardMarkup | None:
    buttons = [  # only sealed choices: an unsealed one would be refused when pressed
        [InlineKeyboardButton(word(choice.label, lang)[:64], callback_data=choice.payload)]
        for choice in answer.choices
        if choice.payload and len(choice.payload.encode()) <= CALLBACK_LIMIT
    ]
    return InlineKeyboardMarkup(buttons) if buttons else None
