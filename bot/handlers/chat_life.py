"""Chat life: the bot added, removed or blocked; a group migrated to a supergroup."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import core, place_of
from dxcore.conversation.events import Membership, Migrated, Place


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change = update.my_chat_member
    chat = change.chat
    active = change.new_chat_member.status not in ("kicked", "left")
    await core(context).membership(Membership(Place(chat.id, chat.type, title=chat.title), active))


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message.migrate_to_chat_id:
        await core(context).migrated(Migrated(place_of(message), message.migrate_to_chat_id))
