"""Inline mode: forwardable cards, each with a deep link to the full answer in a private chat."""

from __future__ import annotations

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.handlers.common import core, lang_of
from bot.render import render
from dxcore.answering.i18n import msg, word
from dxcore.conversation.core import Card

INLINE_CACHE_SECONDS = 300


def article(card: Card, username: str | None, lang: str) -> InlineQueryResultArticle:
    """The short answer with its source, and a button to the full answer in a private chat."""
    link = f"https://t.me/{username}?start={card.start}" if card.start and username else None
    answer = card.answer
    sections = [word(s.lines[0], lang) for s in answer.sections if s.lines]
    return InlineQueryResultArticle(
        id=card.id, title=word(answer.title, lang)[:200], description="; ".join(sections)[:200] or None,
        input_message_content=InputTextMessageContent(render(answer, brief=True, lang=lang)[0],
                                                      parse_mode=ParseMode.HTML),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(word(msg("inline.open"), lang), url=link)]])
        if link else None,
    )


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    inline = update.inline_query
    lang = lang_of(inline.from_user)
    cards = [article(card, context.bot.username, lang) for card in await core(context).inline(inline.query)]
    start_button = InlineQueryResultsButton(word(msg("inline.start"), lang), start_parameter="inline")
    # Personal: cards are worded in the asker's language, which a shared cache would hand to everyone.
    await inline.answer(cards, cache_time=INLINE_CACHE_SECONDS, is_personal=True, button=start_button)
