"""The process's Prometheus metrics, in a registry of their own so that every metric served is named ``dxbot_…``.

Callers reach the instruments through this module at call time (``metrics.ANSWERS.labels(...)``), never by copying
them, so that a benchmark can swap them for no-ops and measure what they cost.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
)

from dxcore.version import VERSION

disable_created_metrics()  # no "_created" series beside each counter: scrapers get the counts, not their birth dates
REGISTRY = CollectorRegistry(auto_describe=True)

BUILD = Info("dxbot_build", "The running dxbot", registry=REGISTRY)
BUILD.info({"version": VERSION})

ANSWERS = Counter("dxbot_answers", "Answers given to questions, commands and buttons, by answer kind and language",
                  ["kind", "lang"], registry=REGISTRY)
ANSWER_SECONDS = Histogram("dxbot_answer_seconds", "From a question's arrival to its answer handed to the messenger",
                           buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=REGISTRY)
RESOLVER = Counter("dxbot_resolver_outcomes", "Unit names resolved, by outcome (found, ambiguous, not_found)",
                   ["status"], registry=REGISTRY)
UPDATES = Counter("dxbot_updates", "Updates received from the messenger, by type", ["type"], registry=REGISTRY)
ALERTS = Counter("dxbot_alerts", "Alerts handled by the delivery worker, by result "
                 "(sent, retry, blocked, migrated, failed)", ["result"], registry=REGISTRY)
OUTBOX = Gauge("dxbot_outbox", "Alerts in the outbox that are not sent, by state (read when scraped)", ["state"],
               registry=REGISTRY)
BUDGET_WAITS = Counter("dxbot_send_budget_waits", "Sends that waited for the token's send budget, by priority",
                       ["priority"], registry=REGISTRY)
BUDGET_WAIT_SECONDS = Counter("dxbot_send_budget_wait_seconds", "Time sends spent waiting for the send budget",
                              ["priority"], registry=REGISTRY)
CATALOG_UNITS = Gauge("dxbot_catalog_units", "Units in this process's catalog", registry=REGISTRY)
CATALOG_DECISIONS = Gauge("dxbot_catalog_decisions", "Decisions in this process's catalog", registry=REGISTRY)
DATABASE_ERRORS = Counter("dxbot_database_errors", "Database operations that failed, by kind "
                          "(unreachable: connection lost or refused; other)", ["kind"], registry=REGISTRY)
BOT_API_ERRORS = Counter("dxbot_bot_api_errors", "Bot API calls that failed, by kind", ["kind"], registry=REGISTRY)
PUBLISHED = Counter("dxbot_decisions_published", "Decisions published by this process", registry=REGISTRY)

OUTBOX_STATES = ("pending", "sending", "failed")
for _state in OUTBOX_STATES:  # a series from the start, so that dashboards and alert rules see zeros
    OUTBOX.labels(_state)


_children: dict[tuple[int, tuple[str, ...]], Any] = {}


def count(metric: Counter, *labels: str) -> None:
    """``metric.labels(*labels).inc()`` for counters on every answer's path: the labelled child is looked up once
    (prometheus_client's labels() takes a lock and builds a key each time, about two thirds of the cost)."""
    key = (id(metric), labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    child.inc()


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
