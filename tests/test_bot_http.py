"""`dxbot run` as a real process against the fake Bot API over HTTP: question in, answer out, a button tap,
and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.fakebot import FakeBotApi

USER = 5151


def _text(call) -> str:
    return str(call.params.get("text", ""))


def test_polling_bot_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    with FakeBotApi() as fake:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
               "DXBOT_STATE_DIR": str(tmp_path / "state"), **fake.env()}
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            fake.wait_for("deleteWebhook", timeout=30)  # polling is about to start
            fake.push_message(USER, "so y te hang may")
            answer = fake.wait_for(lambda c: c.method == "sendMessage" and "17/20" in _text(c), timeout=20)
            assert "70,74%" in _text(answer) and answer.params["parse_mode"] == "HTML"

            mark = fake.mark()
            fake.push_message(USER, "Sở KH")
            choices = fake.wait_for(lambda c: c.method == "sendMessage" and "reply_markup" in c.params,
                                    timeout=20, since=mark)
            markup = choices.params["reply_markup"]
            buttons = [row[0] for row in (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]]
            pick = next(b for b in buttons if b["text"] == "Sở Khoa học và Công nghệ")
            mark = fake.mark()
            fake.push_callback(USER, choices.result["message_id"], pick["callback_data"])
            fake.wait_for("answerCallbackQuery", timeout=20, since=mark)
            edited = fake.wait_for("editMessageText", timeout=20, since=mark)
            assert "95,88%" in _text(edited)

            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
