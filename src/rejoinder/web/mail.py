"""Mail composed from the outbox's rows: the plain-text and HTML parts from the templates in
`templates/mail/` in the site's language (their strings are in the catalogues), and headers
that no name, title or address can add to."""

from __future__ import annotations

import unicodedata
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import quote, urlencode

from rejoinder.core.models import Site
from rejoinder.core.outbox import OutboxMessage
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases.mail import CONFIRM
from rejoinder.usecases.notify import ALERTS, EVERY_DISCUSSION, REPLIES, unsubscribe_token
from rejoinder.usecases.privacy import LINK_HOURS, PRIVACY, privacy_token
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
        headers: dict[str, str] = {}
        if template == CONFIRM:
            subject = self._confirm(values, str(payload["to"]), site, language)
        elif template == REPLIES:
            subject = self._replies(values, site, language, headers)
        elif template == ALERTS:
            subject = self._alerts(values, site, language)
        elif template == PRIVACY:
            token = privacy_token(self._rt.secret_key, str(payload["to"]), site.id)
            values["link"] = self._rt.site_url(site, f"/privacy/{token}")
            values["link_hours"] = LINK_HOURS
            subject = language.gettext("Your data on %(site)s") % {"site": site.title}
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
        for name, value in headers.items():
            mail[name] = value
        mail.set_content(self._render(f"mail/{template}.txt", lang=lang, **context))
        mail.add_alternative(
            self._render(f"mail/{template}.html", lang=lang, **context), subtype="html"
        )
        return mail

    def _confirm(self, values: dict[str, Any], to: str, site: Site, language: Language) -> str:
        article_id = values.get("article_id")
        token = confirmation_token(
            self._rt.secret_key, to, site.id, article_id if isinstance(article_id, int) else None
        )
        values["link"] = self._rt.site_url(site, f"/confirm/{token}")
        values["link_days"] = LINK_DAYS
        return language.gettext("Confirm your email address for %(site)s") % {"site": site.title}

    def _replies(
        self, values: dict[str, Any], site: Site, language: Language, headers: dict[str, str]
    ) -> str:
        title = str(values.get("article_title", ""))
        where = (str(values.get("slug", "")), values.get("page_url"))
        replies = list(values.get("replies", []))
        for reply in replies:
            reply["link"] = self._discussion_link(site, *where, int(reply["id"]))
        values["replies"] = replies
        values["discussion_link"] = self._discussion_link(site, *where, None)
        recipient = int(values["recipient"])
        secret = self._rt.secret_key
        thread = unsubscribe_token(secret, recipient, site.id, int(values["article_id"]))
        everything = unsubscribe_token(secret, recipient, site.id, EVERY_DISCUSSION)
        values["unsubscribe_thread"] = self._rt.site_url(site, f"/unsubscribe/{thread}")
        values["unsubscribe_all"] = self._rt.site_url(site, f"/unsubscribe/{everything}")
        # RFC 8058: a mail client's one-click POST to this link unsubscribes (RFC 2369's
        # angle brackets around it).
        headers["List-Unsubscribe"] = f"<{values['unsubscribe_thread']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if values.get("followed"):
            subject = language.ngettext(
                "A new comment on %(title)s", "%(num)d new comments on %(title)s", len(replies)
            )
        else:
            subject = language.ngettext(
                "A reply to your comment on %(title)s",
                "%(num)d replies to your comment on %(title)s",
                len(replies),
            )
        return subject % {"title": title, "num": len(replies)}

    def _discussion_link(
        self, site: Site, slug: str, page_url: object, comment_id: int | None
    ) -> str:
        """A reply on its page (the page that embeds the discussion, when hosted elsewhere)."""
        anchor = f"#comment-{comment_id}" if comment_id else "#comments"
        if isinstance(page_url, str) and page_url:
            return page_url + anchor
        return self._rt.site_url(site, f"/articles/{quote(slug)}{anchor}")

    def _alerts(self, values: dict[str, Any], site: Site, language: Language) -> str:
        items = list(values.get("items", []))
        where = {"held": "/admin", "reported": "/admin/reported"}
        for item in items:
            path = where.get(str(item.get("reason")), "/admin/all")
            item["link"] = self._rt.site_url(
                site, f"{path}?{urlencode({'site': site.name})}#item-{int(item['id'])}"
            )
        values["items"] = items
        values["settings_link"] = self._rt.site_url(
            site, f"/admin/notifications?{urlencode({'site': site.name})}"
        )
        return language.ngettext(
            "A comment on %(site)s waits for a moderator",
            "%(num)d comments on %(site)s wait for a moderator",
            len(items),
        ) % {"site": site.title, "num": len(items)}
