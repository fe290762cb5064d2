"""Turn a raw submission into clean fields, or into errors tied to those fields."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from rejoinder.core.errors import Invalid, InvalidMany
from rejoinder.core.messages import N_
from rejoinder.core.models import CleanComment, CommentInput, Limits

# C0/C1 controls and the Unicode "format" characters that hide text (bidi overrides,
# zero-width joiners at the ends); newline and tab are the only controls a comment keeps.
# Lone surrogates (a JSON "\ud800" escape) are no characters and cannot be stored as UTF-8.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# local@domain.tld, with no empty label in the domain ("a@b..org", "a@.org").
_EMAIL = re.compile(r"^[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]{2,}$")


def clean_text(value: str) -> str:
    """NFC, one kind of newline, no control characters."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    return unicodedata.normalize("NFC", value)


def clean_line(value: str) -> str:
    """A one-line field: cleaned, newlines and tabs become spaces, trimmed."""
    return " ".join(clean_text(value).split())


def check_website(value: str, limits: Limits) -> str | None:
    website = clean_line(value)
    if not website:
        return None
    if "://" not in website and not website.lower().startswith(("http:", "https:")):
        website = "https://" + website
    if len(website) > limits.website_max:  # counted with the scheme: that is what is stored
        raise Invalid(
            "website",
            N_(
                "The website address is too long (at most {limit} characters).",
                limit=limits.website_max,
            ),
        )
    try:  # urlsplit and .port raise ValueError on "[" without "]" or a port out of range
        parts = urlsplit(website)
        ok = parts.scheme in ("http", "https") and "." in (parts.hostname or "")
        ok = ok and parts.port != 0 and not any(c.isspace() for c in parts.netloc)
        # "user:password@host" hides the real host from a reader: not a homepage address.
        ok = ok and "@" not in parts.netloc
    except ValueError:
        ok = False
    if not ok:
        raise Invalid("website", N_("The website must be an http:// or https:// address."))
    return website


def check_body(value: str, limits: Limits) -> str:
    body = clean_text(value).strip()
    if not body:
        raise Invalid("body", N_("Please write a comment before posting."))
    if len(body) > limits.body_max:
        raise Invalid(
            "body",
            N_(
                "The comment is {length:,} characters long; the limit is {limit:,}.",
                length=len(body),
                limit=limits.body_max,
            ),
        )
    return body


def check_name(value: str, limits: Limits) -> str:
    name = clean_line(value)
    if not name:
        raise Invalid("name", N_("Please give a name to sign the comment with."))
    if len(name) > limits.name_max:
        raise Invalid(
            "name",
            N_("The name is too long (at most {limit} characters).", limit=limits.name_max),
        )
    return name


def check_email(value: str, limits: Limits) -> str:
    email = clean_line(value)
    if not email:
        raise Invalid("email", N_("Please give an email address; it will not be published."))
    if len(email) > limits.email_max or not _EMAIL.match(email):
        raise Invalid("email", N_("This does not look like an email address (name@example.org)."))
    return email


def validate_comment(raw: CommentInput, limits: Limits) -> CleanComment:
    """Check every field and report every problem at once, in form order."""
    errors: list[Invalid] = []
    values: dict[str, object] = {}
    checks = (
        ("body", check_body, raw.body),
        ("name", check_name, raw.name),
        ("email", check_email, raw.email),
        ("website", check_website, raw.website),
    )
    for key, check, value in checks:
        try:
            values[key] = check(value, limits)
        except Invalid as error:
            errors.append(error)
    if errors:
        raise InvalidMany(errors)
    return CleanComment(
        body=str(values["body"]),
        name=str(values["name"]),
        email=str(values["email"]),
        website=values["website"] if isinstance(values["website"], str) else None,
        parent_id=raw.parent_id,
        notify_replies=raw.notify_replies,
        follow=raw.follow,
    )


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(title: str) -> str:
    """A URL slug from a title: ASCII letters and digits joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    return "-".join(words)[:80].strip("-") or "article"


def check_slug(slug: str) -> str:
    if not _SLUG.match(slug) or len(slug) > 120:
        raise Invalid("slug", "A slug is lowercase letters, digits and single hyphens.")
    return slug
