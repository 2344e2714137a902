"""`dxbot run` as a real process against the fake Bot API over HTTP: question in, answer out, a button tap, an
inline query, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.conftest import running_bot
from tests.fakebot import FakeBotApi
from tests.fakebot import call_text as _text

USER = 5151



def test_polling_bot_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    with FakeBotApi() as fake:
        with running_bot(fake, tmp_path) as process:
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

            mark = fake.mark()
            fake.push_inline_query(USER, "ninh kieu", language_code="en")
            inline = fake.wait_for("answerInlineQuery", timeout=20, since=mark)
            results = inline.params["results"]
            results = json.loads(results) if isinstance(results, str) else results
            (card,) = results
            assert card["title"] == "UBND quận Ninh Kiều (district level, 2023)"
            assert "Rank: 6/9" in card["input_message_content"]["message_text"]
            assert "start=u_" in card["reply_markup"]["inline_keyboard"][0][0]["url"]
            assert not [r for r in fake.rejected if r.method == "answerInlineQuery"]

            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    err = (tmp_path / "bot-0.err").read_text()
    assert process.returncode == 0, err
    assert "Traceback" not in err
