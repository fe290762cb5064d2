"""Sites: `SiteFields`, the one validated shape of a site's own fields (the CLI, the desk and
the admin API all send theirs through it), and adding, changing, listing and removing sites,
each audited and announced (`site_changed`) so that every worker reads the sites again."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rejoinder.core.errors import Conflict, Forbidden, Invalid, InvalidMany, NotFound
from rejoinder.core.models import Site
from rejoinder.events import SITE_CHANGED, Events
from rejoinder.store import accounts as account_store
from rejoinder.store import audit as audit_store
from rejoinder.store import sites as site_store
from rejoinder.store import webhooks as webhook_store
from rejoinder.store.database import Database

# The languages whose reader-facing text the project ships; a site's default is one of them.
LANGUAGES = ("en", "de")
DEFAULT_SITE = site_store.DEFAULT_SITE
ORIGINS_MAX = 50
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
FIELDS = ("name", "title", "domain", "base_url", "origins", "language")


def _plain(value: str, what: str) -> str:
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise ValueError(f"{what} has control characters or invisible formatting in it")
    return value.strip()


def _host_and_port(address: str, netloc: str, what: str) -> str:
    """The lowercase host[:port] of an http(s) address, or ValueError naming `what`."""
    if "@" in netloc:
        raise ValueError(f"{what} {address!r} has a user name or password in it; leave it out")
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        raise ValueError(
            f"{what} {address!r} has a port that is not a number from 1 to 65535"
        ) from None
    host = (parts.hostname or "").lower()
    if not host or not _HOST.match(host):
        raise ValueError(f"{what} {address!r} has no host name, or one that is not valid")
    if port == 0:
        raise ValueError(f"{what} {address!r} has a port that is not a number from 1 to 65535")
    return host if port is None else f"{host}:{port}"


def check_base_url(value: str) -> str:
    """An http(s) address with a host (a path is fine, a query or fragment is not), without
    its trailing slash."""
    value = _plain(value, "The base URL")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"The base URL {value!r} is not an http:// or https:// address")
    if not parts.netloc:
        raise ValueError(f"The base URL {value!r} has no host name")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError(f"The base URL {value!r} has a query or a fragment; leave it out")
    where = _host_and_port(value, parts.netloc, "The base URL")
    path = parts.path.rstrip("/")
    if " " in path:
        raise ValueError(f"The base URL {value!r} has a space in its path")
    return f"{parts.scheme.lower()}://{where}{path}"


def check_origin(value: str) -> str:
    """scheme://host[:port], nothing after it (a single trailing slash is forgiven)."""
    value = _plain(value, "An origin")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"The origin {value!r} is not an http:// or https:// origin with a host name"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in value:
        raise ValueError(
            f"The origin {value!r} has a path; an origin is scheme://host[:port] and no more"
        )
    return f"{parts.scheme.lower()}://{_host_and_port(value, parts.netloc, 'The origin')}"


class SiteFields(BaseModel):
    """A site's own fields, validated wherever they enter. Messages are written to be shown
    beside their field."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        max_length=60,
        description="Short name: lowercase letters, digits and single hyphens.",
        json_schema_extra={"pattern": _NAME.pattern},
    )
    title: str = Field(max_length=200, description="Shown in the masthead and feeds.")
    domain: str | None = Field(
        None, max_length=253, description="The host name whose requests belong to the site."
    )
    base_url: str | None = Field(
        None,
        max_length=500,
        description="Its public address (http or https), used in every link it gives out; "
        "null: the server's.",
    )
    origins: list[str] = Field(
        default_factory=list,
        max_length=ORIGINS_MAX,
        description="The origins (scheme://host[:port]) allowed to embed its discussions.",
    )
    language: str = Field(
        "en",
        description="Its readers' default language.",
        json_schema_extra={"enum": list(LANGUAGES)},
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "A site's name is lowercase letters and digits, with single hyphens between"
            )
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = _plain(value, "The title")
        if not value:
            raise ValueError("A site needs a title")
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = _plain(value, "The domain").lower().rstrip(".")
        if not value:
            return None
        if not _HOST.match(value) or len(value) > 253:
            raise ValueError(
                f"The domain {value!r} is not a host name (like comments.example.org, "
                "without http:// or a port)"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return check_base_url(value) if value and value.strip() else None

    @field_validator("origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        seen: dict[str, None] = {}
        for value in values:
            if value.strip():
                seen[check_origin(value)] = None
        return list(seen)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in LANGUAGES:
            raise ValueError(
                f"The language {value!r} is not one this server speaks: {', '.join(LANGUAGES)}"
            )
        return value


def read_site_fields(data: Mapping[str, Any]) -> SiteFields:
    """Validate a site's fields; InvalidMany with one message per wrong field."""
    try:
        return SiteFields.model_validate(dict(data))
    except ValidationError as error:
        errors: dict[str, Invalid] = {}
        for found in error.errors():
            loc = [str(part) for part in found["loc"]]
            field = loc[0] if loc else "name"
            if field in errors:
                continue
            errors[field] = Invalid(field, _message(field, found))
        raise InvalidMany(list(errors.values())) from None


def _message(field: str, found: Any) -> str:
    kind = str(found["type"])
    if kind == "value_error":
        message = str(found["msg"]).removeprefix("Value error, ")
    elif kind == "extra_forbidden":
        message = f"A site has no field {field!r}; its fields are {', '.join(FIELDS)}"
    elif kind == "missing":
        message = f"The site's {field.replace('_', ' ')} is missing"
    elif kind == "too_long":
        message = f"A site has at most {ORIGINS_MAX} origins"
    elif kind == "string_too_long":
        limit = found.get("ctx", {}).get("max_length")
        message = f"The {field.replace('_', ' ')} is longer than {limit} characters"
    elif field == "origins":
        message = "The origins are a list of addresses"
    else:
        message = f"The {field.replace('_', ' ')} is a string"
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def fields_of(site: Site) -> dict[str, Any]:
    """A site's fields as `SiteFields` reads them (and the API answers them)."""
    return {
        "name": site.name,
        "title": site.title,
        "domain": site.domain,
        "base_url": site.base_url,
        "origins": list(site.origins),
        "language": site.language,
    }


def site_out(site: Site) -> dict[str, Any]:
    return fields_of(site)


def _changes_note(before: Site, after: Site) -> str:
    old, new = fields_of(before), fields_of(after)
    changed = [key for key in FIELDS if old[key] != new[key]]
    return "; ".join(f"{key}: {old[key]!r} -> {new[key]!r}" for key in changed)


def _check_domain_free(conn: Any, domain: str | None, site_id: int | None) -> None:
    if domain:
        owner = site_store.get_site_for_host(conn, domain)
        if owner is not None and owner.id != site_id:
            raise Conflict(f"The domain {domain!r} belongs to the site {owner.name!r}.")


def add_site(
    db: Database,
    events: Events,
    data: Mapping[str, Any],
    *,
    actor_kind: str,
    actor: str,
    now: datetime,
) -> Site:
    """A new site, with its own articles and later its own settings and policy."""
    fields = read_site_fields(data)
    with db.write() as conn:
        if site_store.get_site(conn, fields.name):
            raise Conflict(f"A site named {fields.name!r} exists already.")
        _check_domain_free(conn, fields.domain, None)
        site = site_store.add_site(
            conn,
            fields.name,
            fields.title,
            now,
            fields.domain,
            base_url=fields.base_url,
            origins=tuple(fields.origins),
            language=fields.language,
        )
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind=actor_kind,
            actor=actor,
            action="site_add",
            site_id=site.id,
            after=f"{site.name}: {site.title}",
            data=site_out(site),
        )
    events.fire(SITE_CHANGED, site=site)
    return site


def update_site(
    db: Database,
    events: Events,
    name: str,
    changes: Mapping[str, Any],
    *,
    actor_kind: str,
    actor: str,
    now: datetime,
) -> Site:
    """Change some of a site's fields (those absent keep their values; a site keeps its name)."""
    with db.write() as conn:
        current = site_store.get_site(conn, name)
        if current is None:
            raise NotFound(f"There is no site named {name!r}.")
        if "name" in changes and changes["name"] != current.name:
            raise InvalidMany([Invalid("name", "A site keeps its name; add a new site instead.")])
        fields = read_site_fields({**fields_of(current), **changes})
        _check_domain_free(conn, fields.domain, current.id)
        site = replace(
            current,
            title=fields.title,
            domain=fields.domain,
            base_url=fields.base_url,
            origins=tuple(fields.origins),
            language=fields.language,
        )
        if site != current:
            site_store.update_site(conn, site)
            audit_store.add_entry(
                conn,
                at=now,
                actor_kind=actor_kind,
                actor=actor,
                action="site_update",
                site_id=site.id,
                before=site.name,
                after=_changes_note(current, site)[:1000],
                data=site_out(site),
            )
    if site != current:
        events.fire(SITE_CHANGED, site=site)
    return site


def remove_site(
    db: Database, events: Events, name: str, *, actor_kind: str, actor: str, now: datetime
) -> Site:
    """Remove a site that has no articles; never the default site."""
    with db.write() as conn:
        site = site_store.get_site(conn, name)
        if site is None:
            raise NotFound(f"There is no site named {name!r}.")
        if site.name == DEFAULT_SITE:
            raise Forbidden("The default site answers every host no other site claims: it stays.")
        articles = site_store.count_site_articles(conn, site.id)
        if articles:
            raise Conflict(
                f"The site {name!r} still has {articles} article{'s' if articles != 1 else ''} "
                "with their discussions; it is not removed."
            )
        # Its accounts' limits go with it: one limited to it alone would act on every site.
        only_here = [
            user.name
            for user in account_store.list_users(conn)
            if account_store.list_staff_site_ids(conn, user.id) == {site.id}
        ]
        if only_here:
            raise Conflict(
                f"The site {name!r} is the only site of {', '.join(only_here)}: give "
                "them another site (rejoinder user sites) or disable them first."
            )
        webhook_store.delete_site_endpoints(conn, site.id)  # its webhooks go with it
        site_store.delete_site(conn, site.id)
        audit_store.add_entry(
            conn,
            at=now,
            actor_kind=actor_kind,
            actor=actor,
            action="site_remove",
            site_id=site.id,
            before=f"{site.name}: {site.title}",
            data=site_out(site),
        )
    events.fire(SITE_CHANGED, site=site)
    return site


def list_sites(db: Database) -> list[Site]:
    with db.read() as conn:
        return site_store.list_sites(conn)


def get_site(db: Database, name: str) -> Site:
    with db.read() as conn:
        site = site_store.get_site(conn, name)
    if site is None:
        raise NotFound(f"There is no site named {name!r}.")
    return site
