"""Mail composed from the outbox's rows: the plain-text and HTML parts from the templates in
`templates/mail/` in the site's language (their strings are in the catalogues), and headers
that no name, title or address can add to."""

from __future__ import annotations

import unicodedata
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from rejoinder.core.models import Site
from rejoinder.core.outbox import OutboxMessage
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases.mail import CONFIRM
from rejoinder.usecases.verification import LINK_DAYS, confirmation_token
from rejoinder.usecases.webhooks import PAUSED_TEMPLATE
from rejoinder.web.i18n import Language
from rejoinder.web.rendering import Renderer

# CR and LF are refused in any header by this policy; the text put in headers is cleaned
# before that (`header_text`), so a hostile name is shown harmlessly rather than refused.
MAIL_POLICY = policy.SMTP


def header_text(value: str) -> str:
    """Text for a header: control characters (CR and LF among them) become spaces, and the
    start of an RFC 2047 encoded word ("=?") is broken with a word joiner, since the email
    package would otherwise decode one typed by a writer into raw characters."""
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in value)
    return " ".join(cleaned.replace("=?", "=\u2060?").split())


class MailComposer:
    """Turns an outbox row of kind "mail" into the message to send."""

    def __init__(self, rt: Runtime, render: Renderer, languages: dict[str, Language]) -> None:
        self._rt = rt
        self._render = render
        self._languages = languages

    def _site(self, site_id: int) -> Site:
        for site in self._rt.sites.all():
            if site.id == site_id:
                return site
        return self._rt.default_site

    def __call__(self, message: OutboxMessage) -> EmailMessage:
        payload = message.payload
        site = self._site(int(payload["site_id"]))
        lang = site.language if site.language in self._languages else "en"
        language = self._languages[lang]
        template = str(payload["template"])
        values = dict(payload.get("values", {}))
        if template == CONFIRM:
            article_id = values.get("article_id")
            token = confirmation_token(
                self._rt.secret_key,
                str(payload["to"]),
                site.id,
                article_id if isinstance(article_id, int) else None,
            )
            values["link"] = self._rt.site_url(site, f"/confirm/{token}")
            values["link_days"] = LINK_DAYS
            subject = language.gettext("Confirm your email address for %(site)s") % {
                "site": site.title
            }
        elif template == PAUSED_TEMPLATE:
            values["link"] = self._rt.site_url(site, f"/admin/webhooks?site={site.name}")
            values["name"] = ""
            subject = language.gettext("A webhook of %(site)s was paused") % {"site": site.title}
        else:
            raise LookupError(f"no mail template named {template!r}")
        context = {**values, "site_title": site.title, "subject": subject, "site": site}
        mail = EmailMessage(policy=MAIL_POLICY)
        sender_name, sender_address = parseaddr(self._rt.settings.smtp_from)
        mail["From"] = Address(header_text(sender_name), addr_spec=sender_address)
        mail["To"] = Address(addr_spec=str(payload["to"]))
        mail["Subject"] = header_text(subject)
        mail["Date"] = format_datetime(utcnow())
        mail["Message-ID"] = message.message_id
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(self._render(f"mail/{template}.txt", lang=lang, **context))
        mail.add_alternative(
            self._render(f"mail/{template}.html", lang=lang, **context), subtype="html"
        )
        return mail
