"""Button presses: the payload goes to the core, which checks it; a refusal is a toast on the button."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.handlers.common import (
    carry_out,
    core,
    lang_of,
    person_of,
    place_of,
    without_mention,
)
from dxcore.answering.i18n import word
from dxcore.conversation.events import Pressed, Toast


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    message = query.message if isinstance(query.message, Message) else None
    lang = lang_of(query.from_user)
    if message is None:  # a button on an inline card or an inaccessible message: none of the core's
        await query.answer()
        return
    asked = message.reply_to_message.text if message.reply_to_message else None
    event = Pressed(place_of(message), person_of(query.from_user, message, context), query.data or "",
                    message.message_id, without_mention(asked, context.bot) if asked is not None else None)
    outcome = await core(context).pressed(event)
    toast = next((r for r in outcome.replies if isinstance(r, Toast)), None)
    await query.answer(word(toast.text, lang) if toast else None)  # at once: the spinner on the button stops
    await carry_out(context, outcome, message, lang)
