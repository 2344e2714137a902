"""Questions: free text and commands, new or edited (an edit edits the earlier answer)."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.handlers.common import addressed_text, carry_out, core, person_of, place_of
from dxcore.conversation.events import Said
from dxcore.observability import metrics


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if (text := addressed_text(message, context.bot)) is None:
        return
    with metrics.ANSWER_SECONDS.time():
        await _answer(update, context, message, text)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, text: str) -> None:
    event = Said(place_of(message), person_of(update.effective_user, message, context), text, message.message_id,
                 edited=update.edited_message is not None)
    outcome = await core(context).said(event)
    ids = await carry_out(context, outcome, message, event.person.lang)
    if outcome.remember:
        await core(context).answered(event.place, message.message_id, outcome.remember, ids)
