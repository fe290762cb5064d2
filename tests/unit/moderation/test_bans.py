"""Bans by email, email domain, IP, IP group and name; expired bans are ignored."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rejoinder.core.moderation.models import Action, Ban, BanKind, Policy
from rejoinder.core.moderation.phases import bans
from tests.unit.moderation.submissions import NOW, submission


def banned_codes(*ban_list: Ban, **fields: str) -> list[str]:
    found = bans.check(submission(bans=ban_list, **fields), Policy())
    assert all(s.action is Action.REFUSE for s in found)
    return [s.code for s in found]


@pytest.mark.parametrize(
    ("ban", "fields"),
    [
        (Ban(BanKind.EMAIL, "ada@example.org"), {}),
        (Ban(BanKind.EMAIL, "ADA@Example.org"), {"email": "ada@EXAMPLE.org"}),
        (Ban(BanKind.EMAIL_DOMAIN, "example.org"), {}),
        (Ban(BanKind.EMAIL_DOMAIN, "@example.org"), {}),
        (Ban(BanKind.EMAIL_DOMAIN, "example.org"), {"email": "x@mail.example.org"}),
        (Ban(BanKind.IP, "ip-1"), {}),
        (Ban(BanKind.IP_GROUP, "group-1"), {}),
        (Ban(BanKind.NAME, "Ada Byrne"), {}),
        (Ban(BanKind.NAME, "ada byrne"), {"name": "АDА  BYRNE"}),  # Cyrillic А, extra space
    ],
)
def test_a_ban_in_force_refuses(ban: Ban, fields: dict[str, str]) -> None:
    assert banned_codes(ban, **fields) == [f"banned_{ban.kind.value}"]


@pytest.mark.parametrize(
    "ban",
    [
        Ban(BanKind.EMAIL, "ada@example.com"),
        Ban(BanKind.EMAIL_DOMAIN, "ample.org"),  # not a parent domain of example.org
        Ban(BanKind.EMAIL_DOMAIN, "org.example"),
        Ban(BanKind.IP, "ip-2"),
        Ban(BanKind.IP_GROUP, "group-2"),
        Ban(BanKind.NAME, "Ada"),
        Ban(BanKind.EMAIL, ""),
    ],
)
def test_a_ban_on_someone_else_does_not_refuse(ban: Ban) -> None:
    assert banned_codes(ban) == []


def test_expired_bans_are_ignored_and_bans_until_later_still_hold() -> None:
    expired = Ban(BanKind.EMAIL, "ada@example.org", until=NOW - timedelta(seconds=1))
    ending_now = Ban(BanKind.IP, "ip-1", until=NOW)
    later = Ban(BanKind.IP_GROUP, "group-1", until=NOW + timedelta(days=2))
    assert banned_codes(expired, ending_now, later) == ["banned_ip_group"]


def test_the_message_says_what_is_banned_and_until_when() -> None:
    ban = Ban(BanKind.EMAIL_DOMAIN, "example.org", until=NOW + timedelta(days=7), reason="spam")
    [signal] = bans.check(submission(bans=(ban,)), Policy())
    assert signal.message == (
        "addresses at this email domain are banned from commenting until 13 May 2024, "
        "12:00 UTC (spam)"
    )
    [forever] = bans.check(submission(bans=(Ban(BanKind.EMAIL, "ada@example.org"),)), Policy())
    assert forever.message == "this email address is banned from commenting"
