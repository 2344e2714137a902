"""Alerts through Telegram: the Sender the outbox worker uses, mapping Bot API outcomes to what the outbox does."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.render import render
from dxcore.alerts.delivery import BLOCKED, FAILED, MIGRATED, RETRY, SENT, SendResult
from dxcore.answering.answers import Answer
from dxcore.answering.i18n import VI


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """Sends without PTB's rate limiter: the worker's own budget paces alerts and honours RetryAfter."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, thread_id: int, answer: Answer, *, silent: bool, lang: str = VI) -> SendResult:
        first: int | None = None
        try:
            for part in render(answer, lang=lang):
                message = await self.bot.send_message(
                    chat_id, part, parse_mode=ParseMode.HTML, message_thread_id=thread_id or None,
                    disable_notification=silent, link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                first = first or message.message_id
        except RetryAfter as exc:
            return SendResult(RETRY, retry_after=_seconds(exc.retry_after), error=str(exc))
        except Forbidden as exc:  # blocked by the user, or removed from the group
            return SendResult(BLOCKED, error=str(exc))
        except ChatMigrated as exc:
            return SendResult(MIGRATED, new_chat_id=exc.new_chat_id, error=str(exc))
        except BadRequest as exc:  # permanent: sending again would fail the same way
            return SendResult(FAILED, error=str(exc))
        except NetworkError as exc:  # timeouts, 5xx, connection errors: worth another try
            return SendResult(RETRY, error=str(exc))
        except TelegramError as exc:
            return SendResult(FAILED, error=str(exc))
        return SendResult(SENT, message_id=first)
