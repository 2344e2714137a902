"""Two `dxbot run --webhook-url …` replicas as real processes on one PostgreSQL, behind a "load balancer" that hands
them updates in turn: they behave as one bot. A pick taught through one resolves through the other, an edit on one
edits the answer the other sent, a preview made on one is published from the other, and each chat gets one alert."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import httpx

from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty
from tests.conftest import start_bot
from tests.fakebot import FakeBotApi
from tests.fakebot import call_buttons as _buttons
from tests.fakebot import call_text as _text
from tests.test_delivery import later_decision

SECRET = "replica-test-secret"
ADMIN, ASKER, FOLLOWER, GROUP = 900, 501, 502, -100900


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]




def _to(chat: int):
    return lambda c: c.method in ("sendMessage", "editMessageText") and str(c.params.get("chat_id")) == str(chat)


def _wait_serving(url: str, process, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while FakeBotApi.post_webhook(url, {"update_id": 1}, None, timeout=2) != 403:  # up, and refusing strangers
        assert process.poll() is None, f"replica exited with {process.returncode}"
        assert time.monotonic() < deadline, f"{url} is not serving"
        time.sleep(0.2)


async def test_two_webhook_replicas_behave_as_one_bot(pg_url: str, tmp_path: Path, seed_text: str) -> None:
    db = Database(pg_url)
    await db.prepare(load_shipped_if_empty)
    await db.close()
    ports = [_free_port(), _free_port()]
    urls = [f"http://127.0.0.1:{port}/hook" for port in ports]
    env = {"DXBOT_DATABASE_URL": pg_url, "DXBOT_WEBHOOK_SECRET": SECRET, "DXBOT_ADMIN_IDS": str(ADMIN),
           "DXBOT_QUIET_HOURS": "off"}
    with FakeBotApi() as fake:
        replicas = [start_bot(fake, tmp_path, "--webhook-url", "https://dxbot.example/hook", "--listen", "127.0.0.1",
                              "--port", str(port), **env) for port in ports]
        try:
            for url, process in zip(urls, replicas):
                _wait_serving(url, process)
            # Without the secret, or with a wrong one, a replica refuses the update.
            assert FakeBotApi.post_webhook(urls[0], {"update_id": 2, "message": {}}, "wrong") == 403
            # The webhook's server answers the probes too (Telegram's reachability is not a replica's readiness).
            for port in ports:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
                assert ready.status_code == 200 and ready.json()["status"] == "ready"
                assert 'dxbot_build_info{version="' in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text

            # A pick taught through one replica resolves through the other: question and probes go to replica 0,
            # the tap to replica 1, so only the database can carry what was learned.
            fake.deliver_webhooks(urls[:1], SECRET)
            mark = fake.mark()
            fake.push_message(ASKER, "Sở KH")
            choices = fake.wait_for(lambda c: _to(ASKER)(c) and _buttons(c), timeout=20, since=mark)
            pick = next(b for b in _buttons(choices) if b["text"] == "Sở Khoa học và Công nghệ")
            fake.deliver_webhooks(urls[1:], SECRET)
            mark = fake.mark()
            fake.push_callback(ASKER, choices.result["message_id"], pick["callback_data"])
            fake.wait_for(lambda c: c.method == "editMessageText" and "95,88%" in _text(c), timeout=20, since=mark)
            fake.deliver_webhooks(urls[:1], SECRET)
            deadline = time.monotonic() + 15
            while True:  # replica 0 sees the new alias at its next catalog check (every 3 s)
                mark = fake.mark()
                fake.push_message(ASKER, "Sở KH")
                reply = fake.wait_for(_to(ASKER), timeout=20, since=mark)
                if "95,88%" in _text(reply):
                    break
                assert time.monotonic() < deadline, "the learned pick never reached the other replica"
                time.sleep(0.5)
            fake.deliver_webhooks(urls, SECRET)  # from here on, updates alternate between the replicas

            # An edit reaching the other replica edits the answer the first one sent.
            mark = fake.mark()
            fake.push_message(FOLLOWER, "so y te")
            answer = fake.wait_for(_to(FOLLOWER), timeout=20, since=mark)
            time.sleep(1)  # the answer is linked to its question right after it is sent
            mark = fake.mark()
            fake.push_edited_message(FOLLOWER, fake.last_user_message(FOLLOWER)["message_id"], "so tai chinh")
            edited = fake.wait_for(lambda c: c.method == "editMessageText", timeout=20, since=mark)
            assert str(edited.params["message_id"]) == str(answer.result["message_id"]) and \
                "Sở Tài chính" in _text(edited)

            # A command repeated in a group moments later, on the other replica, gets a pointer.
            mark = fake.mark()
            fake.push_message(GROUP, "/thongke", user_id=ASKER, chat_type="supergroup")
            first = fake.wait_for(_to(GROUP), timeout=20, since=mark)
            time.sleep(1)  # the answer is linked to its question right after it is sent
            mark = fake.mark()
            fake.push_message(GROUP, "/thongke", user_id=FOLLOWER, chat_type="supergroup")
            pointer = fake.wait_for(_to(GROUP), timeout=20, since=mark)
            assert "Câu trả lời vừa gửi ở trên" in _text(pointer)
            replied = pointer.params["reply_parameters"]
            replied = json.loads(replied) if isinstance(replied, str) else replied
            assert int(replied["message_id"]) == first.result["message_id"]

            # Subscriptions on both, a preview on one, Publish tapped on the other: one alert per chat.
            for chat in (ASKER, FOLLOWER):
                mark = fake.mark()
                fake.push_message(chat, "/dangky tatca")
                fake.wait_for(lambda c, chat=chat: _to(chat)(c) and "Đã đăng ký" in _text(c), timeout=20, since=mark)
            mark = fake.mark()
            fake.push_document(ADMIN, later_decision(seed_text), "qd-2001.txt")
            preview = fake.wait_for(lambda c: _to(ADMIN)(c) and _buttons(c), timeout=30, since=mark)
            publish = next(b for b in _buttons(preview) if b["text"] == "Công bố")
            fake.push_callback(ADMIN, preview.result["message_id"], publish["callback_data"], user_id=ADMIN)
            fake.wait_for(lambda c: c.method == "editMessageText" and "Đã công bố" in _text(c), timeout=30)
            fake.wait_for(lambda c: _to(ADMIN)(c) and "Đã gửi xong" in _text(c), timeout=30)
            time.sleep(2)  # a second alert, were there one, would have had time to go out
        finally:
            for process in replicas:
                process.send_signal(signal.SIGTERM)
            for process in replicas:
                process.wait(timeout=30)
        alerts = [c for c in fake.sent() if "đã được công bố" in _text(c)]
        assert sorted(int(c.params["chat_id"]) for c in alerts) == [ASKER, FOLLOWER]
        receipts = [c for c in fake.sent() if "Đã gửi xong" in _text(c)]
        assert len(receipts) == 1
        assert set(fake.webhook_statuses) == {200}
    for i, process in enumerate(replicas):
        err = (tmp_path / f"bot-{i}.err").read_text()
        assert process.returncode == 0 and "Traceback" not in err, err

