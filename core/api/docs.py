"""/api/v1/docs/: the API's documentation, a page of the site read from the
OpenAPI document (the one /api/v1/schema/ serves).

Not Swagger UI nor Redoc: both are JavaScript bundles fetched from a CDN, which
the site's Content-Security-Policy refuses (scripts from this site only) and the
organisation's network cannot reach; drf-spectacular-sidecar, which serves them
locally, is not a dependency. A server-rendered page needs no script, is in
French and in the site's layout, and passes the accessibility checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.generators import SchemaGenerator


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # path, query
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Parameter] = field(default_factory=list)
    body: list[Parameter] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return self.method.lower() + self.path.replace("/", "-").replace("{", "").replace("}", "")


@cache
def schema() -> dict[str, Any]:
    """The OpenAPI document, generated once per process (it depends on the code only)."""
    document: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return document


def operations(document: dict[str, Any]) -> list[Operation]:
    components = document.get("components", {}).get("schemas", {})
    return [
        Operation(
            method=method.upper(),
            path=path,
            summary=operation.get("summary", ""),
            description=operation.get("description", ""),
            parameters=[_parameter(p) for p in operation.get("parameters", [])],
            body=_body(operation, components),
            responses=[
                (code, r.get("description", "")) for code, r in operation["responses"].items()
            ],
        )
        for path, methods in document.get("paths", {}).items()
        for method, operation in methods.items()
    ]


def _type(spec: dict[str, Any]) -> str:
    if "enum" in spec:
        return " | ".join(str(value) for value in spec["enum"] if value not in ("", None))
    if spec.get("type") == "array":
        return f"[{_type(spec.get('items', {}))}]"
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    if "allOf" in spec or "oneOf" in spec:
        return " | ".join(_type(item) for item in spec.get("allOf", spec.get("oneOf", [])))
    return str(spec.get("format") or spec.get("type") or "")


def _parameter(spec: dict[str, Any]) -> Parameter:
    return Parameter(
        name=spec["name"],
        where=spec["in"],
        type=_type(spec.get("schema", {})),
        required=bool(spec.get("required")),
        description=spec.get("description", ""),
    )


def _body(operation: dict[str, Any], components: dict[str, Any]) -> list[Parameter]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    reference = content.get("schema", {}).get("$ref", "")
    component = components.get(reference.rsplit("/", 1)[-1], {}) if reference else {}
    required = set(component.get("required", []))
    return [
        Parameter(
            name=name,
            where="body",
            type=_type(spec),
            required=name in required,
            description=spec.get("description", ""),
        )
        for name, spec in component.get("properties", {}).items()
    ]


@login_required
@require_GET
def documentation(request: HttpRequest) -> HttpResponse:
    document = schema()
    context = {"info": document["info"], "operations": operations(document)}
    return render(request, "core/api_docs.html", context)
