"""Storage-level tests: numbering under concurrency, durability, query counts, caches."""

from __future__ import annotations

from typing import Any

import httpx

# The server tests' helpers, shared rather than copied.
from tests import comment_payload, walk

__all__ = ["comment_count", "comment_payload", "walk", "whole_thread"]


def whole_thread(base_url: str, slug: str) -> list[dict[str, Any]]:
    """Every top-level comment of an article (with its replies), following the cursor."""
    roots: list[dict[str, Any]] = []
    cursor: int | None = None
    with httpx.Client(base_url=base_url, timeout=10) as http:
        while True:
            params = {"sort": "oldest", **({"cursor": str(cursor)} if cursor else {})}
            response = http.get(f"/api/v1/articles/{slug}/comments", params=params)
            assert response.status_code == 200, response.text
            data = response.json()
            roots.extend(data["comments"])
            cursor = data["next_cursor"]
            if cursor is None:
                return roots


def comment_count(base_url: str, slug: str) -> int:
    response = httpx.get(f"{base_url}/api/v1/articles/{slug}", timeout=10)
    assert response.status_code == 200, response.text
    return int(response.json()["comment_count"])
