"""Alerts through Telegram: the Sender the outbox worker uses, mapping Bot API outcomes to what the outbox does."""

from __future__ import annotations

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

from bot.limits import seconds_of
from bot.render import render
from dxcore.alerts.delivery import BLOCKED, FAILED, MIGRATED, RETRY, SENT, SendResult
from dxcore.answering.answers import Answer
from dxcore.answering.i18n import VI


class TelegramSender:
    """A bot with a rate limiter (the app's: the process's send budget at alert priority) paces every message
    itself; without one, the worker paces each alert. Either way RetryAfter pauses the budget."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.paces_itself = getattr(bot, "rate_limiter", None) is not None

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
            return SendResult(RETRY, retry_after=seconds_of(exc.retry_after), error=str(exc))
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
