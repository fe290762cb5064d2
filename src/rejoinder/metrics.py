"""Every metric `/metrics` shows, defined once (prometheus-client), and how to read them all.

A server with several workers runs prometheus-client's multiprocess mode: `rejoinder serve`
makes a private folder, names it in `PROMETHEUS_MULTIPROC_DIR` before the workers import
this module, and removes it at exit; each worker writes its values to files there and
`exposition()` sums them. Without that variable (one process: an app the tests make, or a
server whose parent imported prometheus-client first) the values live in this process and
the default registry shows them. The mode is fixed when prometheus-client is imported, so it
is read once, here, at import too.

Label values are bounded: routes are templates (`/articles/{slug}`), every unknown path is
`other`, methods outside the usual ones are `OTHER`, statuses are classes (`2xx`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))
CONTENT_TYPE = CONTENT_TYPE_LATEST

UNMATCHED_ROUTE = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "rejoinder_http_requests",
    "HTTP requests answered, by route template, method and status class.",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "rejoinder_http_request_seconds",
    "Time from a request's arrival to its response head, by route template and method.",
    ["route", "method"],
)
COMMENTS = Counter(
    "rejoinder_comments",
    "Comments posted, by the moderation's verdict: published, held or refused.",
    ["verdict"],
)
MODEL_SECONDS = Histogram(
    "rejoinder_model_seconds",
    "Time the moderation model took to score one text.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LIVE_STREAMS = Gauge(
    "rejoinder_live_streams",
    "Live update streams (Server-Sent Events) open now, over every worker.",
    multiprocess_mode="livesum",
)
CACHE_LOOKUPS = Counter(
    "rejoinder_read_cache_lookups",
    "Read-cache lookups per worker cache (api, html), by result: hit or miss.",
    ["cache", "result"],
)

OUTBOX_DELIVERIES = Counter(
    "rejoinder_outbox_deliveries",
    "Outbox delivery attempts, by kind (mail) and result: sent, retry (tried again later) or "
    "failed (given up after the last try).",
    ["kind", "result"],
)
OUTBOX_MESSAGES = "rejoinder_outbox_messages"  # a gauge read from the database at each scrape

Verdict = Literal["published", "held", "refused"]
Delivery = Literal["sent", "retry", "failed"]


def count_comment(verdict: Verdict) -> None:
    COMMENTS.labels(verdict=verdict).inc()


def count_delivery(kind: str, result: Delivery) -> None:
    OUTBOX_DELIVERIES.labels(kind=kind, result=result).inc()


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


def method_label(method: str) -> str:
    return method if method in METHODS else "OTHER"


def exposition(outbox: Mapping[str, int] | None = None) -> bytes:
    """Every metric in the Prometheus text format: summed over the workers in multiprocess
    mode, else this process's (with the default process and platform collectors); then the
    outbox's messages per state, when given (read from the database, so the same on every
    worker and not summed)."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    if outbox is None:
        return text
    depth = CollectorRegistry()
    gauge = Gauge(
        OUTBOX_MESSAGES,
        "Messages in the outbox now, by state: pending, sending, sent or failed.",
        ["state"],
        registry=depth,
    )
    for state, number in sorted(outbox.items()):
        gauge.labels(state=state).set(number)
    return text + generate_latest(depth)


def worker_exited(pid: int) -> None:
    """Drop a finished worker's live gauges from the sums (its counters stay counted)."""
    folder = os.environ.get(MULTIPROC_ENV)
    if MULTIPROCESS and folder and Path(folder).is_dir():
        multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]
