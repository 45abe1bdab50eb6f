"""The ASGI application: the integration API under ``/api`` and the office console at ``/``."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.http import api, console
from gateway.http.auth import Sessions
from gateway.http.context import HttpContext
from gateway.http.problems import install_problem_handlers
from gateway.http.submit import RecentSubmissions

__all__ = ["create_app"]


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
    app.include_router(api.router)
    app.include_router(console.router)
    return app
