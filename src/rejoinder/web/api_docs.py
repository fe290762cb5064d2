"""The API's documentation as a plain page made from the OpenAPI document, served by the
package itself (no script, nothing from another origin), with the document beside it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
_METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/api/v1/docs")
async def api_docs(request: Request) -> HTMLResponse:
    document = request.app.openapi()
    return HTMLResponse(
        request.app.state.render(
            "api_docs.html", document=document, operations=operations(document)
        )
    )


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation of the document, in its order: method, path, summary, parameters and
    the status codes it answers with."""
    out = []
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            out.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tags": operation.get("tags", []),
                    "parameters": [
                        {
                            "name": p.get("name", ""),
                            "where": p.get("in", ""),
                            "required": bool(p.get("required")),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "body": "requestBody" in operation,
                    "responses": sorted(operation.get("responses", {})),
                }
            )
    return out
