"""Every /api/v1 operation in /openapi.json declares a 2xx JSON response schema with content."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return dict(spec["components"]["schemas"][ref.rsplit("/", 1)[1]])
    return schema


def _success_schemas(spec: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for code, response in operation.get("responses", {}).items():
        if code.startswith("2"):
            for media in response.get("content", {}).values():
                out.append(_resolve(spec, media.get("schema") or {}))
    return out


def test_every_api_operation_has_a_non_empty_success_schema_with_an_example(sqlite_client: TestClient) -> None:
    spec = sqlite_client.get("/openapi.json").json()
    operations = [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in item.items()
        if method in METHODS
    ]
    assert len(operations) >= 11
    missing = [
        f"{m} {p}" for m, p, op in operations if not any(s.get("properties") for s in _success_schemas(spec, op))
    ]
    assert not missing, f"no 2xx response schema with properties: {missing}"
    no_example = [
        f"{m} {p}" for m, p, op in operations if not any(s.get("examples") for s in _success_schemas(spec, op))
    ]
    assert not no_example, f"no example in the 2xx response schema: {no_example}"


def test_the_checker_sees_an_untyped_operation() -> None:
    """A dict[str, Any] response (FastAPI's empty schema) counts as missing."""
    untyped = {"responses": {"200": {"content": {"application/json": {"schema": {}}}}}}
    assert not any(s.get("properties") for s in _success_schemas({}, untyped))
