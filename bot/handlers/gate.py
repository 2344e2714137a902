"""Handler group -1: what every update passes before any family sees it."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.handlers.common import addressed_text, in_group, lang_of, update_kind
from dxcore.answering.i18n import msg, word
from dxcore.conversation.limits import Verdict
from dxcore.observability import metrics
from dxcore.observability.logs import keep_private

log = logging.getLogger("dxbot")


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Texts not addressed to this bot stop here: "/cmd@otherbot", and in groups anything that neither commands,
    mentions nor replies to it (privacy mode lets a few through, e.g. when the bot is an administrator). So does
    whatever flood control (DXBOT_FLOOD) refuses: the update that goes over the limit gets one short notice, the
    user's next ones nothing until the block ends (a button press only stops its spinner)."""
    metrics.count(metrics.UPDATES, update_kind(update))
    _keep_private(update)
    message = update.message or update.edited_message
    if message is not None and message.text is not None and addressed_text(message, context.bot) is None:
        raise ApplicationHandlerStop
    flood = context.application.bot_data.get("flood")
    if flood is None:
        return
    verdict = flood.take(update)
    if verdict is Verdict.ADMIT:
        return
    try:
        if verdict is Verdict.NOTICE:
            await _notice(update, flood.guard.block_seconds)
        elif update.callback_query is not None:
            await update.callback_query.answer()
    except TelegramError as exc:
        log.info("could not tell a flooding user so: %s", exc)
    raise ApplicationHandlerStop


def _keep_private(update: Update) -> None:
    """What this update carries of its people's words and names stays out of logs above DEBUG."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    keep_private(
        message and (message.text or message.caption), message and message.document and message.document.file_name,
        user and user.first_name, user and user.last_name, user and user.username, chat and chat.title,
        update.callback_query and update.callback_query.data, update.inline_query and update.inline_query.query,
    )


async def _notice(update: Update, seconds: float) -> None:
    text = word(msg("limits.flood", seconds=round(seconds)), lang_of(update.effective_user))
    if update.callback_query is not None:
        await update.callback_query.answer(text)
        return
    message = update.message or update.edited_message
    if message is not None:
        await message.reply_text(text, parse_mode=None, do_quote=in_group(message))
