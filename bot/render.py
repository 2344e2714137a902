"""Answer → Telegram HTML messages (escaped, each under 4096 characters, split between rows) and inline keyboards."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from dxcore.answers import Answer

MESSAGE_LIMIT = 4096
CALLBACK_LIMIT = 64  # bytes of callback data Telegram keeps

Row = tuple[str | None, str]  # (HTML tag or None, plain text)


def _rows(answer: Answer, brief: bool) -> list[Row]:
    rows: list[Row] = [("b", answer.title)]
    if answer.note:
        rows.append(("i", answer.note))
    for section in answer.sections:
        rows.append((None, ""))
        if section.heading:
            rows.append(("b", section.heading))
        lines = section.lines[: answer.brief_lines] if brief and answer.brief_lines else section.lines
        rows += [(None, line) for line in lines]
        if section.source:
            rows.append(("i", section.source))
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


def render(answer: Answer, *, brief: bool = False) -> list[str]:
    return split_messages(_rows(answer, brief))


def keyboard(answer: Answer) -> InlineKeyboardMarkup | None:
    buttons = [
        [InlineKeyboardButton(choice.label[:64], callback_data=choice.payload)]
        for choice in answer.choices
        if len(choice.payload.encode()) <= CALLBACK_LIMIT
    ]
    return InlineKeyboardMarkup(buttons) if buttons else None
