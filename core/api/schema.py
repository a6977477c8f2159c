"""The OpenAPI document's additions to drf-spectacular, through its public hooks:
the error answers of every operation, ids in paths, descriptions in French only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

from core.selectors.notifications import MAX_ID


class Schema(AutoSchema):
    """An operation is described by its ``extend_schema`` summary and description
    (translated), never by the code's docstrings (English, for developers)."""

    def get_description(self) -> str:
        return ""


ERROR_COMPONENT = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "Le message, en français."},
        "errors": {
            "type": "object",
            "description": "Par champ refusé, les raisons.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail"],
}
ERRORS = {
    "400": "Valeurs refusées (par champ dans «\u00a0errors\u00a0»).",
    "401": "Jeton absent, invalide ou révoqué.",
    "403": "Action non permise sur un objet visible.",
    "404": "Objet introuvable ou non visible par l'appelant.",
    "429": "Trop de requêtes avec ce jeton, ou trop de mises à jour d'une tâche.",
}


def document_errors(result: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """drf-spectacular's post-processing hook: the error answers on every operation;
    an id in a path is a positive bigint (what ``BoundedIds`` accepts)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Erreur"] = ERROR_COMPONENT
    reference = {"$ref": "#/components/schemas/Erreur"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "id":
                    parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
