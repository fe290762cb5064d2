"""WordPress's export format, WXR 1.2 (RSS 2.0 with the `wp:` namespace), as WordPress
writes it and its importer reads it: the channel, then one `<item>` per discussion (a post,
by its page's URL) with one `<wp:comment>` per comment.

A comment carries `wp:comment_id` (its Rejoinder id: WordPress ids are numbers),
`wp:comment_parent` (0 at top level), the author's name, email (staff's own export only)
and website, `wp:comment_date` in the given time zone and `wp:comment_date_gmt` in UTC, the
body as HTML, and `wp:comment_approved`: 1 published, 0 held, `trash` rejected (WordPress
keeps a moderator's no in its bin). WordPress has no place holders: a "[deleted]" comment
goes as a published one with no author and the text "[deleted]", so its replies keep their
place.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from xml.sax.saxutils import escape, quoteattr

from rejoinder.core.exports.threads import ExportedComment, ExportedThread
from rejoinder.core.models import Status

WXR_VERSION = "1.2"
NAMESPACES = {
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "wp": "http://wordpress.org/export/1.2/",
}
DELETED = "[deleted]"
_APPROVED = {
    Status.PUBLISHED: "1",
    Status.HELD: "0",
    Status.REJECTED: "trash",
    Status.DELETED: "1",
}


def _wp_date(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _rss_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _cdata(text: str) -> str:
    """Text as WordPress writes it, in CDATA (a "]]>" inside is split across two)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def head(title: str, link: str, language: str, now: datetime) -> str:
    spaces = "\n".join(f'  xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        "<!-- A WordPress eXtended RSS file (WXR 1.2) written by Rejoinder: WordPress's"
        " importer reads it (Tools, Import, WordPress). -->\n"
        f'<rss version="2.0"\n{spaces}>\n<channel>\n'
        f"  <title>{escape(title)}</title>\n"
        f"  <link>{escape(link)}</link>\n"
        "  <description></description>\n"
        f"  <pubDate>{_rss_date(now)}</pubDate>\n"
        f"  <language>{escape(language)}</language>\n"
        f"  <wp:wxr_version>{WXR_VERSION}</wp:wxr_version>\n"
        f"  <wp:base_site_url>{escape(link)}</wp:base_site_url>\n"
        f"  <wp:base_blog_url>{escape(link)}</wp:base_blog_url>\n"
        "  <generator>Rejoinder</generator>\n"
    )


def tail() -> str:
    return "</channel>\n</rss>\n"


def _comment(item: ExportedComment, zone: tzinfo, with_emails: bool) -> str:
    comment = item.comment
    deleted = comment.status is Status.DELETED
    name = "" if deleted else comment.author_name
    email = comment.author_email if with_emails and not deleted else ""
    website = "" if deleted else comment.author_website or ""
    body = f"<p>{DELETED}</p>" if deleted else comment.body_html
    return (
        "    <wp:comment>\n"
        f"      <wp:comment_id>{comment.id}</wp:comment_id>\n"
        f"      <wp:comment_author>{_cdata(name)}</wp:comment_author>\n"
        f"      <wp:comment_author_email>{_cdata(email)}</wp:comment_author_email>\n"
        f"      <wp:comment_author_url>{escape(website)}</wp:comment_author_url>\n"
        "      <wp:comment_author_IP></wp:comment_author_IP>\n"
        f"      <wp:comment_date>{_cdata(_wp_date(comment.created_at, zone))}</wp:comment_date>\n"
        f"      <wp:comment_date_gmt>{_cdata(_wp_date(comment.created_at, UTC))}"
        "</wp:comment_date_gmt>\n"
        f"      <wp:comment_content>{_cdata(body)}</wp:comment_content>\n"
        f"      <wp:comment_approved>{_cdata(_APPROVED[comment.status])}</wp:comment_approved>\n"
        f"      <wp:comment_type>{_cdata('comment')}</wp:comment_type>\n"
        f"      <wp:comment_parent>{item.parent_number}</wp:comment_parent>\n"
        "      <wp:comment_user_id>0</wp:comment_user_id>\n"
        "    </wp:comment>\n"
    )


def item(thread: ExportedThread, zone: tzinfo, *, with_emails: bool) -> str:
    article = thread.article
    published = article.published_at
    comments = "".join(_comment(c, zone, with_emails) for c in thread.comments)
    return (
        "  <item>\n"
        f"    <title>{_cdata(thread.title)}</title>\n"
        f"    <link>{escape(thread.address)}</link>\n"
        f"    <pubDate>{_rss_date(published)}</pubDate>\n"
        f"    <dc:creator>{_cdata(article.author)}</dc:creator>\n"
        f"    <guid isPermaLink={quoteattr('false')}>{escape(thread.address)}</guid>\n"
        "    <description></description>\n"
        f"    <content:encoded>{_cdata('')}</content:encoded>\n"
        f"    <excerpt:encoded>{_cdata('')}</excerpt:encoded>\n"
        f"    <wp:post_id>{article.id}</wp:post_id>\n"
        f"    <wp:post_date>{_cdata(_wp_date(published, zone))}</wp:post_date>\n"
        f"    <wp:post_date_gmt>{_cdata(_wp_date(published, UTC))}</wp:post_date_gmt>\n"
        f"    <wp:post_modified>{_cdata(_wp_date(published, zone))}</wp:post_modified>\n"
        f"    <wp:post_modified_gmt>{_cdata(_wp_date(published, UTC))}</wp:post_modified_gmt>\n"
        f"    <wp:comment_status>{_cdata('open' if article.comments_open else 'closed')}"
        "</wp:comment_status>\n"
        f"    <wp:ping_status>{_cdata('closed')}</wp:ping_status>\n"
        f"    <wp:post_name>{_cdata(article.slug)}</wp:post_name>\n"
        f"    <wp:status>{_cdata('publish')}</wp:status>\n"
        "    <wp:post_parent>0</wp:post_parent>\n"
        "    <wp:menu_order>0</wp:menu_order>\n"
        f"    <wp:post_type>{_cdata('post')}</wp:post_type>\n"
        f"    <wp:post_password>{_cdata('')}</wp:post_password>\n"
        "    <wp:is_sticky>0</wp:is_sticky>\n"
        f"{comments}"
        "  </item>\n"
    )
