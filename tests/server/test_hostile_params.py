"""Every parameter of every route, read from the app itself, with hostile values: the answer is
a refusal (4xx, in the error shape under /api/) or a page that says what is wrong, never a 5xx.

A new route, or a new query parameter declared on one, is covered without editing this file;
form fields are not declared on the routes, so the numeric ones are listed in FORM_FIELDS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter
from starlette.routing import BaseRoute

from tests import ERROR_KEYS, app_routes, parse_html
from tests.conftest import Databases, Server, rejoinder

PASSWORD = "correct horse battery staple"
HOSTILE = [
    "9999-12-31",  # no day after it
    "0001-01-01",
    "\u00b2",  # "²".isdigit() is True; int("²") fails
    "-1",
    "1e9",
    "9" * 10_000,  # int() refuses more than 4,300 digits
    "2147483648",  # one past what PostgreSQL's integer columns hold; SQLite would take it
    "",
    "\u00c3\u00a9\u00ef\u00bf\u00bd",  # UTF-8 read as Latin-1, as if it were not UTF-8
]
# Bytes that are not UTF-8 at all, sent as they are in the query string.
RAW_HOSTILE = ["%FF%FE", "%C3%28"]
# The numeric fields a form route parses by hand (its path, the field, the other fields).
FORM_FIELDS: list[tuple[str, str, dict[str, str]]] = [
    ("/articles/{slug}/comments", "parent_id", {"body": "Hi.", "name": "A", "email": "a@b.org"}),
    ("/admin/comments/bulk", "ids", {"action": "approve"}),
    ("/admin/models/activate", "version", {}),
    ("/admin/comments/{comment_id}/ban", "days", {"kind": "email"}),
]


@dataclass
class Param:
    route: str  # the path template, e.g. /api/v1/articles/{slug}/comments
    methods: frozenset[str]
    where: str  # "query" or "path"
    name: str

    @property
    def is_api(self) -> bool:
        return self.route.startswith("/api/")


def _params(dependant: Dependant) -> Iterator[tuple[str, str]]:
    """The query and path parameters a route declares, its dependencies' included."""
    for field in dependant.query_params:
        yield "query", field.alias
    for field in dependant.path_params:
        yield "path", field.alias
    for inner in dependant.dependencies:
        yield from _params(inner)


def _api_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Each API route with its full path, through included routers (FastAPI may keep an
    included router as one route, or flatten it)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif isinstance(included, APIRouter):
            inner = prefix + getattr(getattr(route, "include_context", None), "prefix", "")
            yield from _api_routes(included.routes, inner)


def app_params(db_url: str) -> list[Param]:
    """Every declared parameter of every route, as the server builds its app."""
    routes = list(_api_routes(app_routes(db_url)))
    found = {
        (path, frozenset(route.methods or ()), where, name)
        for path, route in routes
        for where, name in _params(route.dependant)
    }
    return [Param(*each) for each in sorted(found, key=lambda f: (f[0], f[2], f[3]))]


@dataclass
class Site:
    server: Server
    admin: httpx.Client
    token: str
    csrf: str
    slug: str
    comment_id: int

    def fill(self, template: str, hostile: tuple[str, str] | None = None) -> str:
        """The path with each {parameter} given a real value, or `hostile` (name, value)."""

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if hostile and hostile[0] == name:
                return hostile[1]
            real = {"slug": self.slug, "tab": "all", "action": "approve"}
            return real.get(name, str(self.comment_id))

        return re.sub(r"{(\w+)(?::\w+)?}", value, template)

    def call(
        self, method: str, path: str, *, query: str = "", data: dict[str, str] | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if path.startswith("/api/") else {}
        url = path + (f"?{query}" if query else "")
        if method == "GET" and path.endswith("/events"):
            # A live stream stays open: its status is the answer (a refusal's body is read).
            with self.admin.stream("GET", url, headers=headers) as response:
                if response.status_code != 200:
                    response.read()
            return response
        if method == "GET":
            return self.admin.get(url, headers=headers)
        if path.startswith("/api/"):
            return self.admin.request(method, url, headers=headers, json=data or {})
        return self.admin.request(method, url, data={"csrf": self.csrf, **(data or {})})


@pytest.fixture(scope="module")
def site(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp: Path = tmp_path_factory.mktemp("hostile")
    db_url = databases.new()
    # One client walks every route on one kept-alive connection; on a busy machine a pause
    # between two calls can outlast the server's keep-alive timeout, and a request sent as
    # the server closes the idle connection meets a reset, not an answer from the app.
    env = {"REJOINDER_KEEPALIVE_TIMEOUT": "300"}
    server = Server(db_url, env=env, log=tmp / "server.log").start()
    password = tmp / "password"
    password.write_text(PASSWORD + "\n")
    try:
        add_admin = ["user", "add", "adm", "--role", "admin", "--password-file", str(password)]
        rejoinder(*add_admin, db_url=db_url)
        token = rejoinder("token", "add", "adm", db_url=db_url).stdout.strip().splitlines()[-1]
        slug = str(server.publish()["slug"])
        with httpx.Client(base_url=server.url, timeout=30) as admin:
            comment = admin.post(
                f"/api/v1/articles/{slug}/comments",
                json={"body": "A comment to act on.", "name": "Ada", "email": "ada@example.org"},
            )
            assert comment.status_code == 201, comment.text
            [login_csrf] = parse_html(admin.get("/admin/login").text).xpath(
                '//input[@name="csrf"]/@value'
            )
            form = {"name": "adm", "password": PASSWORD, "csrf": login_csrf, "next": "/admin"}
            assert admin.post("/admin/login", data=form).status_code == 303
            [csrf] = parse_html(admin.get("/admin/published").text).xpath(
                '//form[@action="/admin/logout"]/input[@name="csrf"]/@value'
            )
            yield Site(server, admin, token, str(csrf), slug, int(comment.json()["id"]))
    finally:
        server.stop()


def check(response: httpx.Response, failures: list[str]) -> None:
    """A 5xx, or a 4xx from the API that is not in the error shape, is a failure."""
    request = response.request
    label = f"{request.method} {str(request.url)[:160]} -> {response.status_code}"
    if response.status_code >= 500:
        failures.append(label)
    elif response.status_code >= 400 and request.url.path.startswith("/api/"):
        try:
            shape = set(response.json())
        except ValueError:
            shape = set()
        if shape != ERROR_KEYS:
            failures.append(f"{label}: not the error shape: {response.text[:100]}")


def test_the_app_declares_the_parameters_this_file_relies_on(site: Site) -> None:
    """The queue filters and the audit filters are declared (so they are derived below)."""
    declared = {(p.route, p.name) for p in app_params(site.server.db_url)}
    for route, name in [
        ("/admin/all", "to"),
        ("/admin/all", "cursor"),
        ("/api/v1/admin/queues/{tab}", "from"),
        ("/admin/audit", "until"),
        ("/api/v1/admin/audit", "before"),
        ("/articles/{slug}", "replytocom"),
        ("/api/v1/articles", "offset"),
        ("/comments/{comment_id}/edit", "comment_id"),
    ]:
        assert (route, name) in declared, (route, name)


def test_every_declared_parameter_with_hostile_values_is_never_a_server_error(
    site: Site,
) -> None:
    failures: list[str] = []
    calls = 0
    for param in app_params(site.server.db_url):
        method = "GET" if "GET" in param.methods else sorted(param.methods)[0]
        if param.where == "query":
            path = site.fill(param.route)
            encoded = [httpx.QueryParams({param.name: v}) for v in HOSTILE]
            queries = [str(q) for q in encoded] + [f"{param.name}={raw}" for raw in RAW_HOSTILE]
            for query in queries:
                check(site.call(method, path, query=query), failures)
                calls += 1
        else:
            for value in [v for v in HOSTILE if v] + RAW_HOSTILE:
                path = site.fill(param.route, (param.name, value))
                check(site.call(method, path), failures)
                calls += 1
    assert calls > 500, calls  # the routes were found
    assert not failures, "\n".join(failures)


def test_hostile_numbers_in_forms_are_refused_never_a_server_error(site: Site) -> None:
    failures: list[str] = []
    for template, field, others in FORM_FIELDS:
        for value in HOSTILE:
            response = site.call("POST", site.fill(template), data={**others, field: value})
            check(response, failures)
    api_ban = site.fill("/api/v1/admin/comments/{comment_id}/ban")
    for value in HOSTILE:
        check(site.call("POST", api_ban, data={"kind": "email", "days": value}), failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/admin/queues/all", "to"),
        ("/api/v1/admin/queues/all", "from"),
        ("/api/v1/admin/audit", "until"),
        ("/api/v1/admin/audit", "since"),
        ("/api/v1/admin/audit", "comment"),
        ("/api/v1/admin/audit", "before"),
        ("/api/v1/admin/queues/held", "cursor"),
    ],
)
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "\u00b2", "9" * 10_000])
def test_the_admin_api_names_the_field_it_refuses(
    site: Site, path: str, name: str, value: str
) -> None:
    response = site.call("GET", path, query=str(httpx.QueryParams({name: value})))
    assert response.status_code == 422, response.text[:200]
    assert response.json()["field"] == name


def test_the_desk_pages_say_what_is_wrong_with_a_date(site: Site) -> None:
    # The queue shows the message over the list (and answers 200, as for any bad filter) ...
    queue = site.call("GET", "/admin/all", query="to=9999-12-31")
    assert queue.status_code == 200
    [alert] = parse_html(queue.text).xpath('//p[@role="alert"]')
    assert "2999-12-31" in alert.text_content()
    # ... the audit log beside the field, with a 422.
    audit = site.call("GET", "/admin/audit", query="until=9999-12-31")
    assert audit.status_code == 422
    [beside] = parse_html(audit.text).xpath('//p[@id="e-until"]')
    assert "2999-12-31" in beside.text_content()
