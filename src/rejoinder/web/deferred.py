"""Routes made on first use: a placeholder in the app's route list that stands for a group of
modules under some path prefixes, imports them when a request first reaches one of those
prefixes (or when asked, e.g. from a background thread after the worker listens), and puts
their routes where it stood.

FastAPI builds a route when its module is imported (its parameters, body and response models):
for the desk's, the JSON API's and the widget's routes together, about a third of a worker's
start. A reader's first page and a health check need none of them; a placeholder stands for
each group, so the app knows where their routes go before they exist."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Match, NoMatchFound, Router
from starlette.types import Receive, Scope, Send


class DeferredRoutes(BaseRoute):
    """Stands in `router.routes` for the routes that `load` returns, for every path under
    `prefixes` (a prefix itself or below it, `/admin` and `/admin/…` but not `/administer`)."""

    def __init__(
        self,
        router: Router,
        prefixes: Sequence[str],
        load: Callable[[], Sequence[APIRouter]],
    ) -> None:
        self._router = router
        self._prefixes = tuple(prefix.rstrip("/") for prefix in prefixes)
        self._load = load
        self._lock = threading.Lock()
        self._routes: list[BaseRoute] | None = None

    def __repr__(self) -> str:
        return f"DeferredRoutes({', '.join(self._prefixes)})"

    @property
    def loaded(self) -> bool:
        return self._routes is not None

    def covers(self, path: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in self._prefixes)

    def load_now(self) -> list[BaseRoute]:
        """Import the modules and put their routes in this placeholder's place (once; any
        thread). The route list is replaced, not changed in place: a request that is walking
        the old list finishes on it."""
        with self._lock:
            if self._routes is None:
                routes = [route for router in self._load() for route in router.routes]
                current = self._router.routes
                at = current.index(self)
                self._router.routes = [*current[:at], *routes, *current[at + 1 :]]
                self._routes = routes
            return self._routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and self.covers(scope["path"]):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await run_in_threadpool(self.load_now)
        # The router again, now with the real routes where this one was.
        await self._router.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.load_now():
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)
