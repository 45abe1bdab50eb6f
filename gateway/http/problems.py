"""Errors as RFC 9457 problem documents: a 4xx that names the field, never a 500 for bad input,
and a 503 with ``Retry-After`` while the store cannot be reached."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.limits import FAILURE_LOG_INTERVAL, RateLimitedLog
from mailboxes.errors import StoreError

__all__ = [
    "PROBLEM_JSON",
    "Problem",
    "ProblemDocument",
    "install_problem_handlers",
    "problem_response",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STORE_RETRY_SECONDS = 30
"""``Retry-After`` of a request the store could not serve (a database restarting)."""

_TITLES = {
    400: "Solicitud inválida",
    401: "Autenticación requerida",
    403: "Acceso denegado",
    404: "No encontrado",
    405: "Método no permitido",
    409: "Conflicto",
    413: "Contenido demasiado grande",
    415: "Tipo de contenido no soportado",
    422: "Datos inválidos",
    429: "Demasiadas solicitudes",
    502: "Sin respuesta de un servicio vecino",
    503: "Servicio no disponible por ahora",
    507: "Almacenamiento insuficiente",
}


class ProblemDocument(BaseModel):
    """The body of every 4xx (and 5xx) the API sends, for the OpenAPI document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = Field(
        default=None, description="El parámetro o la parte del cuerpo en falta (query.wait...)"
    )
    errors: list[dict[str, str]] | None = Field(
        default=None, description="Cada campo inválido, cuando son varios"
    )


class Problem(Exception):
    """A request the API refuses; ``field`` names the offending parameter or body part."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.headers = headers or {}


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(
            exc.status,
            exc.detail,
            instance=request.url.path,
            field=exc.field,
            headers=exc.headers,
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "field": ".".join(str(part) for part in error.get("loc", ())),
                "detail": str(error.get("msg", "")),
            }
            for error in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "detail": "solicitud inválida"}
        return problem_response(
            422,
            f"{first['field']}: {first['detail']}",
            instance=request.url.path,
            field=first["field"],
            errors=errors,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(
            exc.status_code,
            str(exc.detail),
            instance=request.url.path,
            headers=dict(exc.headers or {}),
        )

    store_failures = RateLimitedLog(FAILURE_LOG_INTERVAL)

    async def on_store_failure(request: Request, exc: Exception) -> JSONResponse:
        # Every request meets the same outage: one traceback a minute says it.
        store_failures.exception(
            log,
            asyncio.get_running_loop().time(),
            "HTTP %s %s: the store failed",
            request.method,
            request.url.path,
            error=exc,
        )
        return problem_response(
            503,
            "los buzones de la aduana no responden por ahora; intente de nuevo en unos segundos",
            instance=request.url.path,
            headers={"Retry-After": str(STORE_RETRY_SECONDS)},
        )

    for failure in StoreError:
        app.add_exception_handler(failure, on_store_failure)
    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
