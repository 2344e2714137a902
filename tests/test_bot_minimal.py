"""The bot's first commands through the real PTB Application, with an in-process Bot API transport."""

from __future__ import annotations

import json
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.app import build_application
from dxcore.db import Database
from dxcore.settings import Settings
from dxcore.store import load_shipped_if_empty

BOT_USER = {"id": 777, "is_bot": True, "first_name": "dxbot", "username": "dxbot_test_bot"}


class RecordingRequest(BaseRequest):
    """Answers Bot API calls like Telegram would and records them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None: ...

    async def shutdown(self) -> None: ...

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, **_: Any):
        api_method = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        self.calls.append((api_method, params))
        if api_method == "getMe":
            result: Any = BOT_USER
        elif api_method == "sendMessage":
            result = {"message_id": len(self.calls), "date": 1_700_000_000, "chat": {"id": params["chat_id"], "type": "private"},
                      "text": params["text"], "from": BOT_USER}
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _command(text: str) -> dict[str, Any]:
    return {"update_id": 1, "message": {
        "message_id": 5, "date": 1_700_000_000, "chat": {"id": 42, "type": "private"},
        "from": {"id": 42, "is_bot": False, "first_name": "Lan", "language_code": "vi"},
        "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }}


async def test_start_and_decisions_commands(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    await db.prepare(load_shipped_if_empty)
    await db.close()
    request = RecordingRequest()
    application = build_application(Settings(token="123:abc", database_url=sqlite_url, _env_file=None), request)
    try:
        async with application:
            for text in ("/start", "/quyetdinh"):
                await application.process_update(Update.de_json(_command(text), application.bot))
    finally:
        await application.bot_data["db"].close()  # post_shutdown runs only under run_polling/run_webhook
    sent = [params for method, params in request.calls if method == "sendMessage"]
    assert [s["chat_id"] for s in sent] == [42, 42]
    assert "dxbot" in sent[0]["text"] and sent[0]["parse_mode"] == "HTML"
    assert "QĐ 1568/QĐ-UBND ngày 12/7/2024 của UBND thành phố Cần Thơ: kết quả năm 2023" in sent[1]["text"]
    assert "cấp sở (20 đơn vị), cấp huyện (9 đơn vị)" in sent[1]["text"]
