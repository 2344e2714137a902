"""The `dxbot` command line as a user runs it: exit codes, messages, no tracebacks; packaging of data/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEED


def dxbot(*args: str, cwd: Path, env: dict[str, str] | None = None,
          stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "DXBOT_STATE_DIR": str(cwd / "state"),
            "DXBOT_HTTP_PORT": "off"}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=base | {"PYTHONPATH": str(ROOT)} | (env or {}), timeout=120, input=stdin,
                          encoding="utf-8")


def test_run_without_token_says_how_to_get_one(tmp_path: Path) -> None:
    result = dxbot("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "DXBOT_TOKEN" in result.stderr and "@BotFather" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_dry_run_prints_the_seed_summary_and_stores_nothing(tmp_path: Path) -> None:
    result = dxbot("ingest", str(SEED), "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1568/QĐ-UBND of 12/7/2024, UBND thành phố Cần Thơ, results for 2023" in result.stdout
    assert "Phụ lục I, Cấp sở (so): 20 rows: Tốt 8, Khá 9, Trung bình 3, Yếu 0" in result.stdout
    assert "Phụ lục II, Cấp huyện (huyen): 9 rows: Tốt 0, Khá 4, Trung bình 5, Yếu 0" in result.stdout
    assert "dry run: valid, nothing stored" in result.stdout
    data = tmp_path / "data-without-decisions"  # the shipped data files, but no decision to load
    data.mkdir()
    for name in ("examples.toml", "vocabulary.toml", "issuers.toml", "aliases.toml"):
        (data / name).write_bytes((ROOT / "data" / name).read_bytes())
    shutil.copytree(ROOT / "data" / "messages", data / "messages")
    listing = dxbot("decisions", cwd=tmp_path, env={"DXBOT_DATA_DIR": str(data)})
    assert listing.stdout.strip() == "No decision is stored."


def test_ingest_same_again_conflict_and_replace(tmp_path: Path) -> None:
    assert "stored as a new decision" in dxbot("ingest", str(SEED), cwd=tmp_path).stdout
    again = dxbot("ingest", str(SEED), cwd=tmp_path)
    assert again.returncode == 0 and "already stored with the same content: nothing changed" in again.stdout

    changed = tmp_path / "changed.txt"
    changed.write_text(SEED.read_text(encoding="utf-8").replace("70,74%", "70,75%"), encoding="utf-8")
    refused = dxbot("ingest", str(changed), cwd=tmp_path)
    assert refused.returncode == 2 and "use --replace" in refused.stderr
    replaced = dxbot("ingest", str(changed), "--replace", cwd=tmp_path)
    assert replaced.returncode == 0 and "replaced the stored decision" in replaced.stdout


def test_decisions_seeds_an_empty_store(tmp_path: Path) -> None:
    result = dxbot("decisions", cwd=tmp_path)
    assert result.returncode == 0
    assert "1568/QĐ-UBND\tUBND thành phố Cần Thơ\tsigned 12/7/2024\tresults 2023" in result.stdout
    assert "Cấp sở 20, Cấp huyện 9\tnot published" in result.stdout


@pytest.mark.parametrize("args", [["ingest"], ["nonsense"], ["ingest", "missing-file.txt"]])
def test_usage_and_input_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = dxbot(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.strip()


def test_bad_configuration_is_reported_not_raised(tmp_path: Path) -> None:
    result = dxbot("decisions", cwd=tmp_path, env={"DXBOT_ADMIN_IDS": "12,abc"})
    assert result.returncode == 2 and "DXBOT_ADMIN_IDS" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("secret", "said"), [("", "needs DXBOT_WEBHOOK_SECRET"), ("  ", "needs DXBOT_WEBHOOK_SECRET"),
                                              ("has spaces!", "DXBOT_WEBHOOK_SECRET")])
def test_webhook_mode_refuses_a_blank_or_invalid_secret(tmp_path: Path, secret: str, said: str) -> None:
    """A blank secret would turn the webhook's check off: anyone knowing the URL could post updates."""
    result = dxbot("run", "--webhook-url", "https://bot.example/hook", cwd=tmp_path,
                   env={"DXBOT_TOKEN": "123:abc", "DXBOT_WEBHOOK_SECRET": secret})
    assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr
    # Other commands do not care about a webhook secret, even a malformed one.
    assert dxbot("decisions", cwd=tmp_path, env={"DXBOT_WEBHOOK_SECRET": secret}).returncode == 0


def test_run_says_when_the_bot_api_cannot_be_reached(tmp_path: Path) -> None:
    result = dxbot("run", cwd=tmp_path, env={"DXBOT_TOKEN": "123:abc", "DXBOT_API_BASE_URL": "http://127.0.0.1:9/bot",
                                             "DXBOT_FILE_BASE_URL": "http://127.0.0.1:9/file/bot"})
    assert result.returncode == 1 and "cannot reach the Bot API at http://127.0.0.1:9/bot" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_names_a_base_url_that_is_not_a_bot_api_server(tmp_path: Path) -> None:
    """A proxy or another service answering 404 pages is not a refused token."""
    import http.server
    import threading

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/bot"
    try:
        result = dxbot("run", cwd=tmp_path, env={"DXBOT_TOKEN": "123:abc", "DXBOT_API_BASE_URL": base,
                                                 "DXBOT_FILE_BASE_URL": base.replace("/bot", "/file/bot")})
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2, result.stderr
    said = result.stderr.splitlines()[-1]
    assert said.startswith(f"dxbot: {base} is not a Bot API server (getMe was answered with HTTP 404 and ")
    assert said.endswith("check DXBOT_API_BASE_URL") and "DXBOT_TOKEN" not in said
    assert "Traceback" not in result.stderr


def test_run_names_the_address_it_cannot_listen_on(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = dxbot("run", cwd=tmp_path, env={"DXBOT_TOKEN": "123:abc", "DXBOT_HTTP_PORT": str(port)})
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (f"dxbot: cannot listen on 127.0.0.1:{port} (DXBOT_HTTP_LISTEN, "
                                              "DXBOT_HTTP_PORT): Address already in use")


def test_wheel_ships_data_and_migrations(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("dxbot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert f"dxcore/_shipped/data/decisions/{SEED.name}" in names
    assert "dxcore/_shipped/data/issuers.toml" in names
    assert "dxcore/_shipped/alembic/env.py" in names
    assert any(n.startswith("dxcore/_shipped/alembic/versions/0001_") for n in names)


def test_watch_publishes_valid_files_and_moves_invalid_ones_aside(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "qd.txt").write_bytes(SEED.read_bytes())
    (inbox / "sai.txt").write_text(SEED.read_text(encoding="utf-8").replace("08 đơn vị", "07 đơn vị"), encoding="utf-8")
    (inbox / "notes.md").write_text("not a decision", encoding="utf-8")
    result = dxbot("watch", str(inbox), "--once", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert (inbox / "published" / "qd.txt").is_file() and (inbox / "rejected" / "sai.txt").is_file()
    report = (inbox / "rejected" / "sai.txt.errors.txt").read_text(encoding="utf-8")
    assert "sai.txt:27: Điều 1 says 7 Cấp sở units are Tốt" in report
    assert (inbox / "notes.md").is_file()  # other files are left alone
    listing = dxbot("decisions", cwd=tmp_path)
    assert "1568/QĐ-UBND" in listing.stdout and "\tpublished " in listing.stdout
