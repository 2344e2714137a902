"""An in-process Bot API for the real PTB Application: a BaseRequest that records every call and answers with
realistic JSON (PTB's own test seam), and builders for the updates Telegram would send."""

from __future__ import annotations

import itertools
import json
from html.parser import HTMLParser
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT = {"id": 777000, "is_bot": True, "first_name": "dxbot", "username": "dxbot_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True}
DATE = 1_750_000_000


def chat(chat_id: int, title: str = "Nhóm lãnh đạo") -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Lan"}
    return {"id": chat_id, "type": "supergroup", "title": title}


def user(user_id: int, language: str = "vi") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": language}


class InProcessTelegram(BaseRequest):
    """Records (method, params) and keeps the messages it "sent", so callbacks and replies can refer to them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.files: dict[tuple[int, int], tuple[str, bytes]] = {}
        self._ids = itertools.count(1000)
        self._updates = itertools.count(1)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None: ...

    async def shutdown(self) -> None: ...

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         **_: Any) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append((api_method, params))
        result: Any = True
        if api_method == "getMe":
            result = BOT
        elif api_method == "editMessageText" and "text" not in self.messages.get(
                (int(params["chat_id"]), int(params["message_id"])), {"text": ""}):
            return 400, json.dumps({"ok": False, "error_code": 400,
                                    "description": "Bad Request: there is no text in the message to edit"}).encode()
        elif api_method in ("sendMessage", "editMessageText"):
            result = self._message(api_method, params)
        elif api_method == "editMessageCaption":
            result = self.messages[(int(params["chat_id"]), int(params["message_id"]))]
            result["caption"] = params.get("caption", "")
        elif api_method in ("sendPhoto", "sendDocument"):
            result = self._file_message(api_method, params, request_data)
        elif api_method == "getUpdates":
            result = []
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _message(self, api_method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message_id = int(params["message_id"]) if api_method == "editMessageText" else next(self._ids)
        message = {"message_id": message_id, "date": DATE, "chat": chat(chat_id), "from": BOT, "text": params["text"]}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        replied = (params.get("reply_parameters") or {}).get("message_id")
        if replied and (chat_id, replied) in self.messages:
            message["reply_to_message"] = self.messages[(chat_id, replied)]
        if api_method == "editMessageText" and (chat_id, message_id) in self.messages:
            message["reply_to_message"] = self.messages[(chat_id, message_id)].get("reply_to_message")
        self.messages[(chat_id, message_id)] = message
        return message

    def _file_message(self, api_method: str, params: dict[str, Any], request_data: RequestData) -> dict[str, Any]:
        """A photo or document: its bytes are kept in ``files`` under the message, the caption is its text."""
        (name, (filename, data, _mime)), = request_data.multipart_data.items()
        chat_id, message_id = int(params["chat_id"]), next(self._ids)
        self.files[(chat_id, message_id)] = (filename, data)
        message = {"message_id": message_id, "date": DATE, "chat": chat(chat_id), "from": BOT,
                   "caption": params.get("caption", "")}
        if api_method == "sendPhoto":
            message["photo"] = [{"file_id": f"p{message_id}", "file_unique_id": f"p{message_id}", "width": 1,
                                 "height": 1}]
        else:
            message["document"] = {"file_id": f"d{message_id}", "file_unique_id": f"d{message_id}",
                                   "file_name": filename}
        self.messages[(chat_id, message_id)] = message
        return message

    # --- what the bot did --------------------------------------------------------------------------------------

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for m, params in self.calls if m == method]

    def texts(self) -> list[str]:
        return [p["text"] for m, p in self.calls if m in ("sendMessage", "editMessageText")]

    def clear(self) -> None:
        self.calls.clear()

    # --- what users do -----------------------------------------------------------------------------------------

    def message(self, chat_id: int, text: str, *, user_id: int | None = None, reply_to: dict | None = None,
                language: str = "vi", edited: bool = False, extra: dict | None = None) -> dict[str, Any]:
        """An update carrying a user's message (a command gets its bot_command entity, a mention its entity)."""
        message_id = next(self._ids)
        message: dict[str, Any] = {
            "message_id": message_id, "date": DATE, "chat": chat(chat_id),
            "from": user(user_id or abs(chat_id), language), "text": text,
        }
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        mention = f"@{BOT['username']}"
        if mention in text:
            entities.append({"type": "mention", "offset": len(text[: text.index(mention)].encode("utf-16-le")) // 2,
                             "length": len(mention)})
        if entities:
            message["entities"] = entities
        if reply_to:
            message["reply_to_message"] = reply_to
        if extra:
            message.update(extra)
        if edited:
            message["edit_date"] = DATE + 5
        self.messages[(chat_id, message_id)] = message
        return {"update_id": next(self._updates), "edited_message" if edited else "message": message}

    def edit(self, update: dict[str, Any], text: str) -> dict[str, Any]:
        """The user edits the message of an earlier update: same message id, new text."""
        original = update.get("message") or update["edited_message"]
        message = {**original, "text": text, "edit_date": DATE + 5}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        else:
            message.pop("entities", None)
        self.messages[(original["chat"]["id"], original["message_id"])] = message
        return {"update_id": next(self._updates), "edited_message": message}

    def inline_query(self, user_id: int, query: str, language: str = "vi") -> dict[str, Any]:
        return {"update_id": next(self._updates), "inline_query": {
            "id": str(next(self._ids)), "from": user(user_id, language), "query": query, "offset": "",
            "chat_type": "sender"}}

    def callback(self, message: dict[str, Any], data: str, *, user_id: int) -> dict[str, Any]:
        """A tap on a button of a message the bot sent."""
        return {"update_id": next(self._updates), "callback_query": {
            "id": str(next(self._ids)), "from": user(user_id), "message": message,
            "chat_instance": "-4242", "data": data,
        }}

    def last_bot_message(self, chat_id: int) -> dict[str, Any]:
        return max((m for (c, _), m in self.messages.items() if c == chat_id and m["from"]["is_bot"]),
                   key=lambda m: m["message_id"])


class _TelegramHtml(HTMLParser):
    """Checks what Telegram's HTML parse mode accepts: a few tags, properly nested, entities escaped."""

    ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
               "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        assert tag in self.ALLOWED, f"tag <{tag}> is not Telegram HTML"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"</{tag}> closes nothing"


def assert_telegram_html(text: str) -> None:
    assert len(text) <= 4096, f"message of {len(text)} characters"
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    assert not parser.stack, f"unclosed tags {parser.stack}"
    bare = text
    for tag in _TelegramHtml.ALLOWED:
        bare = bare.replace(f"<{tag}>", "").replace(f"</{tag}>", "")
    assert "<" not in bare and ">" not in bare, "unescaped angle bracket"
