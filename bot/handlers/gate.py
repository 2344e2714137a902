"""Handler group -1: what every update passes before any family sees it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.handlers.common import addressed_text


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Texts not addressed to this bot stop here: "/cmd@otherbot", and in groups anything that neither commands,
    mentions nor replies to it (privacy mode lets a few through, e.g. when the bot is an administrator)."""
    message = update.message or update.edited_message
    if message is not None and message.text is not None and addressed_text(message, context.bot) is None:
        raise ApplicationHandlerStop
