"""The OpenAPI document declares the error shape wherever an operation can be refused: a route
added without the shared `responses` of its group fails here rather than in schemathesis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rejoinder.settings import Settings
from rejoinder.web.app import create_app

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorOut"}


def _document(tmp_path: Path) -> dict[str, Any]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'doc.db'}"))
    return app.openapi()


def test_every_operation_with_input_declares_422_in_the_error_shape(tmp_path: Path) -> None:
    doc = _document(tmp_path)
    missing = []
    checked = 0
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if not (operation.get("parameters") or operation.get("requestBody")):
                continue
            checked += 1
            declared = operation["responses"].get("422", {})
            schema = declared.get("content", {}).get("application/json", {}).get("schema")
            if schema != ERROR_SCHEMA:
                missing.append(f"{method.upper()} {path}: {declared or 'no 422'}")
    assert checked >= 12, checked
    assert not missing, "\n".join(missing)


def test_the_error_shape_is_error_field_and_message(tmp_path: Path) -> None:
    schema = _document(tmp_path)["components"]["schemas"]["ErrorOut"]
    assert set(schema["properties"]) == {"error", "field", "message"}
    assert set(schema["required"]) == {"error", "field", "message"}


def test_admin_operations_declare_401(tmp_path: Path) -> None:
    doc = _document(tmp_path)
    lacking = [
        f"{method.upper()} {path}"
        for path, operations in doc["paths"].items()
        if path.startswith("/api/v1/admin/")
        for method, operation in operations.items()
        if "401" not in operation["responses"]
    ]
    assert not lacking, lacking


def test_admin_operations_declare_their_success_bodies(tmp_path: Path) -> None:
    """Every 200/201 of /api/v1/admin names a model with properties, so schemathesis's
    response_schema_conformance checks what the handlers (which build their JSON themselves)
    really send."""
    doc = _document(tmp_path)
    schemas = doc["components"]["schemas"]
    bare = []
    checked = 0
    for path, operations in doc["paths"].items():
        if not path.startswith("/api/v1/admin/"):
            continue
        for method, operation in operations.items():
            answers = operation["responses"]
            assert {"200", "201", "204"} & set(answers), f"{method.upper()} {path}"
            success = [s for s in ("200", "201") if s in answers]  # a 204 has no body
            for status in success:
                checked += 1
                content = operation["responses"][status].get("content", {})
                schema = content.get("application/json", {}).get("schema", {})
                name = schema.get("$ref", "").rsplit("/", 1)[-1]
                if not name or not schemas.get(name, {}).get("properties"):
                    bare.append(f"{method.upper()} {path} {status}: {schema}")
    assert checked >= 8, checked
    assert not bare, "\n".join(bare)


def test_the_public_thread_says_featured_and_pinned(tmp_path: Path) -> None:
    comment = _document(tmp_path)["components"]["schemas"]["CommentOut"]
    assert {"featured", "pinned"} <= set(comment["required"])
