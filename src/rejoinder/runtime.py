"""Everything one running server or command needs, built once from the settings."""

from __future__ import annotations

import logging
import os
import pickle
import secrets
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rejoinder.changes import AlwaysChanged, ChangeCounter, RedisChanges, SqliteChanges
from rejoinder.classifier.meta import read_meta
from rejoinder.core.errors import NotFound
from rejoinder.core.models import Limits, Site, site_url
from rejoinder.core.moderation import ModelScore, Threshold, scores_from
from rejoinder.events import NAMES, SITE_CHANGED, Events
from rejoinder.settings import Settings
from rejoinder.store import sites as site_store
from rejoinder.store.budgets import Budgets, MemoryBudgets, RedisBudgets
from rejoinder.store.database import Database, SqliteChangeCounter
from rejoinder.store.ratebook import RedisRates
from rejoinder.usecases.accounts import use_password_hashing
from rejoinder.usecases.mail import Mail
from rejoinder.usecases.moderation import Moderator, Scorer, prepare_phrasebooks, warm_phases
from rejoinder.usecases.notify import Notifier
from rejoinder.usecases.policy import ModelPresets

if TYPE_CHECKING:
    from importlib.abc import Traversable

    from rejoinder.classifier.site_models import SiteHeads


def utcnow() -> datetime:
    """The one clock of the program; the core never reads it, it is handed the time."""
    return datetime.now(UTC)


# How often, at most, a worker reads the sites again after something was written somewhere;
# and how long it trusts them at most, whatever the change counter says (a command run without
# the server's Redis setting announces nothing).
SITES_RELOAD_SECONDS = 1.0
SITES_MAX_AGE_SECONDS = 10.0


@dataclass(frozen=True)
class _SiteIndex:
    default: Site
    by_name: dict[str, Site]
    by_host: dict[str, Site]


class SiteBook:
    """The sites as this worker knows them. Sites are few and change rarely, but another
    worker or a command may add, change or remove one at any time: after a write anywhere
    (the change counter's token moved) the book is read again, at most once every
    `SITES_RELOAD_SECONDS`, and in any case once `SITES_MAX_AGE_SECONDS` old; after a site
    change in this process (`site_changed`), at once."""

    def __init__(self, db: Database, changes: ChangeCounter, sites: list[Site], token: int) -> None:
        self._db = db
        self._changes = changes
        self._lock = threading.Lock()
        self._index = self._indexed(sites)
        self._token = token
        self._loaded_at = time.monotonic()
        self._stale = False

    @staticmethod
    def _indexed(sites: list[Site]) -> _SiteIndex:
        by_name = {site.name: site for site in sites}
        return _SiteIndex(
            default=by_name[site_store.DEFAULT_SITE],
            by_name=by_name,
            by_host={site.domain: site for site in sites if site.domain},
        )

    def mark_stale(self, *_args: Any, **_kwargs: Any) -> None:
        self._stale = True

    def is_due(self) -> bool:
        """Whether the sites should be read again before this request uses them."""
        if self._stale:
            return True
        age = time.monotonic() - self._loaded_at
        if age < SITES_RELOAD_SECONDS:
            return False
        return age >= SITES_MAX_AGE_SECONDS or self._changes.token() != self._token

    def reload(self) -> None:
        with self._lock:
            if not self.is_due():
                return  # another thread has just read them
            token = self._changes.token()  # first: a write after this moves the next token
            self._stale = False
            with self._db.read() as conn:
                sites = site_store.list_sites(conn)
            self._index = self._indexed(sites)
            self._token = token
            self._loaded_at = time.monotonic()

    @property
    def default(self) -> Site:
        return self._index.default

    def for_host(self, host: str | None) -> Site:
        """The site a request's Host belongs to; the default site for any other host."""
        if not host:
            return self._index.default
        found = self._index.by_host.get(host.split(":")[0].lower().rstrip("."))
        return found or self._index.default

    def named(self, name: str) -> Site | None:
        return self._index.by_name.get(name)

    def all(self) -> list[Site]:
        return list(self._index.by_name.values())


@dataclass
class Runtime:
    settings: Settings
    db: Database
    events: Events
    changes: ChangeCounter
    secret_key: str
    sites: SiteBook
    limits: Limits
    moderator: Moderator | None = None
    # The counts of the per-network request limits: in Redis when configured, else here.
    budgets: Budgets = field(default_factory=MemoryBudgets)
    # What writes need to put mail in the outbox; None when no SMTP host is set.
    mail: Mail | None = None
    # Reply notifications and moderators' alerts (with mail only): notices from the events,
    # made into mail by `flush_due`.
    notifier: Notifier | None = None

    @property
    def default_site(self) -> Site:
        return self.sites.default

    def site_for_host(self, host: str | None) -> Site:
        """The site a request's Host belongs to; the default site for any other host."""
        return self.sites.for_host(host)

    def site_named(self, name: str) -> Site:
        """A site by its name, read fresh (a command or another worker may just have added
        it)."""
        with self.db.read() as conn:
            site = site_store.get_site(conn, name)
        if site is None:
            raise NotFound(f"There is no site named {name!r}.")
        return site

    def site_url(self, site: Site, path: str) -> str:
        """The public address of `path` on `site` (its base URL, else the server's)."""
        return site_url(site, path, self.settings.base_url)

    def close(self) -> None:
        self.changes.close()
        self.budgets.close()
        self.db.dispose()


def model_scorer(blind_groups: bool = False) -> Scorer:
    """The shipped model as the pipeline's model phase wants it, loaded on first use
    (commands that never judge a comment never load it); with a site's heads when given;
    reading each group's name replaced when `blind_groups` (the setting)."""

    def score(
        text: str,
        heads: SiteHeads | None = None,
        preset: str | None = None,
        holds: Mapping[str, float] | None = None,
        /,
    ) -> dict[str, ModelScore]:
        from rejoinder.classifier.model import get_classifier

        # off: as the weights were trained (`meta.blind_groups`)
        blind = True if blind_groups else None
        return scores_from(get_classifier().score(text, heads, preset, holds, blind), text)

    return score


def preload_moderation(settings: Settings) -> None:
    """Load what judging needs into this process now: every phrase pattern, the phases'
    word lists and, with the model on, the model (its onnxruntime session, tokenizer and
    n-gram weights). `rejoinder serve` calls it before it forks its workers, so that they
    share these pages instead of each loading a copy of its own (the session makes no
    thread that a fork would lose: it runs on the calling thread, `classifier.encoder`)."""
    if not settings.moderation:
        return
    prepare_phrasebooks(phrasebook_shelf(settings))
    warm_phases(utcnow())
    if settings.moderation_model:
        from rejoinder.classifier.model import get_classifier

        get_classifier()


def model_presets(weights: Traversable | None = None) -> ModelPresets:
    """The shipped model's presets (read from its metadata, not by loading the model;
    `weights`: another weights folder). The model refuses on its own only a threat, and only
    where the threat head has a refuse threshold below 1 (1.0 means it only holds)."""
    meta = read_meta(weights)
    return ModelPresets(
        default=meta.preset,
        thresholds={
            name: {
                category: Threshold(
                    hold=value.hold, refuse=value.refuse if category == "threat" else None
                )
                for category, value in preset.thresholds.items()
            }
            for name, preset in meta.presets.items()
        },
        civil_aims={name: p.civil_aim for name, p in meta.presets.items()},
    )


def model_thresholds(
    weights: Traversable | None = None, preset: str | None = None
) -> dict[str, Threshold]:
    """One preset's thresholds (None: the default preset's)."""
    presets = model_presets(weights)
    return dict(presets.thresholds[preset or presets.default])


def open_database(settings: Settings) -> Database:
    """The database alone, neither migrated nor written to (for exports and migrations)."""
    return Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)


def migrate(settings: Settings) -> str | None:
    """Apply every migration the database lacks; return the revision it is at now."""
    from rejoinder.store.migrate import current, upgrade

    db = open_database(settings)
    try:
        upgrade(db)
        return current(db)
    finally:
        db.dispose()


def schema_revision(settings: Settings) -> str | None:
    """The revision the database is at (None: nothing applied yet)."""
    from rejoinder.store.migrate import current

    db = open_database(settings)
    try:
        return current(db)
    finally:
        db.dispose()


def open_runtime(settings: Settings, *, migrate: bool | None = None) -> Runtime:
    """Open the database (migrating it if asked), the default site, the secret and the signals."""
    use_password_hashing(settings.password_hashing)
    if settings.password_hashing != "standard":
        log.warning(
            "REJOINDER_PASSWORD_HASHING=%s: passwords are not protected", settings.password_hashing
        )
    db = open_database(settings)
    if settings.migrate_on_start if migrate is None else migrate:
        from rejoinder.store.migrate import upgrade

        upgrade(db)
    # A read where the database is set up already (every start but a new database's first):
    # a worker or the outbox's sender that starts then takes no write lock, so it neither
    # waits behind the posts under way nor, stalled at that moment, holds them up.
    with db.read() as conn:
        sites = site_store.list_sites(conn)
        secret = settings.secret_key or site_store.get_secret(conn, "cookie_key")
    if secret is None or not any(site.name == site_store.DEFAULT_SITE for site in sites):
        with db.write() as conn:
            site_store.ensure_default_site(conn, settings.site_title, utcnow())
            secret = settings.secret_key or site_store.get_or_add_secret(
                conn, "cookie_key", lambda: secrets.token_urlsafe(32)
            )
            sites = site_store.list_sites(conn)
    events = Events()
    changes: ChangeCounter
    if settings.redis_url:
        changes = RedisChanges(settings.redis_url)
    elif db.is_sqlite and db.url.database not in (None, "", ":memory:"):
        changes = SqliteChanges(SqliteChangeCounter(str(db.url.database)))
    else:
        changes = AlwaysChanged()

    def announce(_name: str, **_arguments: Any) -> None:
        changes.announce()

    for name in NAMES:
        events.connect(name, announce)
    book = SiteBook(db, changes, sites, changes.token())
    events.connect(SITE_CHANGED, book.mark_stale)
    moderator = None
    if settings.moderation:
        rates = RedisRates(settings.redis_url, secret) if settings.redis_url else None
        scorer, presets = None, None
        if settings.moderation_model:
            scorer, presets = model_scorer(settings.moderation_blind_groups), model_presets()
        moderator = Moderator(db, scorer, rates, presets)
    mail = Mail.from_settings(settings)
    notifier = None
    if mail is not None:
        notifier = Notifier(db, mail, digest_minutes=settings.notify_digest_minutes, clock=utcnow)
        notifier.connect(events)
    return Runtime(
        notifier=notifier,
        moderator=moderator,
        budgets=RedisBudgets(settings.redis_url) if settings.redis_url else MemoryBudgets(),
        settings=settings,
        db=db,
        events=events,
        changes=changes,
        secret_key=secret,
        sites=book,
        limits=Limits(body_max=settings.body_max),
        mail=mail,
    )


log = logging.getLogger(__name__)


class FileShelf:
    """Compiled phrasebooks kept in the cache folder between starts, one pickle per digest of
    the code and data they come from (`usecases.moderation.PhrasebookShelf`).

    A pickle runs code when read, so only a file this user owns, that no one else may write,
    in a folder no one else may write, is read; anything else, or a file that fails to read,
    is ignored and the phrasebooks are built as if nothing were kept.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, digest: str) -> Path:
        return self.folder / f"phrasebooks-{digest[:32]}-{sys.implementation.cache_tag}.pickle"

    def take(self, digest: str) -> Mapping[str, object]:
        path = self._path(digest)
        try:
            with path.open("rb") as file:
                if not (_private(os.fstat(file.fileno())) and _private(self.folder.stat())):
                    log.warning("not reading %s: another user owns it or may write it", path)
                    return {}
                books = pickle.load(file)
        except FileNotFoundError:
            return {}
        except Exception:  # a truncated or foreign file: build instead
            log.warning("could not read %s; building the phrase patterns", path, exc_info=True)
            return {}
        return books if isinstance(books, dict) else {}

    def keep(self, digest: str, books: Mapping[str, object]) -> None:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Written whole under another name, then renamed: a reader never sees half a file.
            with tempfile.NamedTemporaryFile(dir=self.folder, delete=False) as file:
                pickle.dump(dict(books), file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(file.name, self._path(digest))
        except Exception:  # a read-only home, a full disk: the next start builds again
            log.warning("could not keep the phrase patterns in %s", self.folder, exc_info=True)


def _private(status: os.stat_result) -> bool:
    return status.st_uid == os.getuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def phrasebook_shelf(settings: Settings) -> FileShelf | None:
    """Where compiled phrasebooks are kept between starts, unless the cache is switched off."""
    folder = settings.cache_folder
    return FileShelf(folder) if folder else None
