"""The OpenAPI document against a real server: schemathesis sends every operation requests
generated from the document (valid ones, then invalid ones), and each response must be no
5xx, with a status code, content type and body the document declares for that operation.

The budget is bounded (a few examples per operation, a fixed seed, no deadline, no shrinking)
so the run sends the same requests every time and does not depend on the machine's speed.

Left out, on purpose:
- schemathesis's positive_data_acceptance check (ST202). The schema declares what validation
  refuses by form (visible text, the email and slug forms, lengths, enums, the cursor), but
  some refusals depend on content or state that no schema can say: moderation refusing a
  comment, a ban kind that needs a value, a policy's thresholds out of order, a comment that
  was already approved. Those answer 409 or 422, which the document declares.
- The live streams (`.../events`): an answer that never ends cannot be validated as a
  whole; tests/app/test_live.py and tests/server/test_live.py read them.
- Stateful testing (links between operations): it chains posts, edits and desk actions whose
  answers depend on rate limits and on the order of earlier calls, not on the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Databases, Server, add_staff, add_token

Operation = APIOperation[Any, Any, Any, Any]
EXAMPLES = 8  # per operation and mode
ADMIN_TOKEN = "test-admin-token"  # the settings' token, which POST /api/v1/articles takes
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class Target:
    server: Server
    staff_token: str  # an admin's API token, which /api/v1/admin takes
    slug: str
    comment_id: int


@pytest.fixture(scope="module")
def target(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    tmp: Path = tmp_path_factory.mktemp("contract")
    db_url = databases.new()
    # Moderation on, so /api/v1/moderation/check answers; the rules alone, without the model,
    # keep each check cheap.
    env = {"REJOINDER_MODERATION": "true", "REJOINDER_MODERATION_MODEL": "false"}
    server = Server(db_url, env=env, log=tmp / "server.log").start()
    try:
        add_staff(db_url, "adm", "admin")
        token = add_token(db_url, "adm")
        with httpx.Client(base_url=server.url, timeout=30) as http:
            article = http.post(
                "/api/v1/articles",
                json={"title": "The contract", "body": "A paragraph to discuss."},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            assert article.status_code == 201, article.text
            slug = str(article.json()["slug"])
            comment = http.post(
                f"/api/v1/articles/{slug}/comments",
                json={"body": "A first comment.", "name": "Ada", "email": "ada@example.org"},
            )
            assert comment.status_code in (201, 202), comment.text
        yield Target(server, token, slug, int(comment.json()["id"]))
    finally:
        server.stop()


def _run(operation: Operation, mode: GenerationMode, target: Target) -> None:
    """Up to EXAMPLES generated requests to one operation; raises at the first failure."""

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same requests every run
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure is reported as is
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case[Operation]) -> None:
        # The article and the comment that exist, so reads and actions reach past the 404.
        if "slug" in case.path_parameters:
            case.path_parameters["slug"] = target.slug
        if "comment_id" in case.path_parameters:
            case.path_parameters["comment_id"] = target.comment_id
        token = target.staff_token if case.path.startswith("/api/v1/admin") else ADMIN_TOKEN
        case.call_and_validate(
            base_url=target.server.url,
            headers={"Authorization": f"Bearer {token}"},
            checks=CHECKS,
            timeout=30,
        )

    run()


def _describe(error: BaseException) -> str:
    if isinstance(error, FailureGroup):
        return "; ".join(f"{f.title}: {f.message}" for f in error.exceptions)
    return str(error)


def test_every_operation_keeps_to_the_document(target: Target) -> None:
    schema = schemathesis.openapi.from_url(target.server.url + "/api/v1/openapi.json", timeout=30)
    failures: list[str] = []
    tried = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation schemathesis cannot read is a failure too
            failures.append(str(result.err()))
            continue
        operation = result.ok()
        if operation.path.endswith("/events"):
            continue  # a live stream stays open by design: tests/app/test_live.py
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            tried += 1
            try:
                _run(operation, mode, target)
            except Unsatisfiable:  # nothing to get wrong: no parameters, no body
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (AssertionError, FailureGroup) as error:  # all failures are reported
                failures.append(f"{operation.label} ({mode.value}): {_describe(error)}")
    assert tried >= 30, tried
    assert not failures, "\n\n".join(failures)


def test_a_405_allows_every_method_of_its_path(target: Target) -> None:
    # FastAPI makes one route per method: GET and POST share this path as two routes.
    response = httpx.delete(f"{target.server.url}/api/v1/articles/{target.slug}/comments")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["error"] == "method_not_allowed"
