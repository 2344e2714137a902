"""Button presses: the payload goes to the core, which checks it; a refusal is a toast on the button."""

from __future__ import annotations

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.handlers.common import (
    addressed_text,
    carry_out,
    core,
    lang_of,
    log,
    person_of,
    place_of,
)
from dxcore.answering.i18n import Text, word
from dxcore.conversation.events import Pressed


def _offered(message: Message) -> tuple[str, ...]:
    """The callback data of the buttons Telegram says the message carries (a client cannot alter those)."""
    markup = message.reply_markup
    return tuple(b.callback_data for row in (markup.inline_keyboard if markup else ()) for b in row
                 if isinstance(b.callback_data, str))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    message = query.message if isinstance(query.message, Message) else None
    lang = lang_of(query.from_user)
    answered = False

    async def acknowledge(notice: Text | None) -> None:
        """Stop the spinner as soon as the press is checked (a publish may take a while after that)."""
        nonlocal answered
        if not answered:
            answered = True
            try:
                await query.answer(word(notice, lang) if notice else None)
            except BadRequest as exc:  # too old, or already answered: the reply in the chat still goes out
                log.info("could not answer callback query %s: %s", query.id, exc)

    if message is None:  # a button on an inline card or an inaccessible message: none of the core's
        await acknowledge(None)
        return
    asked = message.reply_to_message
    question = addressed_text(asked, context.bot) if asked is not None else None
    event = Pressed(place_of(message), person_of(query.from_user, message, context), query.data or "",
                    message.message_id, question if question is not None else (asked.text if asked else None),
                    _offered(message), acknowledge)
    outcome = await core(context).pressed(event)
    await acknowledge(None)
    await carry_out(context, outcome, message, lang)
