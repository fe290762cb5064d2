"""`/metrics` in the Prometheus text format, and the middleware that counts every request.

Who may read it: with `REJOINDER_METRICS_TOKEN` set, a request bearing that token; without
it, only a client on this host (a loopback address, as `web/addresses.py` finds the client
behind trusted proxies). What it shows is counts and times by route template, verdict and
cache: no address, email, text or secret.
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rejoinder import metrics
from rejoinder.usecases.outbox import outbox_counts
from rejoinder.web.addresses import client_host
from rejoinder.web.errors import ApiError

router = APIRouter()


def _route_label(scope: Scope) -> str:
    """The template of the route that answered (`/articles/{slug}`), or one label for every
    path no route knows: raw paths would make a label value per URL anyone cares to send."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path + "/{path}" if isinstance(route, Mount) else path
    # A mounted app (the static files) is named by where it is mounted, which routing
    # leaves as the request's root path.
    outer = scope.get("app_root_path", "")
    root = scope.get("root_path", "")
    if "endpoint" in scope and isinstance(root, str) and root != outer:
        return root[len(outer) :] + "/{path}"
    return metrics.UNMATCHED_ROUTE


class RequestMetrics:
    """Counts each HTTP request by route template, method and status class, and times it to
    its response head. Counted as the head is sent, so a client that has its answer finds it
    counted; a request that fails before answering counts as a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = metrics.method_label(scope["method"])
        counted = False

        def count(status: int) -> None:
            nonlocal counted
            counted = True
            route = _route_label(scope)
            metrics.HTTP_SECONDS.labels(route=route, method=method).observe(
                time.perf_counter() - started
            )
            metrics.HTTP_REQUESTS.labels(
                route=route, method=method, status=metrics.status_class(status)
            ).inc()

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start" and not counted:
                count(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except BaseException:
            if not counted:
                count(500)
            raise


def _may_read(request: Request) -> None:
    token: str | None = request.app.state.runtime.settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            raise ApiError(
                401,
                "The metrics need the metrics token (Authorization: Bearer).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return
    try:
        local = ipaddress.ip_address(client_host(request)).is_loopback
    except ValueError:
        local = False
    if not local:
        raise ApiError(
            403, "The metrics are shown only to this host unless a metrics token is set."
        )


@router.get("/metrics", include_in_schema=False)
async def show_metrics(request: Request) -> Response:
    _may_read(request)
    # Reading every worker's files is file I/O: off the event loop.
    rt = request.app.state.runtime
    # The outbox's depth (mail and webhook deliveries), from the database.
    counts = await run_in_threadpool(outbox_counts, rt.db)
    body = await run_in_threadpool(metrics.exposition, counts)
    return Response(body, media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})
