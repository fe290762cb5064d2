"""What the routes need, declared once: the runtime, the site, the reader's language and
cookies, who is at the desk, and the checks made before a handler reads its body.

Handlers name these in their signatures (``rt: RuntimeDep``, ``staff: DeskStaffDep``).
FastAPI resolves them in the order they are declared (a decorator's ``dependencies`` first),
before the handler runs and before the route's own parameters are validated: a request
without a session is sent to log in, or answered 401, whatever else is wrong with it. (A
route with a JSON body model parses that body first: text that is not JSON is a 400 even
then.) Each is ``async def``, since a plain function would run in the thread pool on every
request; those that read only the Request add nothing to the OpenAPI schema.

Desk pages want a session and redirect to /admin/login without one; the admin API takes a
bearer token (scripts) or a session, and answers 401 without either.

Every desk page and admin call acts on one site, `Staff.site`: the one named by ``?site=``
(404 when there is none, 403 when the account may not act on it), else in the desk the one
chosen with the site chooser (a cookie), else the site of the request's Host. An account
limited to some sites (`User.site_ids`) never acts on another: the desk falls back to the
first of its own, the API answers 403. A state-changing desk
request made with a session must carry the session's CSRF token (the form field ``csrf``,
see `check_csrf`, or the ``X-CSRF-Token`` header in the admin API), or it is refused with
403 and changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from rejoinder.core.errors import Forbidden, NotFound, RejoinderError
from rejoinder.core.models import Site, User
from rejoinder.runtime import Runtime, SiteBook, utcnow
from rejoinder.usecases import accounts
from rejoinder.web.cookies import Identity
from rejoinder.web.errors import ApiError
from rejoinder.web.i18n import Language, language_of

SESSION_COOKIE = "rj_desk"
SITE_COOKIE = "rj_desk_site"  # the site last chosen in the desk's site chooser
SITE_NAME_MAX = 60


async def get_runtime(request: Request) -> Runtime:
    """The runtime the app was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def fresh_sites(rt: Runtime) -> SiteBook:
    """The sites, read again first when another worker or command may have changed them."""
    if rt.sites.is_due():
        await run_in_threadpool(rt.sites.reload)
    return rt.sites


async def get_site(request: Request, rt: RuntimeDep) -> Site:
    """The site the request's Host belongs to; the default site for any other host."""
    return (await fresh_sites(rt)).for_host(request.headers.get("host"))


SiteDep = Annotated[Site, Depends(get_site)]


async def get_language(request: Request, site: SiteDep) -> Language:
    """The reader's language, for pages, fragments and the messages beside form fields."""
    return language_of(request, site)


LanguageDep = Annotated[Language, Depends(get_language)]


async def named_site(rt: Runtime, name: str | None) -> Site:
    """The default site when no name is given, else the site of that name (NotFound, 404,
    when there is none)."""
    book = await fresh_sites(rt)
    if not name:
        return book.default
    if len(name) > SITE_NAME_MAX:
        raise NotFound("There is no site with so long a name.")
    known = book.named(name)
    return known if known is not None else await run_in_threadpool(rt.site_named, name)


async def get_identity(request: Request) -> Identity:
    """The signer of the reader's cookies: the comments they may still edit, their name."""
    identity: Identity = request.app.state.identity
    return identity


IdentityDep = Annotated[Identity, Depends(get_identity)]


# Before the body.


async def require_json(request: Request) -> None:
    """A body we cannot read as JSON is refused before anything else looks at it."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, "Send the body as JSON with Content-Type: application/json.")


JsonBody = Depends(require_json)


async def read_json(request: Request) -> Any:
    """The body as JSON, for the calls that check its content themselves (415 for another
    content type, 400 for text that is not JSON)."""
    await require_json(request)
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "The request body is not valid JSON.") from error


JsonDep = Annotated[Any, Depends(read_json)]


# Who is at the desk.


class LoginRequired(Exception):
    """A desk page was asked for without a live session: the app redirects to login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Staff:
    """The person (or script) at the desk, the CSRF token their forms must carry, the sites
    they may act on and the one this request is about."""

    user: User
    csrf: str
    via_token: bool = False
    sites: tuple[Site, ...] = ()
    chosen: Site | None = None
    # Why there is no site to act on (raised only when a handler asks for `site`, so that a
    # moderator on an admin page hears "admins only" whatever site the address names).
    problem: RejoinderError | None = None

    @property
    def actor_kind(self) -> str:
        return "token" if self.via_token else "user"

    @property
    def site(self) -> Site:
        """The site this request acts on; Forbidden when the account may not act on it."""
        if self.chosen is None:
            raise self.problem or Forbidden("Name the site to act on with ?site=NAME.")
        return self.chosen


# Not constrained here: who is asking is checked first, and only then what they ask for.
SiteQuery = Annotated[
    str | None,
    Query(description="The site to act on (its name); by default the site of the Host."),
]


async def _acting_on(
    request: Request, rt: Runtime, staff: Staff, asked: str | None, *, desk: bool
) -> Staff:
    """`staff` with the sites it may act on and the one this request is about."""
    book = await fresh_sites(rt)
    user = staff.user
    mine = tuple(site for site in book.all() if user.can_act_on(site.id))
    if asked:
        try:
            return replace(staff, sites=mine, chosen=await site_for(rt, staff, asked))
        except Forbidden:
            raise  # a site the account may not act on: refused before anything else
        except RejoinderError as error:
            return replace(staff, sites=mine, problem=error)
    candidates = [book.for_host(request.headers.get("host"))]
    if desk:
        remembered = book.named(request.cookies.get(SITE_COOKIE, ""))
        candidates = [remembered, *candidates, *mine] if remembered else [*candidates, *mine]
    for site in candidates:
        if site is not None and user.can_act_on(site.id):
            return replace(staff, sites=mine, chosen=site)
    names = ", ".join(site.name for site in mine) or "none"
    return replace(
        staff,
        sites=mine,
        problem=Forbidden(
            f"Your account acts only on some sites ({names}): name one with ?site=NAME."
        ),
    )


async def _from_session(request: Request, rt: Runtime) -> Staff | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    found = await run_in_threadpool(accounts.session_user, rt.db, token, utcnow())
    return Staff(user=found[0], csrf=found[1]) if found else None


async def site_for(rt: Runtime, staff: Staff, name: str | None) -> Site:
    """The site `name` names, if the account may act on it (a limited account learns nothing
    of the sites it may not: those and unknown names alike are 403); without a name, the
    request's own site."""
    if not name:
        return staff.site
    if staff.user.is_limited:
        site = (await fresh_sites(rt)).named(name)
        if site is None or not staff.user.can_act_on(site.id):
            raise Forbidden(f"Your account does not act on the site {name[:SITE_NAME_MAX]!r}.")
        return site
    return await named_site(rt, name)


async def get_desk_session(request: Request, rt: RuntimeDep) -> Staff:
    """The logged-in person, or a redirect to the login page and back (for what concerns the
    session alone, as logging out; desk pages use `get_desk_staff`)."""
    staff = await _from_session(request, rt)
    if staff is None:
        raise LoginRequired(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
    return staff


DeskSessionDep = Annotated[Staff, Depends(get_desk_session)]


async def get_desk_staff(
    request: Request, rt: RuntimeDep, staff: DeskSessionDep, site: SiteQuery = None
) -> Staff:
    """For desk pages: the logged-in person and the site the page is about."""
    return await _acting_on(request, rt, staff, site, desk=True)


DeskStaffDep = Annotated[Staff, Depends(get_desk_staff)]


async def get_api_staff(request: Request, rt: RuntimeDep, site: SiteQuery = None) -> Staff:
    """For /api/v1/admin: a bearer token, or a desk session (then CSRF applies to writes)."""
    staff = await _api_caller(request, rt)
    return await _acting_on(request, rt, staff, site, desk=False)


async def _api_caller(request: Request, rt: Runtime) -> Staff:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = await run_in_threadpool(accounts.token_user, rt.db, header[7:].strip(), utcnow())
        if user is None:
            raise ApiError(
                401, "That API token is not valid.", headers={"WWW-Authenticate": "Bearer"}
            )
        return Staff(user=user, csrf="", via_token=True)
    staff = await _from_session(request, rt)
    if staff is None:
        raise ApiError(
            401,
            "Log in at /admin/login or send an API token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method not in ("GET", "HEAD") and not secrets.compare_digest(
        request.headers.get("x-csrf-token", ""), staff.csrf
    ):
        raise ApiError(403, "The X-CSRF-Token header is missing or wrong.")
    return staff


ApiStaffDep = Annotated[Staff, Depends(get_api_staff)]


def require_admin(staff: Staff) -> None:
    if not staff.user.is_admin:
        raise Forbidden("Only an admin can do that.")


async def get_api_admin(staff: ApiStaffDep) -> Staff:
    """For the admin calls only admins may make: as `get_api_staff`, then 403 for others."""
    require_admin(staff)
    return staff


ApiAdminDep = Annotated[Staff, Depends(get_api_admin)]


def check_csrf(staff: Staff, submitted: str) -> None:
    """A desk form's token must be the session's; otherwise nothing happens (403)."""
    if staff.via_token:
        return
    if not submitted or not secrets.compare_digest(submitted, staff.csrf):
        raise Forbidden(
            "This form has expired or did not come from the desk; reload and try again."
        )


@dataclass(frozen=True)
class Publisher:
    """Who publishes an article through the API and on which site: the settings' admin token
    (the bootstrap, before any desk account exists) or an admin's own API token."""

    site: Site
    actor_kind: str
    actor: str


async def get_publisher(request: Request, rt: RuntimeDep, site: SiteQuery = None) -> Publisher:
    """The admin token of the settings, for the site named by ``?site=`` or the Host; else a
    desk API token of an admin who may act on that site (403 for a moderator or another
    site's admin); 401 without either. Checked before the body is read."""
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    expected = rt.settings.admin_token
    if given and expected and secrets.compare_digest(given, expected):
        found = await named_site(rt, site) if site else await get_site(request, rt)
        return Publisher(site=found, actor_kind="system", actor="admin-token")
    user = await run_in_threadpool(accounts.token_user, rt.db, given, utcnow()) if given else None
    if user is None:
        raise ApiError(
            401,
            "An admin's API token (rejoinder token add) or the admin token is required: "
            "Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    staff = await _acting_on(
        request, rt, Staff(user=user, csrf="", via_token=True), site, desk=False
    )
    require_admin(staff)
    return Publisher(site=staff.site, actor_kind=staff.actor_kind, actor=user.name)


PublisherDep = Annotated[Publisher, Depends(get_publisher)]
