"""The moderators' desk: its pages under /admin and its JSON API under /api/v1/admin.

Its modules are imported when the desk is first used (web/deferred.py), not when the app is
made: readers' pages and the widget never wait for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter

PREFIXES = ("/admin", "/api/v1/admin")


def routers() -> list[APIRouter]:
    """Every desk module's router, in the order the app tries them."""
    from rejoinder.web.desk import (
        activity,
        articles,
        audit,
        bans,
        login,
        notify,
        outbox,
        policy,
        privacy,
        queue,
        queue_api,
        site_models,
        sites,
        webhooks,
    )

    return [
        login.router,
        queue.router,
        queue_api.router,
        audit.router,
        activity.router,
        policy.router,
        site_models.router,
        articles.router,
        bans.router,
        sites.router,
        notify.router,
        privacy.router,
        webhooks.router,
        outbox.router,
    ]
