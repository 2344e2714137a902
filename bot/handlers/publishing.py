"""Publishing: an admin sends a decision document in a private chat and gets a preview to publish or cancel."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import carry_out, core, person_of, place_of
from dxcore.conversation.events import Uploaded


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    document = message.document
    event = Uploaded(place_of(message), person_of(update.effective_user, message, context), document.file_id,
                     document.file_name or "quyet-dinh", document.file_size, message.caption or "")
    await carry_out(context, await core(context).uploaded(event), message, event.person.lang)
