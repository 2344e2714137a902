# dxbot: the bot on embedded SQLite (or DXBOT_DATABASE_URL), migrations applied at start by `dxbot run`.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DXBOT_STATE_DIR=/var/lib/dxbot

# Tesseract reads scanned decisions and photos of printed tables (Vietnamese data).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-vie \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin dxbot \
    && install -d -o dxbot -g dxbot /var/lib/dxbot

# A regular (non-editable) install: data/ and alembic/ travel inside the package (see pyproject.toml).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dxcore ./dxcore
COPY bot ./bot
COPY data ./data
COPY alembic ./alembic
RUN pip install --no-cache-dir . && rm -rf /src

WORKDIR /var/lib/dxbot
USER dxbot
VOLUME ["/var/lib/dxbot"]
# Webhook mode only: dxbot run --webhook-url https://… --port 8080 (polling needs no port).
EXPOSE 8080
ENTRYPOINT ["dxbot"]
CMD ["run"]
