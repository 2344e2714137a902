"""Logs an operator can use: one configuration (DXBOT_LOG_LEVEL, DXBOT_LOG_FORMAT) on stderr, in text or one JSON
object per line, libraries' request logs kept at WARNING; and failures that repeat (the Bot API or the database
away) folded into one line per kind per minute with a count, instead of a traceback per attempt.

Above DEBUG no line holds a user's message text or name: log ids (chat, user, update), never content.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

# Loggers of libraries that log every request or job at INFO: WARNING unless DXBOT_LOG_LEVEL=DEBUG.
CHATTY_LIBRARIES = ("httpx", "httpcore", "apscheduler", "telegram", "tornado.access", "aiosqlite", "asyncio",
                    "PIL", "matplotlib", "pdfminer", "sqlalchemy", "alembic")
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """``2026-11-30T18:32:43.389+00:00 INFO dxbot.delivery: …`` (UTC, with its offset)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's
        return _timestamp(record)

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's extra fields, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": _timestamp(record), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        entry |= {key: value for key, value in vars(record).items() if key not in _STANDARD}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


_PRIVATE: ContextVar[tuple[str | None, ...]] = ContextVar("dxbot_private", default=())
HIDDEN = "[hidden]"


def keep_private(*texts: str | None) -> None:
    """While the current task runs (one update being handled), these strings (the user's text, names, a chat's
    title) are replaced by [hidden] in every log line above DEBUG: an exception's message or a library's line
    cannot carry them out either. Cheap: the work is done only when a line is logged."""
    _PRIVATE.set(texts)


def _hidden(text: str, words: list[str]) -> str:
    for word in words:
        text = text.replace(word, HIDDEN)
    return text


class Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG or not (texts := _PRIVATE.get()):
            return True
        words = sorted({text for text in texts if text and text.strip()}, key=len, reverse=True)  # longest first
        record.msg, record.args = _hidden(record.getMessage(), words), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = _hidden(record.exc_text, words)
        return True


class Libraries(logging.Filter):
    """Other libraries' lines above DEBUG: a line that repeats (the same template) at most once a minute, with a
    count; and python-telegram-bot's "Received data was …" (raw updates: people's words and names) without the
    data, which no update's keep_private covers (it is logged while polling, before any update exists)."""

    RAW_UPDATES = "Received data was"

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window, self.clock = window, clock
        self._seen: dict[tuple[str, str], _Spell] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG or record.name.startswith("dxbot"):
            return True
        if self.RAW_UPDATES in str(record.msg):
            record.msg = f"{str(record.msg).split(self.RAW_UPDATES)[0]}(the data is not logged above DEBUG)"
            record.args = None
            if record.exc_info and record.exc_info[0] is not None:
                record.exc_text, record.exc_info = f"{record.exc_info[0].__name__} (details hidden)", None
        key, now = (record.name, str(record.msg)), self.clock()
        spell = self._seen.get(key)
        if spell is not None and now - spell.logged_at < self.window:
            spell.folded += 1
            return False
        if spell is not None and spell.folded:
            record.msg, record.args = f"{record.getMessage()} ({spell.folded} more like it in the last " \
                                      f"{self.window:.0f} s)", None
        self._seen[key] = _Spell(now)
        return True


_handler: logging.Handler | None = None


def configure_logging(level: str = "INFO", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Route every log line (and Python warnings) to ``stream`` (stderr) in ``fmt``; calling it again replaces the
    earlier configuration."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = logging.StreamHandler(stream or sys.stderr)
    _handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    _handler.addFilter(Libraries())
    _handler.addFilter(Redact())
    root.addHandler(_handler)
    root.setLevel(level)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    logging.captureWarnings(True)


@dataclass
class _Spell:
    """A run of failures of one kind: when it was last logged, how many were folded since, how many in all."""

    logged_at: float
    folded: int = 0
    total: int = 1


class FailureLog:
    """One line per kind of failure per ``window`` seconds. The first failure of a kind is logged at once, those
    within the window after it are counted and said with the next line; ``recovered`` ends a spell with one line.
    Outages (the database or the Bot API away) are logged without a traceback above DEBUG; anything else keeps
    its traceback, since it is a bug to find."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window, self.clock = window, clock
        self._spells: dict[str, _Spell] = {}

    def report(self, logger: logging.Logger, what: str, exc: BaseException, *, kind: str | None = None,
               detail: str = "") -> None:
        """``what`` failed with ``exc`` (``detail``: ids that say which, not part of the kind). ``kind`` names an
        outage (e.g. "bot_api"); the database being away is recognised by itself (the failures that waiting fixes);
        anything else is its own kind per ``what`` and exception type."""
        from dxcore.store.db import (
            passes_by_itself,  # the start-up wait's rule: these failures pass by themselves
        )

        outage = kind or ("database" if passes_by_itself(exc) else None)
        key = outage or f"{what}: {type(exc).__name__}"
        now = self.clock()
        spell = self._spells.get(key)
        if spell is not None and now - spell.logged_at < self.window:
            spell.folded += 1
            spell.total += 1
            return
        folded = f" ({spell.folded} more like it in the last {self.window:.0f} s)" if spell and spell.folded else ""
        subject = f"{outage} unavailable: " if outage else ""
        traceback = exc if outage is None or logger.isEnabledFor(logging.DEBUG) else None
        logger.log(logging.WARNING if outage else logging.ERROR, "%s%s failed%s: %s%s", subject, what, detail,
                   _summary(exc), folded, exc_info=traceback)
        if spell is None:
            self._spells[key] = _Spell(now)
        else:
            spell.logged_at, spell.folded, spell.total = now, 0, spell.total + 1

    def recovered(self, logger: logging.Logger, kind: str) -> None:
        """``kind`` works again: one line, if it had failed."""
        spell = self._spells.pop(kind, None)
        if spell is not None:
            logger.info("%s available again after %d failed attempts", kind, spell.total)

    def failing(self, kind: str) -> bool:
        return kind in self._spells


def _summary(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


FAILURES = FailureLog()  # the process's one: a kind of failure is folded whichever part of the code meets it
