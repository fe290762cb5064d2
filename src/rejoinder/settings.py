"""Every setting, typed, from REJOINDER_* variables or a TOML file; built once, passed in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from rejoinder.core.addresses import parse_networks


class Settings(BaseSettings):
    """The server's settings. Each field's description feeds `rejoinder settings` and the docs."""

    model_config = SettingsConfigDict(env_prefix="REJOINDER_", extra="forbid")

    database_url: str = Field(
        "sqlite:///./rejoinder.db",
        description="SQLAlchemy URL: sqlite:///PATH or postgresql+psycopg://user@host/db.",
    )
    redis_url: str | None = Field(
        None,
        description="Redis URL; when set, workers share cache invalidation, the request "
        "limits and live updates through it.",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or CIDR networks of the reverse proxies in "
        "front of the server. Only a request from one of them has its client address taken "
        "from X-Forwarded-For or Forwarded (walked from the right, past every trusted hop); "
        "any other request is its socket's peer. Empty: the peer, always.",
    )
    secret_key: str | None = Field(
        None,
        description="Signs cookies. Unset: a random key is made once and kept in the database.",
    )
    site_title: str = Field("Rejoinder", description="Title of the default site.")
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public address, used in feeds and absolute links."
    )
    host: str = Field("127.0.0.1", description="Address `rejoinder serve` listens on.")
    port: int = Field(8000, description="Port `rejoinder serve` listens on.")
    workers: int = Field(
        default_factory=lambda: _default_workers(os.cpu_count() or 1),
        ge=1,
        description="Worker processes for `rejoinder serve` (default: one per core, up to 4; "
        "one on two cores or fewer).",
    )
    body_max: int = Field(5000, ge=1, description="Longest comment, in characters.")
    display_depth: int = Field(
        5, ge=2, description="Reply levels shown; deeper replies show at the last level."
    )
    edit_window_minutes: int = Field(
        15, ge=0, description="How long a commenter may edit or delete their own comment."
    )
    page_size: int = Field(50, ge=1, le=500, description="Top-level comments per page.")
    moderation: bool = Field(
        True,
        description="Judge new comments with the moderation pipeline (off: validation only).",
    )
    moderation_model: bool = Field(
        True, description="Score comments with the local model shipped in the package."
    )
    moderation_blind_groups: bool = Field(
        False,
        description="The model scores each comment with every group of people it names "
        "replaced by one neutral word, so the same sentence gets the same score whoever it "
        "names; off by default, since the shipped model, trained reading the names, then "
        "misses more hate (docs/MODEL.md, Fairness across groups). Not with a site's own "
        "model.",
    )
    retention_days: int = Field(
        30,
        ge=1,
        description="Days the personal data (name, address, website, network hashes, text) of "
        "refused submissions and of held and rejected comments is kept before a daily purge "
        "(and `rejoinder privacy purge`) deletes it; the audit entries stay, marked erased.",
    )
    erasure: Literal["remove", "anonymise"] = Field(
        "remove",
        description="What erasing a commenter's data does to their comments: remove (the text "
        'and the writer go; a comment with replies keeps its place as "[deleted]") or '
        "anonymise (the text stays, without its writer's name, address or website).",
    )
    header_timeout: int = Field(
        10,
        ge=1,
        description="Seconds a client has to send a request's line and headers, counted from "
        "connecting or from the request's first byte; then the connection is closed.",
    )
    body_timeout: int = Field(
        30,
        ge=1,
        description="Seconds a client has to send a request's whole body once its headers are "
        "in; then the connection is closed.",
    )
    keepalive_timeout: int = Field(
        5, ge=1, description="Seconds an idle connection is kept open between two requests."
    )
    max_connections: int = Field(
        # Each open page holds a live stream (a connection) for as long as it is open: room
        # for `max_streams` of them and as many ordinary connections again.
        4096,
        ge=1,
        description="Open connections per worker. At the limit a new connection closes the "
        "longest-idle one, else the slowest to send its headers, else is answered 503.",
    )
    max_streams: int = Field(
        2048,
        ge=0,
        description="Live update streams (Server-Sent Events) open at once per worker; past "
        "it a new stream is answered 503 and the page retries. Keep it under max_connections; "
        "0 turns live updates off.",
    )
    sqlite_synchronous: Literal["normal", "full"] = Field(
        "normal",
        description="SQLite's synchronous pragma. normal: a commit survives the process being "
        "killed, not a power cut; full: it survives both, and each commit waits for the disk.",
    )
    admin_token: str | None = Field(
        None,
        description="Bearer token for publishing articles through the API: a bootstrap, "
        "before any desk account exists. An admin's own API token (rejoinder token add) "
        "publishes too, on that admin's sites only, and the audit log names the admin.",
    )
    metrics_token: str | None = Field(
        None,
        description="Bearer token that /metrics asks for. Unset: /metrics answers only "
        "clients on this host (127.0.0.1, ::1, as found behind trusted_proxies).",
    )
    migrate_on_start: bool = Field(
        True, description="Apply database migrations when the app starts."
    )
    secure_cookies: bool | None = Field(
        None,
        description="Mark cookies Secure, so browsers send them only over HTTPS; unset, they "
        "are Secure when the base URL is https://.",
    )
    config_file: Path | None = Field(
        None, description="Optional TOML file with any of these settings (lower-case keys)."
    )
    password_hashing: Literal["standard", "test-only"] = Field(
        "standard",
        description="How desk passwords are hashed: 'standard' is argon2id with RFC 9106's "
        "low-memory parameters (64 MiB, 3 passes; about 0.25 s of CPU per log-in); "
        "'test-only' is argon2's cheapest, for test suites, and protects nothing.",
    )
    cache_dir: str = Field(
        "",
        description="Folder where a start keeps what the next start can reuse (the compiled "
        "phrase patterns, about 1 MB; after a site model's first training, the shipped "
        "examples' features, about 5 MB; `rejoinder moderation prepare` makes both ahead). "
        "Empty: $XDG_CACHE_HOME/rejoinder or ~/.cache/rejoinder; 'off': keep nothing.",
    )
    smtp_host: str | None = Field(
        None,
        description="SMTP server that mail is sent through. Unset: Rejoinder sends no mail and "
        'offers none (no "Notify me of replies" box; the API\'s notify_replies is ignored).',
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls",
        description="starttls: plain connection upgraded with STARTTLS (port 587); tls: TLS "
        "from the first byte (port 465); none: no encryption (a relay on this host only).",
    )
    smtp_user: str | None = Field(None, description="SMTP user name, when the server asks.")
    smtp_password: SecretStr | None = Field(
        None, description="SMTP password; never logged or stored with a message."
    )
    smtp_from: str = Field(
        "Rejoinder <rejoinder@localhost>",
        description="Sender of every mail (From:), as a name and address.",
    )
    smtp_timeout: int = Field(
        30, ge=1, description="Seconds one SMTP conversation may take before it is retried."
    )
    outbox_attempts: int = Field(
        8,
        ge=1,
        description="Tries per outbox message (with a growing, jittered pause between them) "
        "before it is marked failed.",
    )
    outbox_lease_seconds: int = Field(
        120,
        ge=2,
        description="How long a worker holds a message it is sending; a message still held "
        "after that (its worker died) is tried again. Keep it above smtp_timeout.",
    )
    outbox_sender: Literal["worker", "process"] = Field(
        "worker",
        description="Where the outbox's messages are delivered from. worker: each app process "
        "runs a sender of its own (an app served without `rejoinder serve`). process: the "
        "workers only queue them; `rejoinder serve` sets this and runs one sender process for "
        "the host beside its workers.",
    )
    webhooks_allow_private: bool = Field(
        False,
        description="Let webhook endpoints be on this host or a private network (loopback, "
        "10/8, 192.168/16, link-local with cloud metadata, multicast, ...). Off: a URL naming "
        "such an address (however spelled), or a name resolving to one, is refused when saved, "
        "and each delivery connects only to an address it has resolved and checked.",
    )
    webhooks_timeout: int = Field(
        10, ge=1, le=60, description="Seconds a webhook endpoint has to answer one delivery."
    )
    webhooks_pause_after: int = Field(
        10,
        ge=1,
        description="Failed deliveries in a row after which a webhook endpoint is paused "
        "(once the first of them is webhooks_pause_minutes old); its site's admins are told.",
    )
    webhooks_pause_minutes: int = Field(
        60,
        ge=0,
        description="How long an endpoint must have been failing, at the least, before it is "
        "paused: a short outage pauses nothing.",
    )

    notify_digest_minutes: int = Field(
        15,
        ge=0,
        le=1440,
        description="Reply notifications are gathered per reader and discussion for this many "
        "minutes after the first reply, then sent as one mail (so at most one mail per "
        "discussion in that time); 0 sends each reply's at once.",
    )

    @property
    def mail_enabled(self) -> bool:
        """Whether Rejoinder sends (and so offers) mail: an SMTP host is set."""
        return bool(self.smtp_host and self.smtp_host.strip())

    @property
    def cache_folder(self) -> Path | None:
        """The cache folder as set, or the user's cache folder; None when switched off."""
        value = self.cache_dir.strip()
        if value.lower() == "off":
            return None
        if value:
            return Path(value).expanduser()
        xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
        return (Path(xdg) if xdg else Path.home() / ".cache") / "rejoinder"

    @property
    def cookies_secure(self) -> bool:
        """Whether cookies are marked Secure: as set, or when the site is served over HTTPS."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.base_url.startswith("https://")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # ValueError names the entry that is not a network
        return value

    @field_validator("smtp_from")
    @classmethod
    def _one_address(cls, value: str) -> str:
        from email.utils import parseaddr

        if any(c in value for c in "\r\n\0") or "@" not in parseaddr(value)[1]:
            raise ValueError("smtp_from must be one address, as 'Name <user@host>' or 'user@host'")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return value

    @field_validator("sqlite_synchronous", "smtp_security", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = os.environ.get("REJOINDER_CONFIG_FILE")
        if toml:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml)))
        return tuple(sources)


def _default_workers(cores: int) -> int:
    # A worker per core, up to 4, except on two cores or fewer, where one serves. There a
    # second worker posts faster (bench/moderation.py: 128 against 77 comments/s, the model
    # shared between forked workers, `cli/serve.py`), but a server takes about 300 MB (sum of
    # Pss) against 110-125, over the 150 MB goal; it starts later; and without Redis, which
    # the default SQLite setup does not have, live updates would reach only the readers on
    # the worker that took the post (docs/DEPLOYMENT.md).
    return 1 if cores <= 2 else min(cores, 4)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and REJOINDER_CONFIG_FILE), then `overrides`."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting: the CLI and the docs print it."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "computed" if field.default_factory else repr(field.default)
        rows.append((f"REJOINDER_{name.upper()}", default, field.description or ""))
    return rows
