"""Storage-level tests: numbering under concurrency, durability, query counts, caches."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx

ADMIN_HEADERS = {"Authorization": "Bearer test-admin-token"}


def publish(base_url: str, **fields: Any) -> dict[str, Any]:
    """Publish an article on a running server through the admin API; returns its JSON."""
    payload: dict[str, Any] = {
        "title": f"Store article {uuid.uuid4().hex[:10]}",
        "body": "A paragraph.\n\nAnother one.",
    }
    payload.update(fields)
    response = httpx.post(
        base_url + "/api/v1/articles", json=payload, headers=ADMIN_HEADERS, timeout=10
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def comment_payload(**fields: Any) -> dict[str, Any]:
    """A valid comment for the API; `fields` override or add."""
    payload: dict[str, Any] = {
        "body": f"A comment {uuid.uuid4().hex[:8]}.",
        "name": "Ada Reader",
        "email": "ada@example.org",
    }
    payload.update(fields)
    return payload


def walk(comments: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every comment of an API tree, parents before their replies."""
    for comment in comments:
        yield comment
        yield from walk(comment["replies"])


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
