"""The integration API and the office console over HTTP (FastAPI on uvicorn, in the node's loop)."""

from gateway.http.context import HttpContext
from gateway.http.server import HttpListenError, HttpServer

__all__ = ["HttpContext", "HttpListenError", "HttpServer"]
