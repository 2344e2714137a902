"""The real PTB Application against the strict fake Bot API (tests/fakebot.py) without a socket: a BaseRequest that
hands every call to `FakeBotApi.handle()`, so it is validated exactly as over HTTP (HTML parse mode, lengths,
keyboards, edits, query answers...) and a refused call reaches PTB as Telegram's error (BadRequest, ...). Plus
builders for the updates Telegram would send, fed to `Application.process_update`.

A rejected call fails a test through `assert_no_unexpected_rejections()` (the `tg` fixture of tests/test_bot.py
calls it) unless the test declared it with `expect_rejection()`.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from tests.fakebot import (
    HTML_TAG_RE,
    BotApiError,
    DroppedRequest,
    FakeBotApi,
    Rejection,
    UploadedFile,
    decode_form,
    parse_api_path,
    parse_html,
)

BOT = {"id": 777000, "is_bot": True, "first_name": "dxbot", "username": "dxbot_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True}
DATE = 1_750_000_000
_NOT_FOUND = 404, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()


def chat(chat_id: int, title: str = "Nhóm lãnh đạo") -> dict[str, Any]:
    """A chat as Telegram shows it: private for positive ids, -100… supergroups, other negative ids basic groups."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Lan"}
    return {"id": chat_id, "type": "supergroup" if str(chat_id).startswith("-100") else "group", "title": title}


def user(user_id: int, language: str = "vi") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": language}


def request_params(request_data: RequestData | None) -> dict[str, Any]:
    """What the HTTP fake would parse from this request: PTB posts `json_parameters` as form fields (non-str values
    JSON-encoded) and uploads `multipart_data` as file parts."""
    if request_data is None:
        return {}
    params = decode_form(request_data.json_parameters)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()  # PTB 21.5+ may pass a file handle
        params[name] = UploadedFile(filename or name, mime_type or "application/octet-stream", bytes(data))
    return params


class InProcessTelegram(BaseRequest):
    """Records every call the bot makes as (method, params) in `calls` (accepted or not: `rejected` lists what the
    strict core refused) and answers from `api`, the FakeBotApi core, whose stored messages are `messages`."""

    def __init__(self) -> None:
        # Never started: no server thread. The token is not checked, the transport serves whichever bot it is given to.
        self.api = FakeBotApi(f"{BOT['id']}:IN-PROCESS", username=BOT["username"], first_name=BOT["first_name"])
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.files: dict[tuple[int, int], tuple[str, bytes]] = {}  # (chat, message) -> what sendPhoto/Document sent
        self._expected: list[tuple[str, str, list[Rejection]]] = []

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None: ...

    async def shutdown(self) -> None: ...

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         **_: Any) -> tuple[int, bytes]:
        route = parse_api_path(unquote(urlsplit(url).path))
        if route is None:
            return _NOT_FOUND
        is_file, _token, api_method = route
        if is_file:  # Bot.get_file(...).download_*: the bytes getFile pointed to
            stored = self.api.download(api_method)
            return (200, stored.data) if stored is not None else _NOT_FOUND
        params = request_params(request_data)
        self.calls.append((api_method, params))
        try:
            if api_method.lower() == "getupdates":  # a long poll blocks: keep it off the event loop
                status, body = await asyncio.to_thread(self.api.handle, api_method, params)
            else:
                status, body = self.api.handle(api_method, params)
        except DroppedRequest:
            raise TimedOut("injected timeout (in-process: no need to wait for it)") from None
        if status == 200 and api_method in ("sendPhoto", "sendDocument"):
            message = json.loads(body)["result"]
            media = message["photo"][-1] if "photo" in message else message["document"]
            upload = self.api.file(media["file_id"])
            self.files[(message["chat"]["id"], message["message_id"])] = (upload.filename, upload.data)
        return status, body

    # --- what the bot did --------------------------------------------------------------------------------------

    @property
    def messages(self) -> dict[tuple[int, int], dict[str, Any]]:
        """Every message by (chat_id, message_id), as Telegram holds it: the bot's with their text parsed into
        entities (the HTML the bot sent is in `calls`), the users' as the builders below made them."""
        return self.api.messages

    @property
    def rejected(self) -> list[Rejection]:
        """Calls the strict core answered with an error, in order (faults and validation alike)."""
        return self.api.rejected

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for m, params in self.calls if m == method]

    def texts(self) -> list[str]:
        """The HTML of every sendMessage/editMessageText, as the bot sent it."""
        return [p["text"] for m, p in self.calls if m in ("sendMessage", "editMessageText")]

    def clear(self) -> None:
        """Forget the calls so far (not the rejections: those are checked at the end of the test)."""
        self.calls.clear()

    def expect_rejection(self, method: str, description: str) -> None:
        """The test expects Telegram to refuse `method` with an error containing `description` (at least once):
        such rejections are not unexpected, and assert_no_unexpected_rejections() fails if none happened."""
        self._expected.append((method, description, []))

    def assert_no_unexpected_rejections(self) -> None:
        unexpected = []
        for rejection in self.rejected:
            for method, description, matched in self._expected:
                if rejection.method == method and description in rejection.description:
                    matched.append(rejection)
                    break
            else:
                unexpected.append(rejection)
        lines = [f"  {r.method} {r.error_code} {r.description!r} params={_brief(r.params)}" for r in unexpected]
        lines += [f"  expected but never happened: {m} {d!r}" for m, d, matched in self._expected if not matched]
        assert not lines, "Telegram would have answered differently:\n" + "\n".join(lines)

    # --- what users do -----------------------------------------------------------------------------------------

    def message(self, chat_id: int, text: str, *, user_id: int | None = None, reply_to: dict | None = None,
                language: str = "vi", edited: bool = False, extra: dict | None = None) -> dict[str, Any]:
        """An update carrying a user's message (a command gets its bot_command entity, a mention its entity)."""
        shape = chat(chat_id)
        message: dict[str, Any] = {
            "date": DATE, "chat": self.api.set_chat(chat_id, **{k: v for k, v in shape.items() if k != "id"}),
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
        return self.api.learn({"edited_message" if edited else "message": message})

    def edit(self, update: dict[str, Any], text: str) -> dict[str, Any]:
        """The user edits the message of an earlier update: same message id, new text."""
        original = update.get("message") or update["edited_message"]
        message = {**original, "text": text, "edit_date": DATE + 5}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        else:
            message.pop("entities", None)
        return self.api.learn({"edited_message": message})

    def inline_query(self, user_id: int, query: str, language: str = "vi") -> dict[str, Any]:
        return self.api.learn({"inline_query": {
            "from": user(user_id, language), "query": query, "offset": "", "chat_type": "sender"}})

    def callback(self, message: dict[str, Any], data: str, *, user_id: int) -> dict[str, Any]:
        """A tap on a button of a message the bot sent (answerable once, like Telegram's)."""
        return self.api.learn({"callback_query": {
            "from": user(user_id), "message": message, "chat_instance": "-4242", "data": data}})

    def last_bot_message(self, chat_id: int) -> dict[str, Any]:
        return max((m for (c, _), m in self.messages.items() if c == chat_id and m["from"]["is_bot"]),
                   key=lambda m: m["message_id"])


def _brief(params: dict[str, Any]) -> str:
    return repr({k: v for k, v in params.items() if not isinstance(v, UploadedFile)})[:300]


def assert_telegram_html(text: str) -> None:
    """What the bot's HTML must be: accepted by Telegram's parse mode (the fake's parser), at most 4096 characters
    even before parsing, and every < > & outside tags escaped."""
    assert len(text) <= 4096, f"message of {len(text)} characters"
    try:
        parse_html(text)
    except BotApiError as exc:
        raise AssertionError(f"{exc.description}: {text[:200]!r}") from None
    bare = HTML_TAG_RE.sub("", text)
    assert "<" not in bare and ">" not in bare, "unescaped angle bracket"
    assert not re.search(r"&(?!(?:lt|gt|amp|quot|#\d+|#[xX][0-9a-fA-F]+);)", bare), "unescaped ampersand"
