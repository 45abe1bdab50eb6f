"""The ASGI application: the integration API under ``/api`` and the office console at ``/``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from edi_formats.models import DUA, OE
from gateway.http import api, console
from gateway.http.auth import Sessions
from gateway.http.body_limit import BodyLimit
from gateway.http.context import HttpContext
from gateway.http.problems import PROBLEM_JSON, ProblemDocument, install_problem_handlers
from gateway.http.security_headers import SecurityHeaders
from gateway.http.submit import RecentSubmissions

__all__ = ["create_app"]

_REF = "#/components/schemas/{model}"


def create_app(context: HttpContext) -> FastAPI:
    app = FastAPI(
        title="Teledespacho",
        summary="Interfaz de integración y consola de la aduana",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.context = context
    app.state.sessions = Sessions()
    app.state.submitted = RecentSubmissions()
    install_problem_handlers(app)
    console.install_login_redirect(app)
    app.include_router(api.router)
    app.include_router(console.router)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)  # added last: the outermost, on every answer
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the JSON body of ``POST /api/declarations`` described by the
    same pydantic models (DUA, OE) the formats parse it with."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    _, definitions = models_json_schema(
        [(DUA, "validation"), (OE, "validation")],
        ref_template=_REF,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(definitions.get("$defs", {}))
    _problems_for_errors(document)
    body = document["paths"]["/api/declarations"]["post"]["requestBody"]["content"]
    body["application/json"]["schema"] = {
        "oneOf": [
            {"$ref": "#/components/schemas/DUA"},
            {"$ref": "#/components/schemas/OE"},
        ]
    }
    app.openapi_schema = document
    return document


def _problems_for_errors(document: dict[str, Any]) -> None:
    """Each operation's errors as they are sent: problem+json (``ProblemDocument``), not
    FastAPI's default 422 body (``HTTPValidationError``), which this API never sends."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = ProblemDocument.model_json_schema(ref_template=_REF)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    answer = {"content": {PROBLEM_JSON: {"schema": {"$ref": _REF.format(model="Problem")}}}}
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses["422"] = {"description": "Datos inválidos (el campo en falta)", **answer}
            responses["4XX"] = {"description": "Solicitud rechazada", **answer}
