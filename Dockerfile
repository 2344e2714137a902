# dxbot: the bot on embedded SQLite (or DXBOT_DATABASE_URL), migrations applied at start by `dxbot run`.
#
# The base is pinned by tag to the Python minor version the tests run on (tests/test_deploy.py checks it).
# For byte-for-byte reproducible builds pin the digest too, e.g.
#   FROM python:3.11.17-slim-bookworm@sha256:<digest>
# (`docker buildx imagetools inspect python:3.11.17-slim-bookworm` prints it); then base-image security fixes
# arrive only when the digest is bumped, so bump it on a schedule.
FROM python:3.11.17-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DXBOT_STATE_DIR=/var/lib/dxbot \
    MPLCONFIGDIR=/tmp/matplotlib

# Tesseract reads scanned decisions and photos of printed tables (Vietnamese data). Versions are not pinned:
# Debian's stable suite only publishes security fixes, and an exact pin breaks the build as soon as one lands
# (the old version is dropped from the archive); the base tag above fixes the Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-vie \
    && rm -rf /var/lib/apt/lists/*

# Numeric uid/gid, so that `runAsNonRoot`-style checks and host volume permissions can rely on them.
RUN groupadd --system --gid 10001 dxbot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin dxbot \
    && install -d -o dxbot -g dxbot -m 0750 /var/lib/dxbot

WORKDIR /src

# Dependencies first, from the hash-pinned lock (pip-compile, see README): this layer is rebuilt only when the
# lock changes, not on every source edit, and pip refuses any file whose hash differs.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

# Then the project itself, without touching the locked dependencies. A regular (non-editable) install:
# data/ and alembic/ travel inside the package (see pyproject.toml's force-include).
COPY pyproject.toml README.md ./
COPY dxcore ./dxcore
COPY bot ./bot
COPY data ./data
COPY alembic ./alembic
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf /src

WORKDIR /var/lib/dxbot
USER 10001:10001
VOLUME ["/var/lib/dxbot"]

# /healthz, /readyz, /metrics (DXBOT_HTTP_PORT, 8080) and, in webhook mode, the webhook (dxbot run --port).
# They listen on 127.0.0.1 unless DXBOT_HTTP_LISTEN=0.0.0.0 (needed to publish the port; see deploy/compose.yaml).
EXPOSE 8080

# Docker runs the check inside the container, so 127.0.0.1 reaches the endpoints whatever DXBOT_HTTP_LISTEN says
# (0.0.0.0 or the default). /healthz answers 200 from the first moment, while the database is still awaited too;
# the start period covers DXBOT_DB_WAIT (60 s) plus migrations. The slim image has no curl: Python's urllib.
# No proxy (an HTTP(S)_PROXY meant for the Bot API must not catch 127.0.0.1). With DXBOT_HTTP_PORT=off there is
# nothing to check: run with --no-healthcheck.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; port = os.environ.get('DXBOT_HTTP_PORT', '8080'); sys.exit(0 if u.build_opener(u.ProxyHandler({})).open(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]

# dxbot run exits 0 on SIGTERM (docker stop's signal; STOPSIGNAL's default).
ENTRYPOINT ["dxbot"]
CMD ["run"]
