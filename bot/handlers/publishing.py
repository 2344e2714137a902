"""Publishing: an admin sends a decision document, or a photo of its printed table, in a private chat and gets a
preview to publish or cancel."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import carry_out, core, person_of, place_of, send
from dxcore.answering.answers import Answer
from dxcore.conversation.events import Uploaded


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    document = update.effective_message.document
    await _uploaded(update, context, document.file_id, document.file_name or "quyet-dinh", document.file_size)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo as Telegram keeps it: the largest size it offers (read by OCR, like a scanned page)."""
    photo = max(update.effective_message.photo, key=lambda size: size.width * size.height)
    await _uploaded(update, context, photo.file_id, f"anh-{photo.file_unique_id}.jpg", photo.file_size)


async def _uploaded(update: Update, context: ContextTypes.DEFAULT_TYPE, file_id: str, name: str,
                    size: int | None) -> None:
    message = update.effective_message
    person = person_of(update.effective_user, message, context)

    async def progress(answer: Answer) -> None:
        await send(message, answer, person.lang, brief=False, quote=False)

    event = Uploaded(place_of(message), person, file_id, name, size, message.caption or "", progress)
    await carry_out(context, await core(context).uploaded(event), message, person.lang)
