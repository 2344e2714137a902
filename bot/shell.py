"""`dxbot shell`: the conversation core in a terminal, as one local chat.

Answers print as plain text, their choices as numbered lines; typing a number presses that button. Subscriptions
and picks are stored for the local chat (alerts never go to it). Uploads are not offered here: `dxbot ingest`.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import Callable

from dxcore.answering.answers import Answer
from dxcore.answering.i18n import VI, word
from dxcore.conversation.actions import ButtonSeal
from dxcore.conversation.core import Conversation
from dxcore.conversation.events import (
    LOCAL,
    LOCAL_CHAT,
    Outcome,
    Person,
    Place,
    Pressed,
    Replace,
    Said,
    Send,
    Toast,
)
from dxcore.store.db import Database
from dxcore.understanding.catalog import Catalog

PROMPT = "> "


async def _operator() -> bool:
    return True


class LocalChat:
    """One terminal user in one local chat. ``write`` prints a block of text."""

    def __init__(self, db: Database, write: Callable[[str], None], lang: str = VI) -> None:
        self.conversation = Conversation(db, Catalog(), ButtonSeal.for_token(None))
        self.place = Place(LOCAL_CHAT, LOCAL)
        self.person = Person(os.getuid(), lang, _operator)  # the local chat is the operator's
        self.write, self.lang = write, lang
        self._choices: list[str] = []  # payloads of the last answer's buttons, by number
        self._asked: str | None = None  # the question those buttons answered
        self._messages = 0

    async def type(self, text: str) -> None:
        """A line typed: the number of a choice presses it; anything else is said."""
        text = text.strip()
        if not text:
            return
        if text.isdigit() and 1 <= int(text) <= len(self._choices):
            event = Pressed(self.place, self.person, self._choices[int(text) - 1], self._messages, self._asked,
                            tuple(self._choices))
            self._show(await self.conversation.pressed(event), self._asked)
            return
        self._messages += 1
        self._show(await self.conversation.said(Said(self.place, self.person, text, self._messages)), text)

    def _show(self, outcome: Outcome, asked: str | None) -> None:
        for reply in outcome.replies:
            if isinstance(reply, Toast):
                self.write(f"({word(reply.text, self.lang)})")
            elif isinstance(reply, Send | Replace):
                self._print(reply.answer, asked)

    def _print(self, answer: Answer, asked: str | None) -> None:
        text = answer.render_plain(self.lang, numbered=True)
        for attachment in answer.attachments:
            text += f"\n[{attachment.filename}: dxbot ask … --save DIR]"
        self.write(text)
        self._choices, self._asked = [c.payload for c in answer.choices], asked  # numbers press the last choices


async def run_shell(db: Database, lang: str = VI) -> None:
    chat = LocalChat(db, lambda text: print(text, end="\n\n"), lang)
    print(f"dxbot shell ({getpass.getuser()}): gõ câu hỏi, Enter để trả lời; gõ số để chọn; Ctrl-D để thoát.")
    try:
        while True:
            try:
                line = await asyncio.to_thread(input, PROMPT)
            except EOFError:
                print()
                return
            await chat.type(line)
    finally:
        await chat.conversation.catalog.close()
